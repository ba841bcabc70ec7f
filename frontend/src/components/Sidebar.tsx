import { useMemo } from 'react';
import type { Channel, Id } from '../api/types';
import { logout } from '../stores/actions';
import { useAuth } from '../stores/auth';
import { activeIds, useUi } from '../stores/ui';
import { displayName, useUsers } from '../stores/users';
import { sidebarChannels, useWorkspaces } from '../stores/workspaces';
import { useNotifications, unreadNotificationCount } from '../stores/notifications';
import { Avatar, PresenceDot } from './ui/Avatar';
import { Icon } from './ui/Icon';

/** The name to show for a channel: #name, or the other people's names for DMs. */
export function useChannelLabel(channel: Channel | undefined): string {
  const members = useWorkspaces((s) => (channel ? s.channelMembers[channel.id] : undefined));
  const users = useUsers((s) => s.users);
  const self = useAuth((s) => s.user?.id);
  if (!channel) return '';
  return channelLabel(channel, members, users, self ?? null);
}

export function channelLabel(channel: Channel, members: Id[] | undefined, users: ReturnType<typeof useUsers.getState>['users'], self: Id | null): string {
  if (channel.kind !== 'dm' && channel.kind !== 'group_dm') return channel.name;
  members = members ?? channel.member_ids;
  const others = (members ?? []).filter((id) => id !== self);
  if (!others.length) return members?.length ? `${displayName(users, self ?? '')} (you)` : channel.name || 'Direct message';
  return others.map((id) => displayName(users, id)).join(', ');
}

export function Sidebar() {
  const route = useUi((s) => s.route);
  const { workspaceId, channelId } = activeIds(route);
  const workspace = useWorkspaces((s) => s.workspaces.find((w) => w.id === workspaceId));
  const allChannels = useWorkspaces((s) => s.channels);
  const { channels, dms } = useMemo(() => sidebarChannels(allChannels, workspaceId), [allChannels, workspaceId]);
  const openModal = useUi((s) => s.openModal);
  const openPanel = useUi((s) => s.openPanel);
  const user = useAuth((s) => s.user);
  const presence = useUsers((s) => (user ? s.presence[user.id] : undefined));
  const notifications = useNotifications((s) => unreadNotificationCount(s.items));

  return (
    <nav className="flex w-64 shrink-0 flex-col bg-aubergine-800 text-[15px] text-white/80" aria-label="Channels">
      <div className="flex h-12 items-center justify-between border-b border-white/10 px-4">
        <h1 className="truncate font-bold text-white" data-testid="workspace-name">{workspace?.name ?? 'Echo'}</h1>
        <div className="flex items-center gap-1">
          <button type="button" className="relative rounded p-1 hover:bg-white/10" aria-label="Notifications" data-testid="notifications-button" onClick={() => openPanel({ kind: 'notifications' })}>
            <Icon name="bell" />
            {notifications > 0 && <span className="absolute -top-0.5 -right-0.5 rounded-full bg-red-500 px-1 text-[10px] font-bold text-white">{notifications}</span>}
          </button>
          <button type="button" className="rounded p-1 hover:bg-white/10" aria-label="Invite people" data-testid="invite-button" onClick={() => openModal('invite')}>
            <Icon name="users" />
          </button>
          {(workspace?.role === 'owner' || workspace?.role === 'admin') && (
            <button type="button" className="rounded p-1 hover:bg-white/10" aria-label="Audit log" data-testid="audit-log-button" onClick={() => openModal('auditLog')}>
              <Icon name="lock" />
            </button>
          )}
        </div>
      </div>

      <div className="flex-1 overflow-y-auto py-3">
        <Section title="Channels" addLabel="Create channel" onAdd={() => openModal('createChannel')} testId="add-channel">
          <ul role="list" data-testid="channel-list">
            {channels.map((c) => (
              <ChannelRow key={c.id} channel={c} active={c.id === channelId} workspaceId={workspaceId!} />
            ))}
          </ul>
          <button type="button" className="mt-1 flex w-full items-center gap-2 rounded px-4 py-1 text-left text-white/60 hover:bg-white/10" onClick={() => openModal('browseChannels')} data-testid="browse-channels">
            <Icon name="search" className="h-3.5 w-3.5" /> Browse channels
          </button>
        </Section>
        <Section title="Direct messages" addLabel="New direct message" onAdd={() => openModal('newDm')} testId="add-dm">
          <ul role="list" data-testid="dm-list">
            {dms.map((c) => (
              <ChannelRow key={c.id} channel={c} active={c.id === channelId} workspaceId={workspaceId!} />
            ))}
          </ul>
        </Section>
      </div>

      {user && (
        <div className="flex items-center gap-2 border-t border-white/10 p-3">
          <button type="button" className="flex min-w-0 flex-1 items-center gap-2 rounded p-1 text-left hover:bg-white/10" onClick={() => openModal('profile')} aria-label="Profile and preferences" data-testid="profile-button">
            <Avatar user={user} id={user.id} size="md" presence={presence ?? 'online'} />
            <span className="min-w-0">
              <span className="block truncate text-sm font-semibold text-white">{user.display_name}</span>
              {user.status_text || user.status_emoji ? (
                <span className="block truncate text-xs text-white/60">
                  {user.status_emoji} {user.status_text}
                </span>
              ) : null}
            </span>
          </button>
          <button type="button" className="rounded p-1.5 hover:bg-white/10" aria-label="Log out" data-testid="logout" onClick={() => void logout()}>
            <Icon name="logout" />
          </button>
        </div>
      )}
    </nav>
  );
}

