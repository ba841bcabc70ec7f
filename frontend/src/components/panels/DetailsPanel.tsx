import { useEffect, useState } from 'react';
import { errorMessage } from '../../api/client';
import { channelsApi } from '../../api/endpoints';
import { leaveChannel, loadChannelMembers, loadPresence, openDm } from '../../stores/actions';
import { useAuth } from '../../stores/auth';
import { activeIds, useUi } from '../../stores/ui';
import { useUsers } from '../../stores/users';
import { useWorkspaces } from '../../stores/workspaces';
import { Avatar } from '../ui/Avatar';
import { ChannelNotifications } from './ChannelNotifications';
import { PanelFrame } from './RightPanel';

export function DetailsPanel() {
  // Two selectors: one returning a fresh object would re-render forever.
  const workspaceId = useUi((s) => activeIds(s.route).workspaceId);
  const channelId = useUi((s) => activeIds(s.route).channelId);
  const channel = useWorkspaces((s) => (channelId ? s.channels[channelId] : undefined));
  const members = useWorkspaces((s) => (channelId ? s.channelMembers[channelId] : undefined));
  const users = useUsers((s) => s.users);
  const presence = useUsers((s) => s.presence);
  const self = useAuth((s) => s.user?.id);
  const navigate = useUi((s) => s.navigate);
  const [topic, setTopic] = useState(channel?.topic ?? '');
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    if (!channelId) return;
    void loadChannelMembers(channelId)
      .then((ids) => loadPresence(ids))
      .catch(() => undefined);
  }, [channelId]);

  if (!channel || !channelId) return null;
  const isDm = channel.kind === 'dm' || channel.kind === 'group_dm';

  return (
    <PanelFrame title={isDm ? 'Conversation details' : `#${channel.name}`} testId="details-panel">
      {!isDm && (
        <form
          className="border-b border-zinc-200 p-4 dark:border-zinc-800"
          onSubmit={(e) => {
            e.preventDefault();
            channelsApi
              .update(channelId, { topic })
              .then((ch) => {
                useWorkspaces.getState().upsertChannel(ch);
                setMessage('Topic saved.');
              })
              .catch((err) => setMessage(errorMessage(err)));
          }}
        >
          <label className="block text-sm font-medium">
            Topic
            <input className="input mt-1" value={topic} onChange={(e) => setTopic(e.target.value)} />
          </label>
          <div className="mt-2 flex items-center gap-2">
            <button type="submit" className="btn btn-secondary">Save topic</button>
            {channel.is_member !== false && (
              <button
                type="button"
                className="btn btn-secondary"
                onClick={() =>
                  leaveChannel(channelId)
                    .then(() => navigate({ name: 'app', workspaceId, channelId: null }))
                    .catch((err) => setMessage(errorMessage(err)))
                }
              >
                Leave channel
              </button>
            )}
          </div>
          {message && <p className="mt-2 text-xs text-zinc-600 dark:text-zinc-400" role="status">{message}</p>}
        </form>
      )}
      {channel.is_member !== false && <ChannelNotifications channelId={channelId} />}
      <h3 className="px-4 pt-3 text-sm font-semibold">Members {members ? `(${members.length})` : ''}</h3>
      <ul role="list" className="py-2" data-testid="member-list">
        {(members ?? []).map((id) => {
          const u = users[id];
          return (
            <li key={id}>
              <button
                type="button"
                className="flex w-full items-center gap-2 px-4 py-1.5 text-left hover:bg-zinc-50 dark:hover:bg-zinc-900"
                onClick={() => {
                  if (id === self || !workspaceId) return;
                  void openDm(workspaceId, [id]).then((ch) => navigate({ name: 'app', workspaceId, channelId: ch.id }));
                }}
              >
                <Avatar user={u} id={id} size="md" presence={presence[id] ?? 'offline'} />
                <span className="min-w-0">
                  <span className="block truncate text-sm font-medium">
                    {u?.display_name ?? '…'} {id === self && <span className="text-zinc-500">(you)</span>}
                  </span>
                  {(u?.title || u?.status_text) && (
                    <span className="block truncate text-xs text-zinc-500">
                      {u?.status_emoji} {u?.status_text || u?.title}
                    </span>
                  )}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </PanelFrame>
  );
}
