import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRealtimeStore, PING_INTERVAL_MS, type SocketLike } from './realtime';
import type { ServerFrame } from '../api/types';

class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: unknown[] = [];
  closed = false;
  onopen: ((ev: never) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: never) => void) | null = null;
  onerror: ((ev: never) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.closed = true;
    this.readyState = 3;
  }
  // test helpers
  open() {
    this.readyState = 1;
    this.onopen?.(undefined as never);
  }
  frame(f: ServerFrame) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  drop() {
    this.readyState = 3;
    this.onclose?.(undefined as never);
  }
}

const flush = () => vi.advanceTimersByTimeAsync(0);

function setup() {
  FakeSocket.all = [];
  const events: ServerFrame[] = [];
  const onResync = vi.fn();
  const onLive = vi.fn();
  let ticket = 0;
  const store = createRealtimeStore({
    createSocket: (url) => new FakeSocket(url),
    getTicket: async () => `t${++ticket}`,
    socketUrl: (t, cursor) => `ws://x/api/v1/realtime?ticket=${t}${cursor ? `&cursor=${cursor}` : ''}`,
    onEvent: (f) => events.push(f),
    onResync,
    onLive,
    random: () => 0,
  });
  const last = () => FakeSocket.all[FakeSocket.all.length - 1];
  return { store, events, onResync, onLive, last };
}

describe('realtime connection', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('connects with a ticket, processes frames in order and remembers the cursor', async () => {
    const { store, events, last } = setup();
    store.getState().start();
    await flush();
    expect(last().url).toBe('ws://x/api/v1/realtime?ticket=t1');
    last().open();
    last().frame({ type: 'hello', cursor: 'c0', data: { resumed: false } });
    expect(store.getState().status).toBe('open');
    last().frame({ type: 'message.created', cursor: 'c1', data: { message: { id: 'm1' } } });
    last().frame({ type: 'reaction.added', cursor: 'c2', data: {} });
    last().frame({ type: 'pong' });
    expect(events.map((e) => e.type)).toEqual(['message.created', 'reaction.added']);
    expect(store.getState().cursor).toBe('c2');
  });

  it('reconnects with backoff passing the last cursor, and shows reconnecting meanwhile', async () => {
    const { store, last, onResync } = setup();
    store.getState().start();
    await flush();
    last().open();
    last().frame({ type: 'hello', cursor: 'c0', data: { resumed: false } });
    last().frame({ type: 'message.created', cursor: 'c5', data: {} });
    last().drop();
    expect(store.getState().status).toBe('reconnecting');
    expect(FakeSocket.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(300);
    expect(FakeSocket.all).toHaveLength(2);
    expect(last().url).toBe('ws://x/api/v1/realtime?ticket=t2&cursor=c5');
    last().open();
    last().frame({ type: 'hello', cursor: 'c5', data: { resumed: true } });
    expect(store.getState().status).toBe('open');
    expect(onResync).not.toHaveBeenCalled();
  });

  it('asks the app to catch up once a connection without a cursor is live, and not after a resume', async () => {
    const { store, last, onLive, onResync } = setup();
    store.getState().start();
    await flush();
    last().open();
    expect(onLive).not.toHaveBeenCalled();
    last().frame({ type: 'hello', cursor: 'c0', data: { resumed: false } });
    expect(onLive).toHaveBeenCalledTimes(1);
    last().drop();
    await vi.advanceTimersByTimeAsync(300);
    last().open();
    last().frame({ type: 'hello', cursor: 'c0', data: { resumed: true } });
    expect(onLive).toHaveBeenCalledTimes(1);
    expect(onResync).not.toHaveBeenCalled();
  });

  it('backs off exponentially while the server stays down', async () => {
    const { store, last } = setup();
    store.getState().start();
    await flush();
    last().drop();
    await vi.advanceTimersByTimeAsync(250); // attempt 1: 500ms * 0.5
    expect(FakeSocket.all).toHaveLength(2);
    last().drop();
    await vi.advanceTimersByTimeAsync(499);
    expect(FakeSocket.all).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1); // attempt 2: 1000ms * 0.5
    expect(FakeSocket.all).toHaveLength(3);
  });

  it('asks for a resync when the server cannot replay, and when a resume is refused', async () => {
    const { store, last, onResync } = setup();
    store.getState().start();
    await flush();
    last().open();
    last().frame({ type: 'hello', cursor: 'c1', data: { resumed: false } });
    last().frame({ type: 'resync_required' });
    expect(onResync).toHaveBeenCalledTimes(1);
    expect(store.getState().cursor).toBeNull();
    last().frame({ type: 'message.created', cursor: 'c9', data: {} });
    last().drop();
    await vi.advanceTimersByTimeAsync(300);
    last().open();
    last().frame({ type: 'hello', cursor: 'c20', data: { resumed: false } });
    expect(onResync).toHaveBeenCalledTimes(2);
  });

  it('pings every 25 s and treats a missing pong as a dead connection', async () => {
    const { store, last } = setup();
    store.getState().start();
    await flush();
    const first = last();
    first.open();
    first.frame({ type: 'hello', cursor: 'c1', data: { resumed: false } });
    await vi.advanceTimersByTimeAsync(PING_INTERVAL_MS);
    expect(first.sent).toEqual([{ type: 'ping' }]);
    first.frame({ type: 'pong' });
    await vi.advanceTimersByTimeAsync(PING_INTERVAL_MS);
    expect(first.sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(PING_INTERVAL_MS); // no pong to the second ping
    expect(first.closed).toBe(true);
    expect(store.getState().status).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(300);
    expect(last()).not.toBe(first);
    expect(last().url).toContain('cursor=c1');
  });

  it('throttles typing frames to one per 3 s per channel', async () => {
    const { store, last } = setup();
    store.getState().start();
    await flush();
    last().open();
    store.getState().sendTyping('C1');
    store.getState().sendTyping('C1');
    store.getState().sendTyping('C2');
    expect(last().sent).toEqual([
      { type: 'typing', channel_id: 'C1' },
      { type: 'typing', channel_id: 'C2' },
    ]);
    vi.setSystemTime(Date.now() + 3_000);
    store.getState().sendTyping('C1');
    expect(last().sent).toHaveLength(3);
  });

  it('ignores malformed frames and keeps going', async () => {
    const { store, events, last } = setup();
    store.getState().start();
    await flush();
    last().onmessage?.({ data: 'not json' });
    last().onmessage?.({ data: '{"no":"type"}' });
    last().frame({ type: 'typing', cursor: 'c3', data: {} });
    expect(events).toHaveLength(1);
    expect(store.getState().cursor).toBe('c3');
  });

  it('stops cleanly and does not reconnect after stop', async () => {
    const { store, last } = setup();
    store.getState().start();
    await flush();
    const s = last();
    store.getState().stop();
    expect(s.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(store.getState()).toMatchObject({ status: 'idle', cursor: null });
  });

  it('drops and reconnects immediately when told the network is back', async () => {
    const { store, last } = setup();
    store.getState().start();
    await flush();
    last().open();
    last().frame({ type: 'hello', cursor: 'c7', data: { resumed: false } });
    store.getState().dropConnection();
    expect(store.getState().status).toBe('reconnecting');
    store.getState().reconnectNow();
    await flush();
    expect(last().url).toContain('cursor=c7');
    expect(FakeSocket.all).toHaveLength(2);
  });
});
