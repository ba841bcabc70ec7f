import { create } from 'zustand';
import type { AppNotification, Id } from '../api/types';

export interface NotificationsState {
  items: AppNotification[];
  loaded: boolean;
  setAll(items: AppNotification[]): void;
  add(item: AppNotification): void;
  markRead(ids: Id[] | 'all'): void;
  reset(): void;
}

export const useNotifications = create<NotificationsState>()((set) => ({
  items: [],
  loaded: false,
  /**
   * The inbox as fetched. A fetch answered after a live `notification` frame arrived does not
   * know that notification yet: what only the live side has is kept, and read wins.
   */
  setAll(items) {
    set((s) => {
      const fetched = new Set(items.map((n) => n.id));
      const known = new Map(s.items.map((n) => [n.id, n]));
      const merged = [
        ...s.items.filter((n) => !fetched.has(n.id)),
        ...items.map((n) => (known.get(n.id)?.read ? { ...n, read: true } : n)),
      ].sort((a, b) => b.created_at.localeCompare(a.created_at));
      return { items: merged, loaded: true };
    });
  },
  add(item) {
    set((s) => (s.items.some((n) => n.id === item.id) ? s : { items: [item, ...s.items] }));
  },
  markRead(ids) {
    set((s) => ({ items: s.items.map((n) => (ids === 'all' || ids.includes(n.id) ? { ...n, read: true } : n)) }));
  },
  reset() {
    set({ items: [], loaded: false });
  },
}));

export const unreadNotificationCount = (items: AppNotification[]) => items.filter((n) => !n.read).length;
