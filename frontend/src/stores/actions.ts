/**
 * The application's use cases: each calls the API and records the outcome in the stores.
 * Components call these; stores themselves stay free of I/O so they are easy to test.
 */
import { ApiError, api, errorMessage } from '../api/client';
import {
  authApi,
  channelsApi,
  messagesApi,
  notificationsApi,
  pinnedMessages,
  realtimeApi,
  usersApi,
  workspacesApi,
} from '../api/endpoints';
import type { Channel, FileInfo, Id, Message, Preferences } from '../api/types';
import { alertText, notifyDesktop } from '../lib/alerts';
import { emojiName, sameEmoji } from '../lib/emoji';
import { uuid } from '../lib/uuid';
import { useAuth } from './auth';
import { createEventHandler } from './events';
import { isLocalId, useMessages } from './messages';
import { useNotifications } from './notifications';
import { createRealtimeStore, type SocketLike } from './realtime';
import { useToasts } from './toasts';
import { activeIds, applyTheme, useUi } from './ui';
import { displayName, useUsers } from './users';
import { useWorkspaces } from './workspaces';

const PAGE = 50;

// ---------------------------------------------------------------- users

const userFetches = new Set<Id>();
const userQueue: Id[] = [];
const userFailures = new Map<Id, number>();
const USER_RETRY_DELAYS_MS = [200, 1_000, 5_000];
let userWorkers = 0;

/** Loads missing profiles a few at a time; repeated calls for the same id cost nothing. */
export function ensureUsers(ids: Id[]): void {
  const { users } = useUsers.getState();
  for (const id of ids) {
    if (!id || users[id] || userFetches.has(id)) continue;
    userFetches.add(id);
    userQueue.push(id);
  }
  while (userWorkers < 6 && userQueue.length) {
    userWorkers++;
    void (async () => {
      while (userQueue.length) {
        const id = userQueue.shift()!;
        try {
          useUsers.getState().upsertUsers([await usersApi.get(id)]);
          userFailures.delete(id);
        } catch {
          // Unknown or not visible (yet: someone who just joined a workspace can take a moment to
          // become visible to the profile service). Keep the fallback name and try again later.
          const failures = (userFailures.get(id) ?? 0) + 1;
          userFailures.set(id, failures);
          if (failures <= USER_RETRY_DELAYS_MS.length) {
            setTimeout(() => {
              userFetches.delete(id);
              ensureUsers([id]);
            }, USER_RETRY_DELAYS_MS[failures - 1]);
          }
        }
      }
      userWorkers--;
    })();
  }
}

export async function loadPresence(ids: Id[]): Promise<void> {
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += 100) {
    try {
      const res = await usersApi.presence(unique.slice(i, i + 100));
      useUsers.getState().setPresence(res.presence ?? {});
    } catch {
      /* presence is decoration */
    }
  }
}

// ---------------------------------------------------------------- realtime

function isViewing(channelId: Id): boolean {
  const { route } = useUi.getState();
  if (activeIds(route).channelId !== channelId) return false;
  if (typeof document === 'undefined') return true;
  return document.visibilityState === 'visible' && document.hasFocus();
}

export const applyEvent = createEventHandler({
  isViewing,
  markRead: (ch, id) => void markRead(ch, id),
  ensureUsers,
  reloadChannels: (ws) => {
    const id = ws ?? activeIds(useUi.getState().route).workspaceId;
    if (id) void loadChannels(id);
  },
  leftChannel: (ch) => {
    const ws = useWorkspaces.getState().channels[ch];
    const { route } = useUi.getState();
    if (activeIds(route).channelId === ch && ws && ws.kind !== 'public') {
      useUi.getState().navigate({ name: 'app', workspaceId: ws.workspace_id, channelId: null }, true);
    }
  },
  leftWorkspace: (workspaceId) => {
    if (activeIds(useUi.getState().route).workspaceId === workspaceId) {
      useUi.getState().navigate({ name: 'app', workspaceId: null, channelId: null }, true);
    }
  },
  notified: (n, preview, authorId) => {
    const channel = useWorkspaces.getState().channels[n.channel_id];
    const place = channel && (channel.kind === 'public' || channel.kind === 'private') ? `#${channel.name}` : null;
    const author = authorId ? displayName(useUsers.getState().users, authorId) : 'Someone';
    const text = alertText(n, author, place, preview);
    const open = () => {
      void markNotificationsRead([n.id]);
      void jumpToMessage(n.channel_id, n.message_id).catch(() => undefined);
    };
    // Hidden tab: the system's notification centre; visible: a toast, unless it is the channel in view.
    if (notifyDesktop(n.id, text, open)) return;
    if (isViewing(n.channel_id)) return;
    useToasts.getState().push({ id: n.id, ...text, onOpen: open });
  },
});

