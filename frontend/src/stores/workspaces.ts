import { create } from 'zustand';
import type { Channel, Id, Workspace, WorkspaceMember } from '../api/types';

export interface WorkspacesState {
  workspaces: Workspace[];
  loaded: boolean;
  channels: Record<Id, Channel>;
  /** Workspace id → members. */
  members: Record<Id, WorkspaceMember[]>;
  /** Channel id → member user ids, loaded on demand (DM names, mention autocomplete). */
  channelMembers: Record<Id, Id[]>;

  setWorkspaces(list: Workspace[]): void;
  upsertWorkspace(ws: Workspace): void;
  setChannels(workspaceId: Id, channels: Channel[]): void;
  upsertChannel(channel: Partial<Channel> & Pick<Channel, 'id'>): void;
  setMembership(channelId: Id, isMember: boolean): void;
  setMembers(workspaceId: Id, members: WorkspaceMember[]): void;
  addMember(workspaceId: Id, member: WorkspaceMember): void;
  /** Replaces a member's entry (role changes) or adds it. */
  updateMember(workspaceId: Id, member: WorkspaceMember): void;
  removeMember(workspaceId: Id, userId: Id): void;
  /** Forgets a workspace the user left or was removed from, with its channels. */
  removeWorkspace(workspaceId: Id): void;
  setChannelMembers(channelId: Id, userIds: Id[]): void;
  addChannelMember(channelId: Id, userId: Id): void;
  removeChannelMember(channelId: Id, userId: Id): void;
  /** Counts a new message from someone else in a channel the user is not looking at. */
  bumpUnread(channelId: Id, mentioned: boolean): void;
  markRead(channelId: Id, messageId: Id | null): void;
  reset(): void;
}

const initial = () => ({ workspaces: [], loaded: false, channels: {}, members: {}, channelMembers: {} });

export const useWorkspaces = create<WorkspacesState>()((set) => ({
  ...initial(),

  setWorkspaces(list) {
    set({ workspaces: [...list].sort((a, b) => a.created_at.localeCompare(b.created_at)), loaded: true });
  },

  upsertWorkspace(ws) {
    set((s) => {
      const rest = s.workspaces.filter((w) => w.id !== ws.id);
      const old = s.workspaces.find((w) => w.id === ws.id);
      return { workspaces: [...rest, { ...old, ...ws }].sort((a, b) => a.created_at.localeCompare(b.created_at)) };
    });
  },

  setChannels(workspaceId, list) {
    set((s) => {
      const channels: Record<Id, Channel> = {};
      for (const [id, ch] of Object.entries(s.channels)) if (ch.workspace_id !== workspaceId) channels[id] = ch;
      for (const ch of list) channels[ch.id] = { ...ch, workspace_id: ch.workspace_id ?? workspaceId };
      return { channels };
    });
  },

  upsertChannel(channel) {
    set((s) => {
      const old = s.channels[channel.id];
      if (!old && !channel.workspace_id) return s;
      return { channels: { ...s.channels, [channel.id]: { ...(old ?? {}), ...channel } as Channel } };
    });
  },

  setMembership(channelId, isMember) {
    set((s) => {
      const ch = s.channels[channelId];
      if (!ch) return s;
      return { channels: { ...s.channels, [channelId]: { ...ch, is_member: isMember } } };
    });
  },

  setMembers(workspaceId, members) {
    set((s) => ({ members: { ...s.members, [workspaceId]: members } }));
  },

  addMember(workspaceId, member) {
    set((s) => {
      const list = s.members[workspaceId];
      if (!list || list.some((m) => m.user_id === member.user_id)) return s;
      return { members: { ...s.members, [workspaceId]: [...list, member] } };
    });
  },

  updateMember(workspaceId, member) {
    set((s) => {
      const list = s.members[workspaceId];
      if (!list) return s;
      const rest = list.filter((m) => m.user_id !== member.user_id);
      const old = list.find((m) => m.user_id === member.user_id);
      return { members: { ...s.members, [workspaceId]: [...rest, { ...old, ...member }] } };
    });
  },

  removeMember(workspaceId, userId) {
    set((s) => {
      const list = s.members[workspaceId];
      if (!list || !list.some((m) => m.user_id === userId)) return s;
      return { members: { ...s.members, [workspaceId]: list.filter((m) => m.user_id !== userId) } };
    });
  },

  removeWorkspace(workspaceId) {
    set((s) => {
      const channels: Record<Id, Channel> = {};
      for (const [id, ch] of Object.entries(s.channels)) if (ch.workspace_id !== workspaceId) channels[id] = ch;
      const members = { ...s.members };
      delete members[workspaceId];
      return { workspaces: s.workspaces.filter((w) => w.id !== workspaceId), channels, members };
    });
  },

  setChannelMembers(channelId, userIds) {
    set((s) => ({ channelMembers: { ...s.channelMembers, [channelId]: userIds } }));
  },

  addChannelMember(channelId, userId) {
    set((s) => {
      const list = s.channelMembers[channelId];
      if (!list || list.includes(userId)) return s;
      return { channelMembers: { ...s.channelMembers, [channelId]: [...list, userId] } };
    });
  },

  removeChannelMember(channelId, userId) {
    set((s) => {
      const list = s.channelMembers[channelId];
      if (!list) return s;
      return { channelMembers: { ...s.channelMembers, [channelId]: list.filter((u) => u !== userId) } };
    });
  },

  bumpUnread(channelId, mentioned) {
    set((s) => {
      const ch = s.channels[channelId];
      if (!ch) return s;
      return {
        channels: {
          ...s.channels,
          [channelId]: {
            ...ch,
            unread_count: (ch.unread_count ?? 0) + 1,
            mention_count: (ch.mention_count ?? 0) + (mentioned ? 1 : 0),
          },
        },
      };
    });
  },

  markRead(channelId, messageId) {
    set((s) => {
      const ch = s.channels[channelId];
      if (!ch) return s;
      if (!ch.unread_count && !ch.mention_count && (messageId === null || ch.last_read_message_id === messageId)) return s;
      return {
        channels: {
          ...s.channels,
          [channelId]: {
            ...ch,
            unread_count: 0,
            mention_count: 0,
            last_read_message_id: messageId ?? ch.last_read_message_id ?? null,
          },
        },
      };
    });
  },

  reset() {
    set(initial());
  },
}));

/** Channels of a workspace split for the sidebar, each group sorted by name. */
export function sidebarChannels(channels: Record<Id, Channel>, workspaceId: Id | null) {
  const inWs = Object.values(channels).filter((c) => c.workspace_id === workspaceId && !c.archived);
  const byName = (a: Channel, b: Channel) => a.name.localeCompare(b.name);
  return {
    channels: inWs.filter((c) => (c.kind === 'public' || c.kind === 'private') && c.is_member !== false).sort(byName),
    dms: inWs.filter((c) => c.kind === 'dm' || c.kind === 'group_dm').sort((a, b) => b.created_at.localeCompare(a.created_at)),
    browsable: inWs.filter((c) => c.kind === 'public' && c.is_member === false).sort(byName),
  };
}
