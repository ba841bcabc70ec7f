import { useEffect, useMemo, useState } from 'react';
import { errorMessage } from '../../api/client';
import { joinChannel, loadChannels } from '../../stores/actions';
import { activeIds, useUi } from '../../stores/ui';
import { useWorkspaces } from '../../stores/workspaces';
import { Modal } from '../ui/Modal';

export function BrowseChannels({ onClose }: { onClose: () => void }) {
  const workspaceId = useUi((s) => activeIds(s.route).workspaceId);
  const navigate = useUi((s) => s.navigate);
  const all = useWorkspaces((s) => s.channels);
  const [filter, setFilter] = useState('');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (workspaceId) void loadChannels(workspaceId).catch(() => undefined);
  }, [workspaceId]);

  const list = useMemo(
    () =>
      Object.values(all)
        .filter((c) => c.workspace_id === workspaceId && c.kind === 'public' && c.name.includes(filter.toLowerCase()))
        .sort((a, b) => a.name.localeCompare(b.name)),
    [all, workspaceId, filter],
  );

  return (
    <Modal title="Browse channels" onClose={onClose} wide testId="browse-channels-modal">
      <input className="input mb-3" placeholder="Search channels" aria-label="Search channels" value={filter} onChange={(e) => setFilter(e.target.value)} />
      {error && <p className="field-error" role="alert">{error}</p>}
      <ul role="list" className="divide-y divide-zinc-100 dark:divide-zinc-800">
        {list.map((c) => (
          <li key={c.id} className="flex items-center justify-between gap-2 py-2" data-testid="browse-channel" data-channel-name={c.name}>
            <div className="min-w-0">
              <div className="font-semibold"># {c.name}</div>
              {c.topic && <div className="truncate text-xs text-zinc-500">{c.topic}</div>}
            </div>
            {c.is_member === false ? (
              <button
                type="button"
                className="btn btn-primary"
                onClick={() =>
                  joinChannel(c.id)
                    .then(() => {
                      onClose();
                      navigate({ name: 'app', workspaceId, channelId: c.id });
                    })
                    .catch((e) => setError(errorMessage(e)))
                }
              >
                Join
              </button>
            ) : (
              <button
                type="button"
                className="btn btn-secondary"
                onClick={() => {
                  onClose();
                  navigate({ name: 'app', workspaceId, channelId: c.id });
                }}
              >
                Open
              </button>
            )}
          </li>
        ))}
        {list.length === 0 && <li className="py-4 text-sm text-zinc-500">No channels found.</li>}
      </ul>
    </Modal>
  );
}