export const useRealtime = createRealtimeStore({
  createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
  getTicket: async () => (await realtimeApi.ticket()).ticket,
  socketUrl: (ticket, cursor) => {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const params = new URLSearchParams({ ticket });
    if (cursor) params.set('cursor', cursor);
    return `${proto}//${location.host}/api/v1/realtime?${params}`;
  },
  onEvent: applyEvent,
  onResync: () => void resync(),
  // The inbox loads over HTTP beside the first connection; what arrived in between is fetched again.
  onLive: () => void loadNotifications(),
});

/** Reloads everything the server could not replay. */
export async function resync(): Promise<void> {
  const { workspaceId, channelId } = activeIds(useUi.getState().route);
  void loadNotifications();
  await loadWorkspaces().catch(() => undefined);
  if (workspaceId) await loadChannels(workspaceId).catch(() => undefined);
  const timelines = useMessages.getState().channels;
  for (const id of Object.keys(timelines)) if (id !== channelId) useMessages.getState().forgetChannel(id);
  if (channelId) await loadLatest(channelId).catch(() => undefined);
  const panel = useUi.getState().rightPanel;
  if (panel?.kind === 'thread') await openThread(panel.rootId).catch(() => undefined);
}

// ---------------------------------------------------------------- session

function resetStores(): void {
  useRealtime.getState().stop();
  useMessages.getState().reset();
  useWorkspaces.getState().reset();
  useUsers.getState().reset();
  useNotifications.getState().reset();
}

api.onSessionLost = () => {
  resetStores();
  useAuth.getState().setAnonymous();
};

async function startSession(): Promise<void> {
  const user = useAuth.getState().user;
  if (user) useUsers.getState().upsertUsers([user]);
  useRealtime.getState().start();
  void loadPreferences();
  void loadNotifications();
  await loadWorkspaces();
}

export async function bootstrap(): Promise<void> {
  applyTheme(useUi.getState().theme);
  if (!api.hasSession()) {
    useAuth.getState().setAnonymous();
    return;
  }
  try {
    useAuth.getState().setUser(await usersApi.me());
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      api.clearSession();
      useAuth.getState().setAnonymous();
      return;
    }
    // Offline at start-up with a stored session: retry shortly rather than logging the user out.
    setTimeout(() => void bootstrap(), 3_000);
    return;
  }
  await startSession();
}

export async function login(email: string, password: string): Promise<void> {
  const res = await authApi.login(email, password);
  api.setSession(res);
  useAuth.getState().setUser(res.user);
  await startSession();
}

export async function register(email: string, password: string, displayName: string): Promise<void> {
  const res = await authApi.register(email, password, displayName);
  api.setSession(res);
  useAuth.getState().setUser(res.user);
  await startSession();
}

export async function logout(): Promise<void> {
  try {
    await authApi.logout();
  } catch {
    /* the local session ends regardless */
  }
  api.clearSession();
  resetStores();
  useAuth.getState().setAnonymous();
  useUi.getState().navigate({ name: 'login' }, true);
}

// ---------------------------------------------------------------- preferences & profile

export async function loadPreferences(): Promise<Preferences> {
  const prefs: Preferences = (await usersApi.preferences().catch(() => ({}))) ?? {};
  if (prefs.theme === 'light' || prefs.theme === 'dark' || prefs.theme === 'system') useUi.getState().setTheme(prefs.theme);
  return prefs;
}

export async function savePreferences(prefs: Preferences): Promise<void> {
  await usersApi.savePreferences(prefs);
  if (prefs.theme) useUi.getState().setTheme(prefs.theme);
}

export async function updateProfile(patch: Parameters<typeof usersApi.updateMe>[0]): Promise<void> {
  const user = await usersApi.updateMe(patch);
  useAuth.getState().setUser({ ...useAuth.getState().user!, ...user });
  useUsers.getState().upsertUsers([user]);
}

// ---------------------------------------------------------------- workspaces & channels

export async function loadWorkspaces(): Promise<void> {
  const res = await workspacesApi.list();
  useWorkspaces.getState().setWorkspaces(res.workspaces ?? []);
}

