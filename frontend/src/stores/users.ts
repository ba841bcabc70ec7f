import { create } from 'zustand';
import type { Id, PresenceStatus, User } from '../api/types';

export const TYPING_TTL_MS = 6_000;

export interface UsersState {
  users: Record<Id, User>;
  presence: Record<Id, PresenceStatus>;
  /** Channel id → user id → epoch ms until which the user counts as typing. */
  typing: Record<Id, Record<Id, number>>;

  upsertUsers(users: User[]): void;
  setPresence(map: Record<Id, PresenceStatus>): void;
  setTyping(channelId: Id, userId: Id, now?: number): void;
  clearTyping(channelId: Id, userId: Id): void;
  pruneTyping(now?: number): void;
  reset(): void;
}

const initial = () => ({ users: {}, presence: {}, typing: {} });

export const useUsers = create<UsersState>()((set) => ({
  ...initial(),

  upsertUsers(list) {
    if (!list.length) return;
    set((s) => {
      const users = { ...s.users };
      for (const u of list) if (u && u.id) users[u.id] = { ...users[u.id], ...u };
      return { users };
    });
  },

  setPresence(map) {
    set((s) => ({ presence: { ...s.presence, ...map } }));
  },

  setTyping(channelId, userId, now = Date.now()) {
    set((s) => ({ typing: { ...s.typing, [channelId]: { ...s.typing[channelId], [userId]: now + TYPING_TTL_MS } } }));
  },

  clearTyping(channelId, userId) {
    set((s) => {
      if (!s.typing[channelId]?.[userId]) return s;
      const inChannel = { ...s.typing[channelId] };
      delete inChannel[userId];
      return { typing: { ...s.typing, [channelId]: inChannel } };
    });
  },

  pruneTyping(now = Date.now()) {
    set((s) => {
      let changed = false;
      const typing: UsersState['typing'] = {};
      for (const [ch, map] of Object.entries(s.typing)) {
        const kept = Object.fromEntries(Object.entries(map).filter(([, until]) => until > now));
        if (Object.keys(kept).length !== Object.keys(map).length) changed = true;
        typing[ch] = kept;
      }
      return changed ? { typing } : s;
    });
  },

  reset() {
    set(initial());
  },
}));

/** Display name with a stable fallback while the profile is loading. */
export function displayName(users: Record<Id, User>, id: Id): string {
  return users[id]?.display_name || `user-${id.slice(-4)}`;
}

export function typingNames(typing: Record<Id, number> | undefined, selfId: Id | null, now = Date.now()): Id[] {
  if (!typing) return [];
  return Object.entries(typing)
    .filter(([id, until]) => id !== selfId && until > now)
    .map(([id]) => id);
}
