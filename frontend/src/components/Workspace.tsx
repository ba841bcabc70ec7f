import { lazy, Suspense, useEffect, useMemo } from 'react';
import type { Id } from '../api/types';
import { markChannelViewed, openChannel, openWorkspace, useRealtime } from '../stores/actions';
import { activeIds, useUi } from '../stores/ui';
import { useUsers } from '../stores/users';
import { sidebarChannels, useWorkspaces } from '../stores/workspaces';
import { ChannelView } from './ChannelView';
import { CreateWorkspaceForm } from './modals/CreateWorkspace';
import { Modals } from './modals/Modals';
import { RightPanel } from './panels/RightPanel';
import { Toasts } from './Toasts';
import { Sidebar } from './Sidebar';
import { WorkspaceRail } from './WorkspaceRail';

const LAST_WS = 'echo.lastWorkspace';
const lastChannelKey = (ws: Id) => `echo.lastChannel.${ws}`;

function remember(key: string, value: string) {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* ignore */
  }
}
function recall(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function Workspace() {
  const route = useUi((s) => s.route);
  const { workspaceId, channelId } = activeIds(route);
  const workspaces = useWorkspaces((s) => s.workspaces);
  const loaded = useWorkspaces((s) => s.loaded);
  const channels = useWorkspaces((s) => s.channels);
  const navigate = useUi((s) => s.navigate);
  // How many channels could be opened by default. Realtime events can list a workspace's channels
  // before we know we are a member of them, so the choice waits until one is ours.
  const pickable = useMemo(() => {
    const { channels: list, dms } = sidebarChannels(channels, workspaceId);
    return list.length + dms.length;
  }, [channels, workspaceId]);

  // Pick a workspace when the URL names none (or one we are not in).
  useEffect(() => {
    if (!loaded || !workspaces.length) return;
    if (workspaceId && workspaces.some((w) => w.id === workspaceId)) return;
    if (workspaceId && !workspaces.some((w) => w.id === workspaceId)) {
      // Possibly just joined: keep it if the channel list loads.
      void openWorkspace(workspaceId).catch(() => navigate({ name: 'app', workspaceId: workspaces[0].id, channelId: null }, true));
      return;
    }
    const last = recall(LAST_WS);
    const target = workspaces.find((w) => w.id === last) ?? workspaces[0];
    navigate({ name: 'app', workspaceId: target.id, channelId: null }, true);
  }, [loaded, workspaces, workspaceId, navigate]);

  useEffect(() => {
    if (!workspaceId) return;
    remember(LAST_WS, workspaceId);
    void openWorkspace(workspaceId).catch(() => undefined);
  }, [workspaceId]);

  // Pick a channel when none is selected: the last one visited, else #general.
  useEffect(() => {
    if (!workspaceId || channelId || !pickable) return;
    const { channels: list, dms } = sidebarChannels(useWorkspaces.getState().channels, workspaceId);
    const last = recall(lastChannelKey(workspaceId));
    const target = [...list, ...dms].find((c) => c.id === last) ?? list.find((c) => c.name === 'general') ?? list[0] ?? dms[0];
    if (target) navigate({ name: 'app', workspaceId, channelId: target.id }, true);
  }, [workspaceId, channelId, pickable, navigate]);

  useEffect(() => {
    if (!workspaceId || !channelId) return;
    remember(lastChannelKey(workspaceId), channelId);
    void openChannel(channelId).catch(() => undefined);
  }, [workspaceId, channelId]);

  useGlobalShortcuts();
  useConnectivity();
  useTypingPruner();

  if (loaded && !workspaces.length && !workspaceId) {
    return (
      <main className="flex h-full items-center justify-center p-4">
        <div className="w-full max-w-md rounded-lg border border-zinc-200 p-6 dark:border-zinc-800">
          <h1 className="mb-1 text-xl font-bold">Create your first workspace</h1>
          <p className="mb-4 text-sm text-zinc-600 dark:text-zinc-400">A workspace is where your team talks. You can invite people once it exists, or open an invite link you were sent.</p>
          <CreateWorkspaceForm />
        </div>
      </main>
    );
  }

  return (
    <div className="flex h-full overflow-hidden" data-testid="app">
      <WorkspaceRail />
      <Sidebar />
      <main className="flex min-w-0 flex-1 flex-col" aria-label="Messages">
        {channelId ? <ChannelView channelId={channelId} /> : <div className="flex-1" />}
      </main>
      <RightPanel />
      <Modals />
      <Toasts />
      <Suspense fallback={null}>
        <LazyProfileHost />
      </Suspense>
    </div>
  );
}

const ProfileModal = lazy(() => import('./modals/ProfileModal'));

function LazyProfileHost() {
  const modal = useUi((s) => s.modal);
  return modal === 'profile' ? <ProfileModal /> : null;
}

/** Ctrl/Cmd+K, Alt+Up/Down and Esc, wherever focus is. */
function useGlobalShortcuts() {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const ui = useUi.getState();
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        ui.openModal(ui.modal === 'switcher' ? null : 'switcher');
        return;
      }
      if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
        const { workspaceId, channelId } = activeIds(ui.route);
        if (!workspaceId) return;
        e.preventDefault();
        const { channels, dms } = sidebarChannels(useWorkspaces.getState().channels, workspaceId);
        const order = [...channels, ...dms];
        if (!order.length) return;
        const idx = order.findIndex((c) => c.id === channelId);
        const next = e.key === 'ArrowUp' ? (idx <= 0 ? order.length - 1 : idx - 1) : (idx + 1) % order.length;
        ui.navigate({ name: 'app', workspaceId, channelId: order[next].id });
        return;
      }
      if (e.key === 'Escape' && !ui.modal) {
        if (ui.editingMessageId) return; // the inline editor handles its own Escape
        if (ui.rightPanel) {
          ui.closePanel();
          e.preventDefault();
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

/** Marks the open channel read when the window regains focus, and follows the browser's network state. */
function useConnectivity() {
  useEffect(() => {
    const onFocus = () => {
      const { channelId } = activeIds(useUi.getState().route);
      if (channelId) markChannelViewed(channelId);
    };
    const onOffline = () => useRealtime.getState().dropConnection();
    const onOnline = () => useRealtime.getState().reconnectNow();
    window.addEventListener('focus', onFocus);
    document.addEventListener('visibilitychange', onFocus);
    window.addEventListener('offline', onOffline);
    window.addEventListener('online', onOnline);
    return () => {
      window.removeEventListener('focus', onFocus);
      document.removeEventListener('visibilitychange', onFocus);
      window.removeEventListener('offline', onOffline);
      window.removeEventListener('online', onOnline);
    };
  }, []);
}

function useTypingPruner() {
  useEffect(() => {
    const t = setInterval(() => useUsers.getState().pruneTyping(), 2_000);
    return () => clearInterval(t);
  }, []);
}