export async function createWorkspace(name: string): Promise<Id> {
  const ws = await workspacesApi.create(name);
  useWorkspaces.getState().upsertWorkspace(ws);
  await loadChannels(ws.id);
  return ws.id;
}

export async function acceptInvite(code: string): Promise<Id> {
  const ws = await workspacesApi.acceptInvite(code);
  useWorkspaces.getState().upsertWorkspace(ws);
  return ws.id;
}

export async function loadChannels(workspaceId: Id): Promise<Channel[]> {
  const res = await workspacesApi.channels(workspaceId);
  const list = res.channels ?? [];
  useWorkspaces.getState().setChannels(workspaceId, list);
  const dms = list.filter((c) => c.kind === 'dm' || c.kind === 'group_dm');
  for (const dm of dms) {
    if (dm.member_ids) useWorkspaces.getState().setChannelMembers(dm.id, dm.member_ids);
    else void loadChannelMembers(dm.id);
  }
  return list;
}

export async function loadMembers(workspaceId: Id): Promise<void> {
  const res = await workspacesApi.members(workspaceId);
  const members = res.members ?? [];
  useWorkspaces.getState().setMembers(workspaceId, members);
  const ids = members.map((m) => m.user_id);
  ensureUsers(ids);
  void loadPresence(ids);
}

export async function loadChannelMembers(channelId: Id): Promise<Id[]> {
  const res = await channelsApi.members(channelId);
  const ids = (res.members ?? []).map((m) => (typeof m === 'string' ? m : m.user_id));
  useWorkspaces.getState().setChannelMembers(channelId, ids);
  ensureUsers(ids);
  return ids;
}

export async function openWorkspace(workspaceId: Id): Promise<void> {
  await Promise.all([loadChannels(workspaceId), loadMembers(workspaceId).catch(() => undefined)]);
}

export async function createChannel(workspaceId: Id, name: string, visibility: 'public' | 'private', topic?: string) {
  const ch = await workspacesApi.createChannel(workspaceId, { name, visibility, topic: topic || undefined });
  useWorkspaces.getState().upsertChannel({ ...ch, is_member: true, unread_count: 0, mention_count: 0 });
  return ch;
}

export async function joinChannel(channelId: Id): Promise<void> {
  await channelsApi.join(channelId);
  useWorkspaces.getState().setMembership(channelId, true);
}

export async function leaveChannel(channelId: Id): Promise<void> {
  await channelsApi.leave(channelId);
  useWorkspaces.getState().setMembership(channelId, false);
}

export async function openDm(workspaceId: Id, userIds: Id[]): Promise<Channel> {
  const ch = await workspacesApi.openDm(workspaceId, userIds);
  const self = useAuth.getState().user?.id;
  useWorkspaces.getState().upsertChannel({ ...ch, is_member: true });
  useWorkspaces.getState().setChannelMembers(ch.id, [...new Set([...(self ? [self] : []), ...userIds])]);
  return ch;
}

export async function createInvite(workspaceId: Id): Promise<string> {
  const invite = await workspacesApi.createInvite(workspaceId, { expires_in_hours: 24 * 7 });
  return `${location.origin}/invite/${encodeURIComponent(invite.code)}`;
}

// ---------------------------------------------------------------- reading

const readInFlight = new Map<Id, Id>();

/** Moves the read marker (once per channel at a time) and clears the badge locally. */
export async function markRead(channelId: Id, messageId: Id): Promise<void> {
  if (isLocalId(messageId)) return;
  const ch = useWorkspaces.getState().channels[channelId];
  if (ch && ch.last_read_message_id === messageId && !ch.unread_count) return;
  if (readInFlight.get(channelId) === messageId) return;
  readInFlight.set(channelId, messageId);
  useWorkspaces.getState().markRead(channelId, messageId);
  try {
    await channelsApi.markRead(channelId, messageId);
  } catch {
    /* the next view retries */
  } finally {
    if (readInFlight.get(channelId) === messageId) readInFlight.delete(channelId);
  }
}

export function latestServerMessageId(channelId: Id): Id | null {
  const ids = useMessages.getState().channels[channelId]?.ids ?? [];
  for (let i = ids.length - 1; i >= 0; i--) if (!isLocalId(ids[i])) return ids[i];
  return null;
}

