import { create } from 'zustand';

/** A short-lived in-app alert, e.g. a notification that arrived while the tab is visible. */
export interface Toast {
  id: string;
  title: string;
  body: string;
  /** Runs when the toast is clicked (then it closes). */
  onOpen?: () => void;
}

export interface ToastsState {
  toasts: Toast[];
  push(toast: Toast): void;
  dismiss(id: string): void;
}

/** At most this many toasts show at once; older ones make room. */
const MAX_TOASTS = 3;

export const useToasts = create<ToastsState>()((set) => ({
  toasts: [],
  push(toast) {
    set((s) => (s.toasts.some((t) => t.id === toast.id) ? s : { toasts: [...s.toasts, toast].slice(-MAX_TOASTS) }));
  },
  dismiss(id) {
    set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) }));
  },
}));
