import { create } from 'zustand';
import type { Id, Theme } from '../api/types';

export type RightPanel =
  | { kind: 'thread'; rootId: Id }
  | { kind: 'search'; query: string }
  | { kind: 'ai' }
  | { kind: 'pins' }
  | { kind: 'details' }
  | { kind: 'history'; messageId: Id }
  | { kind: 'notifications' }
  | null;

export type Modal = 'switcher' | 'createChannel' | 'browseChannels' | 'newDm' | 'invite' | 'auditLog' | 'profile' | 'createWorkspace' | null;

export type Route =
  | { name: 'login' }
  | { name: 'register' }
  | { name: 'invite'; code: string }
  | { name: 'app'; workspaceId: Id | null; channelId: Id | null };

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'login') return { name: 'login' };
  if (parts[0] === 'register') return { name: 'register' };
  if (parts[0] === 'invite' && parts[1]) return { name: 'invite', code: parts[1] };
  if (parts[0] === 'w' && parts[1]) return { name: 'app', workspaceId: parts[1], channelId: parts[2] ?? null };
  return { name: 'app', workspaceId: null, channelId: null };
}

export function routePath(route: Route): string {
  switch (route.name) {
    case 'login':
      return '/login';
    case 'register':
      return '/register';
    case 'invite':
      return `/invite/${encodeURIComponent(route.code)}`;
    case 'app':
      if (!route.workspaceId) return '/';
      return `/w/${encodeURIComponent(route.workspaceId)}${route.channelId ? `/${encodeURIComponent(route.channelId)}` : ''}`;
  }
}

export interface UiState {
  route: Route;
  rightPanel: RightPanel;
  modal: Modal;
  /** A message to scroll to and flash (search results, citations, pins). */
  highlightMessageId: Id | null;
  editingMessageId: Id | null;
  theme: Theme;
  /** Where to go after logging in (e.g. an invite link opened while logged out). */
  afterLogin: string | null;

  navigate(route: Route, replace?: boolean): void;
  syncFromLocation(): void;
  openPanel(panel: RightPanel): void;
  closePanel(): void;
  openModal(modal: Modal): void;
  closeModal(): void;
  setHighlight(id: Id | null): void;
  setEditing(id: Id | null): void;
  setTheme(theme: Theme): void;
  setAfterLogin(path: string | null): void;
}

const THEME_KEY = 'echo.theme';

function storedTheme(): Theme {
  try {
    const t = localStorage.getItem(THEME_KEY);
    return t === 'dark' || t === 'light' || t === 'system' ? t : 'system';
  } catch {
    return 'system';
  }
}

/** Applies Tailwind's class-based dark mode to <html>. */
export function applyTheme(theme: Theme): void {
  if (typeof document === 'undefined') return;
  const dark = theme === 'dark' || (theme === 'system' && window.matchMedia?.('(prefers-color-scheme: dark)').matches);
  document.documentElement.classList.toggle('dark', !!dark);
}

export const useUi = create<UiState>()((set, get) => ({
  route: typeof location !== 'undefined' ? parseRoute(location.pathname) : { name: 'app', workspaceId: null, channelId: null },
  rightPanel: null,
  modal: null,
  highlightMessageId: null,
  editingMessageId: null,
  theme: storedTheme(),
  afterLogin: null,

  navigate(route, replace = false) {
    const path = routePath(route);
    if (typeof history !== 'undefined' && location.pathname !== path) {
      if (replace) history.replaceState(null, '', path);
      else history.pushState(null, '', path);
    }
    const prev = get().route;
    const channelChanged = prev.name !== 'app' || route.name !== 'app' || prev.channelId !== route.channelId;
    set({ route, editingMessageId: channelChanged ? null : get().editingMessageId });
  },

  syncFromLocation() {
    set({ route: parseRoute(location.pathname) });
  },

  openPanel(panel) {
    set({ rightPanel: panel });
  },
  closePanel() {
    set({ rightPanel: null });
  },
  openModal(modal) {
    set({ modal });
  },
  closeModal() {
    set({ modal: null });
  },
  setHighlight(id) {
    set({ highlightMessageId: id });
  },
  setEditing(id) {
    set({ editingMessageId: id });
  },
  setTheme(theme) {
    try {
      localStorage.setItem(THEME_KEY, theme);
    } catch {
      /* ignore */
    }
    applyTheme(theme);
    set({ theme });
  },
  setAfterLogin(path) {
    set({ afterLogin: path });
  },
}));

export function activeIds(route: Route): { workspaceId: Id | null; channelId: Id | null } {
  return route.name === 'app' ? { workspaceId: route.workspaceId, channelId: route.channelId } : { workspaceId: null, channelId: null };
}