export function markChannelViewed(channelId: Id): void {
  const timeline = useMessages.getState().channels[channelId];
  if (!timeline || timeline.hasNewer) return;
  const latest = latestServerMessageId(channelId);
  if (latest) void markRead(channelId, latest);
}

function ingestAuthors(messages: Message[]): void {
  ensureUsers([...new Set(messages.flatMap((m) => [m.author_id, ...(m.mentions ?? [])]))]);
}

export async function loadLatest(channelId: Id): Promise<void> {
  const page = await channelsApi.messages(channelId, { limit: PAGE });
  useMessages.getState().setPage(channelId, page.messages ?? [], 'replace', !!page.has_more);
  ingestAuthors(page.messages ?? []);
}

export async function openChannel(channelId: Id): Promise<void> {
  const timeline = useMessages.getState().channels[channelId];
  if (!timeline?.loaded) await loadLatest(channelId);
  if (isViewing(channelId)) markChannelViewed(channelId);
  void loadPins(channelId);
}

const olderInFlight = new Set<Id>();

export async function loadOlder(channelId: Id): Promise<void> {
  const timeline = useMessages.getState().channels[channelId];
  if (!timeline?.hasOlder || olderInFlight.has(channelId)) return;
  const oldest = timeline.ids.find((id) => !isLocalId(id));
  if (!oldest) return;
  olderInFlight.add(channelId);
  try {
    const page = await channelsApi.messages(channelId, { before: oldest, limit: PAGE });
    useMessages.getState().setPage(channelId, page.messages ?? [], 'older', !!page.has_more);
    ingestAuthors(page.messages ?? []);
  } finally {
    olderInFlight.delete(channelId);
  }
}

const newerInFlight = new Set<Id>();

export async function loadNewer(channelId: Id): Promise<void> {
  const timeline = useMessages.getState().channels[channelId];
  if (!timeline?.hasNewer || newerInFlight.has(channelId)) return;
  const newest = latestServerMessageId(channelId);
  if (!newest) return;
  newerInFlight.add(channelId);
  try {
    const page = await channelsApi.messages(channelId, { after: newest, limit: PAGE });
    useMessages.getState().setPage(channelId, page.messages ?? [], 'newer', !!page.has_more);
    ingestAuthors(page.messages ?? []);
  } finally {
    newerInFlight.delete(channelId);
  }
}

/** Opens a channel around one message (search results, citations) and highlights it. */
export async function jumpToMessage(channelId: Id, messageId: Id): Promise<void> {
  const ch = useWorkspaces.getState().channels[channelId];
  const workspaceId = ch?.workspace_id ?? activeIds(useUi.getState().route).workspaceId;
  let target = useMessages.getState().byId[messageId] as Message | undefined;
  if (!target) target = await messagesApi.get(messageId);
  // A thread reply is shown in its thread, next to its root in the channel.
  if (target.thread_root_id) {
    const rootId = target.thread_root_id;
    await jumpToMessage(channelId, rootId);
    await openThread(rootId);
    useUi.getState().setHighlight(messageId);
    return;
  }
  useUi.getState().navigate({ name: 'app', workspaceId, channelId });
  const inTimeline = useMessages.getState().channels[channelId]?.ids.includes(messageId);
  if (!inTimeline) {
    const [before, after] = await Promise.all([
      channelsApi.messages(channelId, { before: messageId, limit: 25 }),
      channelsApi.messages(channelId, { after: messageId, limit: 25 }),
    ]);
    const all = [...(before.messages ?? []), target, ...(after.messages ?? [])];
    useMessages.getState().setAround(channelId, all, !!before.has_more, !!after.has_more);
    ingestAuthors(all);
  }
  useUi.getState().setHighlight(messageId);
}

export async function openThread(rootId: Id): Promise<void> {
  useUi.getState().openPanel({ kind: 'thread', rootId });
  const [root, replies] = await Promise.all([
    useMessages.getState().byId[rootId] ? Promise.resolve(null) : messagesApi.get(rootId),
    messagesApi.replies(rootId),
  ]);
  if (root) useMessages.getState().receive(root);
  const all: Message[] = [...(replies.messages ?? [])];
  let hasMore = !!replies.has_more;
  // Threads are usually short; fetch the rest eagerly so the panel shows the whole conversation.
  while (hasMore && all.length < 2000) {
    const next = await messagesApi.replies(rootId, all[all.length - 1].id);
    if (!next.messages?.length) break;
    all.push(...next.messages);
    hasMore = !!next.has_more;
  }
  useMessages.getState().setThread(rootId, all);
  ingestAuthors(all);
}

