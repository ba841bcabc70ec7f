import { create } from 'zustand';
import type { User } from '../api/types';

export type AuthStatus = 'unknown' | 'anonymous' | 'authenticated';

export interface AuthState {
  status: AuthStatus;
  user: User | null;
  setUser(user: User): void;
  setAnonymous(): void;
}

export const useAuth = create<AuthState>()((set) => ({
  status: 'unknown',
  user: null,
  setUser(user) {
    set({ user, status: 'authenticated' });
  },
  setAnonymous() {
    set({ user: null, status: 'anonymous' });
  },
}));

export const selfId = () => useAuth.getState().user?.id ?? null;