function Section({ title, addLabel, onAdd, children, testId }: { title: string; addLabel: string; onAdd: () => void; children: React.ReactNode; testId: string }) {
  return (
    <section className="mb-4">
      <div className="flex items-center justify-between px-4 pb-1">
        <h2 className="text-sm font-medium text-white/60">{title}</h2>
        <button type="button" className="rounded p-0.5 hover:bg-white/10" aria-label={addLabel} title={addLabel} onClick={onAdd} data-testid={testId}>
          <Icon name="plus" className="h-3.5 w-3.5" />
        </button>
      </div>
      {children}
    </section>
  );
}

function ChannelRow({ channel, active, workspaceId }: { channel: Channel; active: boolean; workspaceId: Id }) {
  const navigate = useUi((s) => s.navigate);
  const label = useChannelLabel(channel);
  const self = useAuth((s) => s.user?.id);
  const members = useWorkspaces((s) => s.channelMembers[channel.id]);
  const other = channel.kind === 'dm' ? members?.find((id) => id !== self) : undefined;
  const presence = useUsers((s) => (other ? s.presence[other] : undefined));
  const unread = channel.unread_count ?? 0;
  const mentions = channel.mention_count ?? 0;
  const isDm = channel.kind === 'dm' || channel.kind === 'group_dm';

  return (
    <li>
      <a
        href={`/w/${workspaceId}/${channel.id}`}
        onClick={(e) => {
          e.preventDefault();
          navigate({ name: 'app', workspaceId, channelId: channel.id });
        }}
        aria-current={active ? 'page' : undefined}
        data-testid="channel-link"
        data-channel-name={isDm ? undefined : channel.name}
        data-unread={unread}
        className={`mx-2 flex items-center gap-2 rounded-md px-2 py-1 ${active ? 'bg-slack-blue text-white' : unread ? 'font-bold text-white hover:bg-white/10' : 'hover:bg-white/10'}`}
      >
        <span className="flex w-4 shrink-0 justify-center opacity-70">
          {isDm ? (
            channel.kind === 'dm' ? <PresenceDot status={presence} className="ring-0!" /> : <Icon name="users" className="h-3.5 w-3.5" />
          ) : channel.kind === 'private' ? (
            <Icon name="lock" className="h-3.5 w-3.5" />
          ) : (
            <Icon name="hash" className="h-3.5 w-3.5" />
          )}
        </span>
        <span className="min-w-0 flex-1 truncate">{label}</span>
        {mentions > 0 ? (
          <span className="rounded-full bg-red-500 px-1.5 text-xs font-bold text-white" aria-label={`${mentions} mentions`} data-testid="mention-badge">
            {mentions}
          </span>
        ) : unread > 0 && !active ? (
          <span className="sr-only" data-testid="unread-badge">{unread} unread</span>
        ) : null}
      </a>
    </li>
  );
}