// ---------------------------------------------------------------- sending

interface PendingSend {
  channelId: Id;
  text: string;
  threadRootId: Id | null;
  files: FileInfo[];
}

const pendingSends = new Map<string, PendingSend>();

export function sendMessage(channelId: Id, text: string, opts: { threadRootId?: Id | null; files?: FileInfo[] } = {}): string {
  const clientMsgId = uuid();
  const self = useAuth.getState().user?.id ?? '';
  const pending: PendingSend = { channelId, text, threadRootId: opts.threadRootId ?? null, files: opts.files ?? [] };
  pendingSends.set(clientMsgId, pending);
  useMessages.getState().addOptimistic({ channelId, authorId: self, text, clientMsgId, threadRootId: pending.threadRootId, files: pending.files });
  void deliver(clientMsgId);
  return clientMsgId;
}

/** Re-sends a failed message with the same client_msg_id, so the server never stores it twice. */
export function retrySend(clientMsgId: string): void {
  if (pendingSends.has(clientMsgId)) void deliver(clientMsgId);
}

export function discardFailed(clientMsgId: string, messageId: Id): void {
  pendingSends.delete(clientMsgId);
  useMessages.getState().markDeleted(messageId);
}

async function deliver(clientMsgId: string): Promise<void> {
  const p = pendingSends.get(clientMsgId);
  if (!p) return;
  useMessages.getState().setSendState(clientMsgId, 'sending');
  try {
    const message = await channelsApi.send(p.channelId, {
      text: p.text,
      client_msg_id: clientMsgId,
      thread_root_id: p.threadRootId ?? undefined,
      file_ids: p.files.length ? p.files.map((f) => f.id) : undefined,
    });
    pendingSends.delete(clientMsgId);
    useMessages.getState().receive({ ...message, client_msg_id: message.client_msg_id ?? clientMsgId });
    if (!p.threadRootId) void markRead(p.channelId, message.id);
  } catch (err) {
    useMessages.getState().setSendState(clientMsgId, 'failed', errorMessage(err));
  }
}

export async function editMessage(messageId: Id, text: string): Promise<void> {
  const updated = await messagesApi.edit(messageId, text);
  useMessages.getState().receive(updated);
}

export async function deleteMessage(messageId: Id): Promise<void> {
  await messagesApi.remove(messageId);
  useMessages.getState().markDeleted(messageId);
}

export async function toggleReaction(messageId: Id, emoji: string): Promise<void> {
  const self = useAuth.getState().user?.id;
  const message = useMessages.getState().byId[messageId];
  if (!self || !message) return;
  const name = emojiName(emoji);
  const existing = message.reactions.find((r) => sameEmoji(r.emoji, name) && r.user_ids.includes(self));
  const key = existing?.emoji ?? message.reactions.find((r) => sameEmoji(r.emoji, name))?.emoji ?? name;
  const adding = !existing;
  useMessages.getState().applyReaction(messageId, key, self, adding);
  try {
    if (adding) await messagesApi.react(messageId, key);
    else await messagesApi.unreact(messageId, key);
  } catch (err) {
    useMessages.getState().applyReaction(messageId, key, self, !adding);
    throw err;
  }
}

export async function loadPins(channelId: Id): Promise<Message[]> {
  try {
    const list = pinnedMessages(await channelsApi.pins(channelId));
    useMessages.getState().setPinned(channelId, list.map((m) => m.id));
    return list;
  } catch {
    return [];
  }
}

export async function togglePin(channelId: Id, messageId: Id, pin: boolean): Promise<void> {
  useMessages.getState().togglePinned(channelId, messageId, pin);
  try {
    if (pin) await channelsApi.pin(channelId, messageId);
    else await channelsApi.unpin(channelId, messageId);
  } catch (err) {
    useMessages.getState().togglePinned(channelId, messageId, !pin);
    throw err;
  }
}

// ---------------------------------------------------------------- notifications

export async function loadNotifications(): Promise<void> {
  try {
    const res = await notificationsApi.list();
    useNotifications.getState().setAll(res.notifications ?? []);
  } catch {
    /* optional feature */
  }
}

export async function markNotificationsRead(ids: Id[] | 'all'): Promise<void> {
  useNotifications.getState().markRead(ids);
  await notificationsApi.markRead(ids).catch(() => undefined);
}
