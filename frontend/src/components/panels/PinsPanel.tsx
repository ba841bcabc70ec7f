import { useEffect, useState } from 'react';
import type { Message } from '../../api/types';
import { Markdown } from '../../lib/markdownRender';
import { formatFull } from '../../lib/time';
import { ensureUsers, jumpToMessage, loadPins } from '../../stores/actions';
import { useMessages } from '../../stores/messages';
import { activeIds, useUi } from '../../stores/ui';
import { displayName, useUsers } from '../../stores/users';
import { useMentionContext } from '../MessageItem';
import { PanelFrame } from './RightPanel';

export function PinsPanel() {
  const channelId = useUi((s) => activeIds(s.route).channelId);
  // A string, so that reloading the list (which records the pins again) does not trigger a reload.
  const pinnedKey = useMessages((s) => Object.keys((channelId ? s.pinned[channelId] : undefined) ?? {}).sort().join(','));
  const [pins, setPins] = useState<Message[] | null>(null);
  const users = useUsers((s) => s.users);
  const ctx = useMentionContext();

  useEffect(() => {
    if (!channelId) return;
    let live = true;
    void loadPins(channelId).then((list) => {
      if (!live) return;
      setPins(list);
      ensureUsers(list.map((m) => m.author_id));
    });
    return () => {
      live = false;
    };
  }, [channelId, pinnedKey]);

  return (
    <PanelFrame title="Pinned messages" testId="pins-panel">
      {!pins ? (
        <p className="p-4 text-sm text-zinc-500">Loading…</p>
      ) : pins.length === 0 ? (
        <p className="p-4 text-sm text-zinc-500">Nothing is pinned yet. Pin a message from its hover menu.</p>
      ) : (
        <ul role="list" className="divide-y divide-zinc-100 dark:divide-zinc-800">
          {pins.map((m) => (
            <li key={m.id}>
              <button type="button" className="block w-full px-4 py-3 text-left hover:bg-zinc-50 dark:hover:bg-zinc-900" onClick={() => void jumpToMessage(m.channel_id, m.id)} data-testid="pinned-item">
                <div className="text-xs text-zinc-500">
                  <b className="text-zinc-800 dark:text-zinc-200">{displayName(users, m.author_id)}</b> · {formatFull(m.created_at)}
                </div>
                <div className="text-sm">
                  <Markdown text={m.text} ctx={ctx} />
                </div>
              </button>
            </li>
          ))}
        </ul>
      )}
    </PanelFrame>
  );
}
