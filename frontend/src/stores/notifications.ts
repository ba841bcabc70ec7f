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
  setAll(items) {
    set({ items, loaded: true });
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
