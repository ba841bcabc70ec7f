import { useEffect, useState } from 'react';
import { errorMessage } from '../../api/client';
import { threadsApi, type FollowedThread } from '../../api/endpoints';
import { openThread } from '../../stores/actions';
import { activeIds, useUi } from '../../stores/ui';
import { useWorkspaces } from '../../stores/workspaces';

/** The threads the user follows in the current workspace, those with unread replies first in mind. */
export function FollowedThreads() {
  const workspaceId = useUi((s) => activeIds(s.route).workspaceId);
  const channels = useWorkspaces((s) => s.channels);
  const [threads, setThreads] = useState<FollowedThread[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!workspaceId) return;
    threadsApi
      .followed(workspaceId)
      .then((r) => setThreads(r.threads))
      .catch((e: unknown) => setError(errorMessage(e)));
  }, [workspaceId]);

  if (error) return <p role="alert" className="p-4 text-sm text-red-600">{error}</p>;
  if (!threads) return <p className="p-4 text-sm text-zinc-500">Loading…</p>;
  if (threads.length === 0) return <p className="p-4 text-sm text-zinc-500">You don’t follow any thread with replies yet.</p>;
  return (
    <ul role="list" className="divide-y divide-zinc-100 dark:divide-zinc-800" data-testid="followed-threads">
      {threads.map((t) => {
        const ch = channels[t.channel_id];
        return (
          <li key={t.root.id}>
            <button
              type="button"
              className="block w-full px-4 py-3 text-left hover:bg-zinc-50 dark:hover:bg-zinc-900"
              onClick={() => void openThread(t.root.id)}
              data-testid="followed-thread"
            >
              <div className="flex items-center gap-2 text-sm">
                {t.unread_replies > 0 && (
                  <span className="rounded-full bg-sky-600 px-1.5 text-xs font-semibold text-white" aria-label={`${t.unread_replies} unread replies`}>
                    {t.unread_replies}
                  </span>
                )}
                <span className="truncate font-semibold">{t.root.deleted ? 'Deleted message' : t.root.text}</span>
              </div>
              <div className="text-xs text-zinc-500">
                {ch && (ch.kind === 'public' || ch.kind === 'private') ? `#${ch.name} · ` : ''}
                {t.root.reply_count} {t.root.reply_count === 1 ? 'reply' : 'replies'}
              </div>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
