import { create } from 'zustand';
import type { FileInfo, Id, Message } from '../api/types';

export type SendState = 'sending' | 'failed';

/** A message as held by the client: server fields plus local send state for optimistic messages. */
export interface ChatMessage extends Message {
  sendState?: SendState;
  sendError?: string;
}

export interface ChannelTimeline {
  /** Message ids in display order (oldest first). Thread replies are not listed. */
  ids: Id[];
  hasOlder: boolean;
  /** True when the timeline was opened around an older message and the newest ones are not loaded. */
  hasNewer: boolean;
  loaded: boolean;
}

export interface ThreadTimeline {
  ids: Id[];
  loaded: boolean;
}

export interface MessagesState {
  byId: Record<Id, ChatMessage>;
  channels: Record<Id, ChannelTimeline>;
  threads: Record<Id, ThreadTimeline>;
  pinned: Record<Id, Record<Id, true>>;

  setPage(channelId: Id, messages: Message[], mode: 'replace' | 'older' | 'newer', hasMore: boolean): void;
  setAround(channelId: Id, messages: Message[], hasOlder: boolean, hasNewer: boolean): void;
  setThread(rootId: Id, replies: Message[]): void;
  /** Adds or updates a message from the server. Returns true when it was not known before. */
  receive(message: Message): boolean;
  addOptimistic(input: OptimisticInput): ChatMessage;
  setSendState(clientMsgId: string, state: SendState, error?: string): void;
  markDeleted(messageId: Id): void;
  applyReaction(messageId: Id, emoji: string, userId: Id, added: boolean): void;
  setPinned(channelId: Id, messageIds: Id[]): void;
  togglePinned(channelId: Id, messageId: Id, pinned: boolean): void;
  forgetChannel(channelId: Id): void;
  reset(): void;
}

export interface OptimisticInput {
  channelId: Id;
  authorId: Id;
  text: string;
  clientMsgId: string;
  threadRootId?: Id | null;
  files?: FileInfo[];
}

export const localId = (clientMsgId: string) => `local:${clientMsgId}`;
export const isLocalId = (id: Id) => id.startsWith('local:');

/** Server ids are time ordered, but created_at decides first so that mixed id schemes still sort. */
export function compareMessages(a: Pick<Message, 'created_at' | 'id'>, b: Pick<Message, 'created_at' | 'id'>): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Inserts `id` into an already sorted list; pending local messages always stay at the end. */
function insertSorted(ids: Id[], id: Id, byId: Record<Id, ChatMessage>): Id[] {
  if (ids.includes(id)) return ids;
  const msg = byId[id];
  const next = ids.slice();
  if (isLocalId(id)) {
    next.push(id);
    return next;
  }
  // Walk back from the end: new messages almost always belong at (or near) the bottom.
  let at = next.length;
  while (at > 0) {
    const prevId = next[at - 1];
    const prev = byId[prevId];
    if (!prev || isLocalId(prevId) || compareMessages(prev, msg) > 0) at--;
    else break;
  }
  next.splice(at, 0, id);
  return next;
}

function mergeIds(existing: Id[], incoming: Id[], byId: Record<Id, ChatMessage>): Id[] {
  const set = new Set(existing);
  const server = existing.filter((id) => !isLocalId(id));
  const local = existing.filter(isLocalId);
  for (const id of incoming) if (!set.has(id)) server.push(id);
  server.sort((a, b) => compareMessages(byId[a], byId[b]));
  return server.concat(local);
}

const emptyTimeline = (): ChannelTimeline => ({ ids: [], hasOlder: false, hasNewer: false, loaded: false });

function normalize(m: Message): ChatMessage {
  return {
    ...m,
    reactions: m.reactions ?? [],
    files: m.files ?? [],
    mentions: m.mentions ?? [],
    reply_count: m.reply_count ?? 0,
    thread_root_id: m.thread_root_id ?? null,
    client_msg_id: m.client_msg_id ?? null,
    edited_at: m.edited_at ?? null,
    deleted: !!m.deleted,
  };
}

