import type { AppNotification, Channel, Id, Message, PresenceStatus, ServerFrame, User, WorkspaceMember } from '../api/types';
import { useAuth } from './auth';
import { useMessages } from './messages';
import { useNotifications } from './notifications';
import { useUsers } from './users';
import { useWorkspaces } from './workspaces';

export interface EventHooks {
  /** True when the user is looking at this channel right now (active and the window focused). */
  isViewing(channelId: Id): boolean;
  /** Moves the read marker of a channel being viewed. */
  markRead(channelId: Id, messageId: Id): void;
  /** Loads profiles that are not cached yet. */
  ensureUsers(ids: Id[]): void;
  /** Something changed that the channel list endpoint knows better (e.g. joined a channel we have not seen). */
  reloadChannels(workspaceId: Id | null): void;
  /** The user was removed from the channel they are looking at. */
  leftChannel(channelId: Id): void;
  /** The user left or was removed from a workspace. */
  leftWorkspace?(workspaceId: Id): void;
  /** A notification arrived (once per notification), with the head of its message's text. */
  notified?(notification: AppNotification, preview: string, authorId: Id | undefined): void;
}

const SPECIAL_MENTION = /(^|[^\w])@(channel|here|everyone)(?![\w-])/;

/** Whether a message should count towards the user's mention badge. */
export function mentionsUser(message: Message, userId: Id, channel: Channel | undefined): boolean {
  if (channel && (channel.kind === 'dm' || channel.kind === 'group_dm')) return true;
  if (message.mentions?.includes(userId)) return true;
  if (message.text?.includes(`<@${userId}>`)) return true;
  return SPECIAL_MENTION.test(message.text ?? '');
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
const obj = <T>(v: unknown): T | undefined => (v && typeof v === 'object' ? (v as T) : undefined);

/**
 * Returns a function applying one server frame to the stores. Unknown types are ignored and
 * duplicates are harmless: messages are keyed by id and reactions are applied idempotently.
 */
export function createEventHandler(hooks: EventHooks) {
  // Message ids already counted towards unread badges, so a replayed or double-delivered event
  // (or our own HTTP echo) never counts twice even for channels whose history is not loaded.
  const counted = new Set<Id>();
  const remember = (id: Id) => {
    counted.add(id);
    if (counted.size > 5000) counted.delete(counted.values().next().value as Id);
  };

  /** DMs are named after their members: record the ones an event brings, and load their profiles. */
  const noteMembers = (channel: Channel) => {
    if (!Array.isArray(channel.member_ids) || (channel.kind !== 'dm' && channel.kind !== 'group_dm')) return;
    useWorkspaces.getState().setChannelMembers(channel.id, channel.member_ids);
    hooks.ensureUsers(channel.member_ids);
  };

  return function applyEvent(frame: ServerFrame): void {
    const data = (frame.data ?? {}) as Record<string, unknown>;
    const self = useAuth.getState().user?.id ?? null;

    switch (frame.type) {
      case 'message.created': {
        const message = obj<Message>(data.message);
        if (!message?.id || !message.channel_id) return;
        const isNew = useMessages.getState().receive(message);
        useUsers.getState().clearTyping(message.channel_id, message.author_id);
        hooks.ensureUsers([message.author_id]);
        if (!isNew || counted.has(message.id)) return;
        remember(message.id);
        if (message.thread_root_id || message.author_id === self || !self) return;
        if (hooks.isViewing(message.channel_id)) {
          hooks.markRead(message.channel_id, message.id);
        } else {
          const channel = useWorkspaces.getState().channels[message.channel_id];
          useWorkspaces.getState().bumpUnread(message.channel_id, mentionsUser(message, self, channel));
        }
        return;
      }
      case 'message.updated': {
        const message = obj<Message>(data.message);
        if (!message?.id) return;
        if (message.deleted) useMessages.getState().markDeleted(message.id);
        else useMessages.getState().receive(message);
        return;
      }
      case 'message.deleted': {
        const id = str(obj<Message>(data.message)?.id) ?? str(data.message_id) ?? str(data.id);
        if (id) useMessages.getState().markDeleted(id);
        return;
      }
      case 'reaction.added':
      case 'reaction.removed': {
        const messageId = str(data.message_id);
        const emoji = str(data.emoji);
        const userId = str(data.user_id);
        if (messageId && emoji && userId) {
          useMessages.getState().applyReaction(messageId, emoji, userId, frame.type === 'reaction.added');
        }
        return;
      }
      case 'pin.added':
      case 'pin.removed': {
        const channelId = str(data.channel_id);
        const messageId = str(data.message_id);
        if (channelId && messageId) useMessages.getState().togglePinned(channelId, messageId, frame.type === 'pin.added');
        return;
      }
      case 'channel.created':
      case 'channel.updated': {
        const channel = obj<Channel>(data.channel);
        if (!channel?.id) return;
        const known = useWorkspaces.getState().channels[channel.id];
        // The event carries no per-user state: keep what we know; a channel we created is ours; a
        // public one someone else created is not (until a member_joined says so).
        const isMember =
          channel.is_member ?? known?.is_member ?? (channel.kind !== 'public' || (!!self && channel.created_by === self));
        useWorkspaces.getState().upsertChannel({ ...channel, is_member: isMember });
        noteMembers(channel);
        return;
      }
      case 'channel.member_joined':
      case 'channel.member_left': {
        const channelId = str(data.channel_id) ?? str(obj<Channel>(data.channel)?.id);
        const userId = str(data.user_id);
        if (!channelId || !userId) return;
        const joined = frame.type === 'channel.member_joined';
        const ws = useWorkspaces.getState();
        const channel = obj<Channel>(data.channel);
        if (channel?.id) {
          // The event's channel carries no per-user state: keep what we know, and never list a
          // public channel someone else joined as one of ours.
          const known = ws.channels[channel.id];
          const isMember = known?.is_member ?? (userId === self ? joined : channel.kind !== 'public');
          ws.upsertChannel({ ...channel, is_member: isMember });
          noteMembers(channel);
        }
        if (joined) ws.addChannelMember(channelId, userId);
        else ws.removeChannelMember(channelId, userId);
        if (userId === self) {
          if (!ws.channels[channelId] && !channel) hooks.reloadChannels(str(data.workspace_id) ?? null);
          useWorkspaces.getState().setMembership(channelId, joined);
          if (!joined) hooks.leftChannel(channelId);
        } else {
          hooks.ensureUsers([userId]);
        }
        return;
      }
      case 'read_marker.updated': {
        const channelId = str(data.channel_id);
        const userId = str(data.user_id);
        // Markers of other people (read receipts) do not move our badges.
        if (!channelId || (userId && userId !== self)) return;
        useWorkspaces.getState().markRead(channelId, str(data.message_id) ?? null);
        return;
      }
      case 'typing': {
        const channelId = str(data.channel_id);
        const userId = str(data.user_id);
        if (channelId && userId && userId !== self) {
          useUsers.getState().setTyping(channelId, userId);
          hooks.ensureUsers([userId]);
        }
        return;
      }
      case 'presence.changed': {
        const userId = str(data.user_id);
        const status = str(data.status) as PresenceStatus | undefined;
        if (userId && status) useUsers.getState().setPresence({ [userId]: status === 'invisible' ? 'offline' : status });
        return;
      }
      case 'user.updated': {
        const user = obj<User>(data.user);
        if (user?.id) {
          useUsers.getState().upsertUsers([user]);
          if (user.id === self) useAuth.getState().setUser({ ...useAuth.getState().user!, ...user });
        }
        return;
      }
      case 'workspace.member_joined': {
        const workspaceId = str(data.workspace_id);
        const member = obj<WorkspaceMember>(data.member);
        const userId = str(data.user_id) ?? member?.user_id;
        if (!workspaceId || !userId) return;
        useWorkspaces.getState().addMember(workspaceId, {
          user_id: userId,
          role: member?.role ?? 'member',
          joined_at: member?.joined_at ?? new Date().toISOString(),
        });
        const user = obj<User>(data.user);
        if (user?.id) useUsers.getState().upsertUsers([user]);
        else hooks.ensureUsers([userId]);
        return;
      }
      case 'workspace.member_updated': {
        const workspaceId = str(data.workspace_id);
        const member = obj<WorkspaceMember>(data.member);
        const userId = str(data.user_id) ?? member?.user_id;
        if (!workspaceId || !userId || !member?.role) return;
        useWorkspaces.getState().updateMember(workspaceId, { ...member, user_id: userId });
        if (userId === self) {
          const ws = useWorkspaces.getState().workspaces.find((w) => w.id === workspaceId);
          if (ws) useWorkspaces.getState().upsertWorkspace({ ...ws, role: member.role });
        }
        return;
      }
      case 'workspace.member_left': {
        const workspaceId = str(data.workspace_id);
        const userId = str(data.user_id) ?? obj<WorkspaceMember>(data.member)?.user_id;
        if (!workspaceId || !userId) return;
        if (userId === self) {
          useWorkspaces.getState().removeWorkspace(workspaceId);
          hooks.leftWorkspace?.(workspaceId);
        } else {
          useWorkspaces.getState().removeMember(workspaceId, userId);
        }
        return;
      }
      case 'notification': {
        const n = obj<AppNotification>(data.notification) ?? obj<AppNotification>(data);
        if (!n?.id || !n.kind) return;
        const known = useNotifications.getState().items.some((item) => item.id === n.id);
        useNotifications.getState().add({ ...n, read: !!n.read });
        if (!known) hooks.notified?.({ ...n, read: !!n.read }, str(data.preview) ?? '', str(data.author_id));
        return;
      }
      default:
        // Unknown event types are ignored so that newer servers stay compatible.
        return;
    }
  };
}
