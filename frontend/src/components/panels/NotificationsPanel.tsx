import { useEffect, useState } from 'react';
import { formatFull } from '../../lib/time';
import { jumpToMessage, loadNotifications, markNotificationsRead } from '../../stores/actions';
import { useNotifications } from '../../stores/notifications';
import { useWorkspaces } from '../../stores/workspaces';
import { FollowedThreads } from './FollowedThreads';
import { NotificationSettings } from './NotificationSettings';
import { PanelFrame } from './RightPanel';

const KIND_LABEL = { mention: 'Mentioned you', dm: 'Direct message', thread_reply: 'Replied in a thread', keyword: 'Keyword match' } as const;

/** The notification inbox, the followed threads (the Threads view) and the notification settings. */
export function NotificationsPanel() {
  const items = useNotifications((s) => s.items);
  const channels = useWorkspaces((s) => s.channels);
  const [view, setView] = useState<'inbox' | 'threads' | 'settings'>('inbox');

  useEffect(() => {
    void loadNotifications();
  }, []);

  return (
    <PanelFrame title="Notifications" testId="notifications-panel">
      <div className="flex items-center gap-3 border-b border-zinc-200 px-4 py-2 dark:border-zinc-800" role="tablist">
        {(['inbox', 'threads', 'settings'] as const).map((v) => (
          <button
            key={v}
            type="button"
            role="tab"
            aria-selected={view === v}
            className={`text-xs ${view === v ? 'font-semibold' : 'text-sky-700 hover:underline dark:text-sky-400'}`}
            onClick={() => setView(v)}
          >
            {v === 'inbox' ? 'Inbox' : v === 'threads' ? 'Threads' : 'Settings'}
          </button>
        ))}
        <span className="flex-1" />
        {view === 'inbox' && (
          <button type="button" className="text-xs text-sky-700 hover:underline dark:text-sky-400" onClick={() => void markNotificationsRead('all')}>
            Mark all as read
          </button>
        )}
      </div>
      {view === 'settings' ? (
        <NotificationSettings />
      ) : view === 'threads' ? (
        <FollowedThreads />
      ) : items.length === 0 ? (
        <p className="p-4 text-sm text-zinc-500">You’re all caught up.</p>
      ) : (
        <ul role="list" className="divide-y divide-zinc-100 dark:divide-zinc-800">
          {items.map((n) => {
            const ch = channels[n.channel_id];
            return (
              <li key={n.id}>
                <button
                  type="button"
                  className={`block w-full px-4 py-3 text-left hover:bg-zinc-50 dark:hover:bg-zinc-900 ${n.read ? 'opacity-70' : ''}`}
                  onClick={() => {
                    void markNotificationsRead([n.id]);
                    void jumpToMessage(n.channel_id, n.message_id).catch(() => undefined);
                  }}
                  data-testid="notification"
                >
                  <div className="flex items-center gap-2 text-sm font-semibold">
                    {!n.read && <span className="h-2 w-2 rounded-full bg-sky-600" aria-label="unread" />}
                    {KIND_LABEL[n.kind] ?? n.kind}
                  </div>
                  <div className="text-xs text-zinc-500">
                    {ch && (ch.kind === 'public' || ch.kind === 'private') ? `#${ch.name} · ` : ''}
                    {formatFull(n.created_at)}
                  </div>
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </PanelFrame>
  );
}