/** Finds the pending local message that a server message acknowledges. */
function pendingFor(m: Message, byId: Record<Id, ChatMessage>): Id | null {
  if (!m.client_msg_id) return null;
  const id = localId(m.client_msg_id);
  return byId[id] ? id : null;
}

const initial = () => ({ byId: {}, channels: {}, threads: {}, pinned: {} });

export const useMessages = create<MessagesState>()((set, get) => ({
  ...initial(),

  setPage(channelId, messages, mode, hasMore) {
    set((s) => {
      const byId = { ...s.byId };
      for (const m of messages) byId[m.id] = { ...byId[m.id], ...normalize(m), sendState: undefined };
      const incoming = messages.filter((m) => !m.thread_root_id).map((m) => m.id);
      const prev = s.channels[channelId] ?? emptyTimeline();
      let timeline: ChannelTimeline;
      if (mode === 'replace') {
        const pending = prev.ids.filter((id) => isLocalId(id) && byId[id]);
        timeline = { ids: mergeIds(pending, incoming, byId), hasOlder: hasMore, hasNewer: false, loaded: true };
      } else if (mode === 'older') {
        timeline = { ...prev, ids: mergeIds(prev.ids, incoming, byId), hasOlder: hasMore, loaded: true };
      } else {
        timeline = { ...prev, ids: mergeIds(prev.ids, incoming, byId), hasNewer: hasMore, loaded: true };
      }
      return { byId, channels: { ...s.channels, [channelId]: timeline } };
    });
  },

  setAround(channelId, messages, hasOlder, hasNewer) {
    set((s) => {
      const byId = { ...s.byId };
      for (const m of messages) byId[m.id] = { ...byId[m.id], ...normalize(m) };
      const ids = mergeIds([], messages.filter((m) => !m.thread_root_id).map((m) => m.id), byId);
      return { byId, channels: { ...s.channels, [channelId]: { ids, hasOlder, hasNewer, loaded: true } } };
    });
  },

  setThread(rootId, replies) {
    set((s) => {
      const byId = { ...s.byId };
      for (const m of replies) byId[m.id] = { ...byId[m.id], ...normalize(m) };
      const pending = (s.threads[rootId]?.ids ?? []).filter((id) => isLocalId(id) && byId[id]);
      const ids = mergeIds(pending, replies.map((m) => m.id), byId);
      return { byId, threads: { ...s.threads, [rootId]: { ids, loaded: true } } };
    });
  },

  receive(raw) {
    const m = normalize(raw);
    const s = get();
    const known = s.byId[m.id];
    const pending = known ? null : pendingFor(m, s.byId);
    const byId = { ...s.byId };
    if (pending) delete byId[pending];
    byId[m.id] = known ? { ...known, ...m, sendState: undefined } : m;

    const swap = (ids: Id[]) => {
      const without = pending ? ids.filter((id) => id !== pending) : ids;
      return insertSorted(without, m.id, byId);
    };

    let channels = s.channels;
    let threads = s.threads;
    if (m.thread_root_id) {
      const thread = s.threads[m.thread_root_id];
      if (thread) threads = { ...threads, [m.thread_root_id]: { ...thread, ids: swap(thread.ids) } };
      const root = byId[m.thread_root_id];
      if (root && !known && !pending) byId[m.thread_root_id] = { ...root, reply_count: root.reply_count + 1 };
    } else {
      const timeline = s.channels[m.channel_id];
      // With newer history missing the message would create a gap; it is fetched when the user scrolls down.
      if (timeline && timeline.loaded && (!timeline.hasNewer || pending)) {
        channels = { ...channels, [m.channel_id]: { ...timeline, ids: swap(timeline.ids) } };
      }
    }
    set({ byId, channels, threads });
    return !known && !pending;
  },

  addOptimistic({ channelId, authorId, text, clientMsgId, threadRootId = null, files = [] }) {
    const message: ChatMessage = {
      id: localId(clientMsgId),
      channel_id: channelId,
      author_id: authorId,
      text,
      thread_root_id: threadRootId,
      reply_count: 0,
      reactions: [],
      files,
      mentions: [],
      created_at: new Date().toISOString(),
      edited_at: null,
      deleted: false,
      client_msg_id: clientMsgId,
      sendState: 'sending',
    };
    set((s) => {
      const byId = { ...s.byId, [message.id]: message };
      if (threadRootId) {
        const thread = s.threads[threadRootId] ?? { ids: [], loaded: false };
        const root = byId[threadRootId];
        if (root) byId[threadRootId] = { ...root, reply_count: root.reply_count + 1 };
        return { byId, threads: { ...s.threads, [threadRootId]: { ...thread, ids: insertSorted(thread.ids, message.id, byId) } } };
      }
      const timeline = s.channels[channelId] ?? { ...emptyTimeline(), loaded: true };
      return { byId, channels: { ...s.channels, [channelId]: { ...timeline, ids: insertSorted(timeline.ids, message.id, byId) } } };
    });
    return message;
  },

  setSendState(clientMsgId, state, error) {
    set((s) => {
      const id = localId(clientMsgId);
      const m = s.byId[id];
      if (!m) return s;
      return { byId: { ...s.byId, [id]: { ...m, sendState: state, sendError: error } } };
    });
  },

  markDeleted(messageId) {
    set((s) => {
      const m = s.byId[messageId];
      if (!m) return s;
      const byId = { ...s.byId, [messageId]: { ...m, deleted: true, text: '', files: [], reactions: [] } };
      let channels = s.channels;
      let threads = s.threads;
      // A deleted message without replies disappears; one with replies stays as a placeholder for its thread.
      if (m.reply_count === 0) {
        if (m.thread_root_id) {
          const t = s.threads[m.thread_root_id];
          if (t) threads = { ...threads, [m.thread_root_id]: { ...t, ids: t.ids.filter((id) => id !== messageId) } };
          const root = byId[m.thread_root_id];
          if (root) byId[root.id] = { ...root, reply_count: Math.max(0, root.reply_count - 1) };
        } else {
          const t = s.channels[m.channel_id];
          if (t) channels = { ...channels, [m.channel_id]: { ...t, ids: t.ids.filter((id) => id !== messageId) } };
        }
      }
      return { byId, channels, threads };
    });
  },

  applyReaction(messageId, emoji, userId, added) {
    set((s) => {
      const m = s.byId[messageId];
      if (!m) return s;
      const reactions = m.reactions.map((r) => ({ ...r, user_ids: [...r.user_ids] }));
      const idx = reactions.findIndex((r) => r.emoji === emoji);
      if (added) {
        if (idx >= 0) {
          if (reactions[idx].user_ids.includes(userId)) return s; // idempotent
          reactions[idx].user_ids.push(userId);
          reactions[idx].count = reactions[idx].user_ids.length;
        } else {
          reactions.push({ emoji, count: 1, user_ids: [userId] });
        }
      } else {
        if (idx < 0 || !reactions[idx].user_ids.includes(userId)) return s;
        reactions[idx].user_ids = reactions[idx].user_ids.filter((u) => u !== userId);
        reactions[idx].count = reactions[idx].user_ids.length;
        if (reactions[idx].count === 0) reactions.splice(idx, 1);
      }
      return { byId: { ...s.byId, [messageId]: { ...m, reactions } } };
    });
  },

  setPinned(channelId, messageIds) {
    set((s) => {
      const current = s.pinned[channelId];
      // Same set as before: keep the object, so subscribers are not woken up for nothing.
      if (current && Object.keys(current).length === messageIds.length && messageIds.every((id) => current[id])) return s;
      return { pinned: { ...s.pinned, [channelId]: Object.fromEntries(messageIds.map((id) => [id, true as const])) } };
    });
  },

  togglePinned(channelId, messageId, pinned) {
    set((s) => {
      const current = { ...(s.pinned[channelId] ?? {}) };
      if (pinned) current[messageId] = true;
      else delete current[messageId];
      return { pinned: { ...s.pinned, [channelId]: current } };
    });
  },

  forgetChannel(channelId) {
    set((s) => {
      const channels = { ...s.channels };
      delete channels[channelId];
      return { channels };
    });
  },

  reset() {
    set(initial());
  },
}));
