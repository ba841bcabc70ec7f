import { beforeEach, describe, expect, it } from 'vitest';
import { localId, useMessages } from './messages';
import { message } from '../test/fixtures';

const state = () => useMessages.getState();
const ids = (ch = 'C1') => state().channels[ch]?.ids ?? [];

describe('messages store', () => {
  beforeEach(() => state().reset());

  it('orders a newest-first page oldest-first and appends older pages before it', () => {
    const [a, b, c, d] = [message(), message(), message(), message()];
    state().setPage('C1', [d, c], 'replace', true);
    expect(ids()).toEqual([c.id, d.id]);
    expect(state().channels.C1.hasOlder).toBe(true);
    state().setPage('C1', [b, a], 'older', false);
    expect(ids()).toEqual([a.id, b.id, c.id, d.id]);
    expect(state().channels.C1.hasOlder).toBe(false);
  });

  it('dedupes messages received twice and by overlapping pages', () => {
    const [a, b] = [message(), message()];
    state().setPage('C1', [a], 'replace', false);
    expect(state().receive(b)).toBe(true);
    expect(state().receive(b)).toBe(false);
    state().setPage('C1', [b, a], 'older', false);
    expect(ids()).toEqual([a.id, b.id]);
  });

  it('inserts a late-arriving message at its time position', () => {
    const [a, b, c] = [message(), message(), message()];
    state().setPage('C1', [c, a], 'replace', false);
    state().receive(b);
    expect(ids()).toEqual([a.id, b.id, c.id]);
  });

  it('replaces the optimistic message when the ack carries its client_msg_id', () => {
    const a = message();
    state().setPage('C1', [a], 'replace', false);
    const local = state().addOptimistic({ channelId: 'C1', authorId: 'U1', text: 'hi', clientMsgId: 'cm-1' });
    expect(ids()).toEqual([a.id, local.id]);
    expect(state().byId[local.id].sendState).toBe('sending');

    const acked = message({ author_id: 'U1', text: 'hi', client_msg_id: 'cm-1' });
    expect(state().receive(acked)).toBe(false);
    expect(ids()).toEqual([a.id, acked.id]);
    expect(state().byId[localId('cm-1')]).toBeUndefined();
    // The realtime echo of the same message changes nothing.
    expect(state().receive(acked)).toBe(false);
    expect(ids()).toEqual([a.id, acked.id]);
  });

  it('keeps pending messages at the bottom while others arrive', () => {
    state().setPage('C1', [], 'replace', false);
    const local = state().addOptimistic({ channelId: 'C1', authorId: 'U1', text: 'mine', clientMsgId: 'cm-2' });
    const other = message();
    state().receive(other);
    expect(ids()).toEqual([other.id, local.id]);
  });

  it('marks a failed send and keeps it for retry', () => {
    state().setPage('C1', [], 'replace', false);
    state().addOptimistic({ channelId: 'C1', authorId: 'U1', text: 'x', clientMsgId: 'cm-3' });
    state().setSendState('cm-3', 'failed', 'offline');
    expect(state().byId[localId('cm-3')]).toMatchObject({ sendState: 'failed', sendError: 'offline' });
    state().setSendState('cm-3', 'sending');
    expect(state().byId[localId('cm-3')].sendState).toBe('sending');
  });

  it('keeps thread replies out of the channel timeline and counts them on the root', () => {
    const root = message();
    state().setPage('C1', [root], 'replace', false);
    state().setThread(root.id, []);
    const reply = message({ thread_root_id: root.id });
    state().receive(reply);
    expect(ids()).toEqual([root.id]);
    expect(state().threads[root.id].ids).toEqual([reply.id]);
    expect(state().byId[root.id].reply_count).toBe(1);
    state().receive(reply);
    expect(state().byId[root.id].reply_count).toBe(1);
  });

  it('does not append live messages when newer history is not loaded (jumped to an old message)', () => {
    const [a, b] = [message(), message()];
    state().setAround('C1', [a], false, true);
    state().receive(b);
    expect(ids()).toEqual([a.id]);
  });

  it('applies reactions idempotently', () => {
    const a = message();
    state().setPage('C1', [a], 'replace', false);
    state().applyReaction(a.id, '+1', 'U1', true);
    state().applyReaction(a.id, '+1', 'U1', true);
    state().applyReaction(a.id, '+1', 'U3', true);
    expect(state().byId[a.id].reactions).toEqual([{ emoji: '+1', count: 2, user_ids: ['U1', 'U3'] }]);
    state().applyReaction(a.id, '+1', 'U1', false);
    state().applyReaction(a.id, '+1', 'U1', false);
    state().applyReaction(a.id, '+1', 'U3', false);
    expect(state().byId[a.id].reactions).toEqual([]);
  });

  it('removes deleted messages without replies and keeps roots with replies', () => {
    const a = message();
    const b = message({ reply_count: 2 });
    state().setPage('C1', [b, a], 'replace', false);
    state().markDeleted(a.id);
    state().markDeleted(b.id);
    expect(ids()).toEqual([b.id]);
    expect(state().byId[b.id]).toMatchObject({ deleted: true, text: '' });
  });

  it('keeps the pinned set object when the same pins are recorded again', () => {
    useMessages.getState().setPinned('C1', ['m1', 'm2']);
    const first = useMessages.getState().pinned.C1;
    useMessages.getState().setPinned('C1', ['m2', 'm1']);
    expect(useMessages.getState().pinned.C1).toBe(first);
    useMessages.getState().setPinned('C1', ['m1']);
    expect(Object.keys(useMessages.getState().pinned.C1)).toEqual(['m1']);
  });
});
