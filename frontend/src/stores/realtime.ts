import { create, type StoreApi, type UseBoundStore } from 'zustand';
import type { Id, ServerFrame } from '../api/types';

/** The subset of the browser WebSocket used here, so tests can inject a fake. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: never) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: never) => void) | null;
  onerror: ((ev: never) => void) | null;
}

export interface RealtimeDeps {
  createSocket(url: string): SocketLike;
  getTicket(): Promise<string>;
  socketUrl(ticket: string, cursor: string | null): string;
  /** Applies one event frame to the application state. */
  onEvent(frame: ServerFrame): void;
  /** The server cannot replay what was missed: reload state over HTTP. */
  onResync(): void;
  /**
   * A connection started without a cursor is live from its hello on: state loaded over HTTP
   * before then may have missed what happened in between.
   */
  onLive(): void;
  random?: () => number;
  now?: () => number;
}

export type ConnectionStatus = 'idle' | 'connecting' | 'open' | 'reconnecting';

export interface RealtimeState {
  status: ConnectionStatus;
  /** Cursor of the last frame processed; passed back on reconnect so nothing is missed. */
  cursor: string | null;
  attempt: number;
  /** Set once a connection has been open: a later drop shows "Reconnecting…". */
  everConnected: boolean;
  start(): void;
  stop(): void;
  /** Forces a fresh connection now (e.g. the browser came back online). */
  reconnectNow(): void;
  /** Drops the connection without waiting for the socket to notice (the browser went offline). */
  dropConnection(): void;
  sendTyping(channelId: Id): void;
  send(frame: Record<string, unknown>): boolean;
}

export const PING_INTERVAL_MS = 25_000;
export const TYPING_THROTTLE_MS = 3_000;
const MAX_BACKOFF_MS = 30_000;
const OPEN = 1;

export function backoffDelay(attempt: number, random: () => number): number {
  const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.5 + random() * 0.5));
}

export function createRealtimeStore(deps: RealtimeDeps): UseBoundStore<StoreApi<RealtimeState>> {
  const random = deps.random ?? Math.random;
  const now = deps.now ?? Date.now;
  let socket: SocketLike | null = null;
  let stopped = true;
  let generation = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  let pingTimer: ReturnType<typeof setInterval> | null = null;
  let awaitingPong = false;
  let connectedWithCursor = false;
  const lastTypingSent = new Map<Id, number>();

  const store = create<RealtimeState>()((set, get) => {
    const clearTimers = () => {
      if (reconnectTimer) clearTimeout(reconnectTimer);
      if (pingTimer) clearInterval(pingTimer);
      reconnectTimer = null;
      pingTimer = null;
    };

    const detach = () => {
      if (!socket) return;
      const s = socket;
      socket = null;
      s.onopen = s.onmessage = s.onclose = s.onerror = null;
      try {
        s.close(1000, 'client closing');
      } catch {
        /* already closed */
      }
    };

    const scheduleReconnect = () => {
      if (stopped) return;
      clearTimers();
      const attempt = get().attempt + 1;
      set({ status: 'reconnecting', attempt });
      reconnectTimer = setTimeout(connect, backoffDelay(attempt, random));
    };

    const handleFrame = (frame: ServerFrame) => {
      awaitingPong = false;
      switch (frame.type) {
        case 'hello':
          set({ status: 'open', attempt: 0, everConnected: true });
          // A reconnect that the server could not resume means events were lost.
          if (connectedWithCursor && frame.data?.resumed === false) deps.onResync();
          else if (!connectedWithCursor) deps.onLive();
          break;
        case 'resync_required':
          deps.onResync();
          if (!frame.cursor) set({ cursor: null });
          break;
        case 'pong':
          break;
        default:
          try {
            deps.onEvent(frame);
          } catch (err) {
            // One malformed event must not kill the connection.
            console.error('realtime event failed', frame.type, err);
          }
      }
      if (typeof frame.cursor === 'string' && frame.cursor) set({ cursor: frame.cursor });
    };

    const connect = async () => {
      if (stopped) return;
      clearTimers();
      detach();
      const myGeneration = ++generation;
      set({ status: get().everConnected ? 'reconnecting' : 'connecting' });
      let ticket: string;
      try {
        ticket = await deps.getTicket();
      } catch {
        if (myGeneration === generation) scheduleReconnect();
        return;
      }
      if (stopped || myGeneration !== generation) return;
      const cursor = get().cursor;
      connectedWithCursor = cursor !== null;
      let s: SocketLike;
      try {
        s = deps.createSocket(deps.socketUrl(ticket, cursor));
      } catch {
        scheduleReconnect();
        return;
      }
      socket = s;
      awaitingPong = false;
      s.onmessage = (ev) => {
        if (typeof ev.data !== 'string') return;
        let frame: ServerFrame;
        try {
          frame = JSON.parse(ev.data) as ServerFrame;
        } catch {
          return;
        }
        if (frame && typeof frame.type === 'string') handleFrame(frame);
      };
      s.onclose = () => {
        if (socket !== s) return;
        socket = null;
        scheduleReconnect();
      };
      s.onerror = () => {
        /* onclose follows and handles the reconnect */
      };
      pingTimer = setInterval(() => {
        if (awaitingPong) {
          // No frame since the last ping: the connection is dead even if the socket has not noticed.
          detach();
          scheduleReconnect();
          return;
        }
        if (get().send({ type: 'ping' })) awaitingPong = true;
      }, PING_INTERVAL_MS);
    };

    return {
      status: 'idle',
      cursor: null,
      attempt: 0,
      everConnected: false,

      start() {
        if (!stopped) return;
        stopped = false;
        void connect();
      },

      stop() {
        stopped = true;
        generation++;
        clearTimers();
        detach();
        set({ status: 'idle', cursor: null, attempt: 0, everConnected: false });
      },

      reconnectNow() {
        if (stopped) return;
        set({ attempt: 0 });
        void connect();
      },

      dropConnection() {
        if (stopped) return;
        generation++;
        detach();
        scheduleReconnect();
      },

      send(frame) {
        if (!socket || socket.readyState !== OPEN) return false;
        try {
          socket.send(JSON.stringify(frame));
          return true;
        } catch {
          return false;
        }
      },

      sendTyping(channelId) {
        const t = now();
        const last = lastTypingSent.get(channelId) ?? -Infinity;
        if (t - last < TYPING_THROTTLE_MS) return;
        if (get().send({ type: 'typing', channel_id: channelId })) lastTypingSent.set(channelId, t);
      },
    };
  });
  return store;
}
