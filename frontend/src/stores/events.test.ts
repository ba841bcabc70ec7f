import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createEventHandler, type EventHooks } from './events';
import { useAuth } from './auth';
import { useMessages } from './messages';
import { useNotifications } from './notifications';
import { useUsers } from './users';
import { useWorkspaces } from './workspaces';
import { channel, message } from '../test/fixtures';

function setup(viewing: string | null = null) {
  const hooks: EventHooks = {
    isViewing: (ch) => ch === viewing,
    markRead: vi.fn(),
    ensureUsers: vi.fn(),
    reloadChannels: vi.fn(),
    leftChannel: vi.fn(),
  };
  return { hooks, apply: createEventHandler(hooks) };
}

const ch = (id: string) => useWorkspaces.getState().channels[id];

describe('realtime event handling', () => {
  beforeEach(() => {
    useMessages.getState().reset();
    useWorkspaces.getState().reset();
    useUsers.getState().reset();
    useAuth.getState().setUser({ id: 'U1', display_name: 'Me', created_at: '', title: null, timezone: null, status_text: null, status_emoji: null, avatar_url: null });
    useWorkspaces.getState().setChannels('W1', [
      channel({ id: 'C1' }),
      channel({ id: 'C2', name: 'random' }),
      channel({ id: 'D1', kind: 'dm', name: '' }),
    ]);
  });

  it('counts unread and mentions for channels not being viewed, once per message', () => {
    const { apply } = setup('C2');
    const plain = message({ channel_id: 'C1' });
    const mention = message({ channel_id: 'C1', text: 'hey <@U1>', mentions: ['U1'] });
    const here = message({ channel_id: 'C1', text: '@here standup' });
    apply({ type: 'message.created', cursor: '1', data: { message: plain, channel_id: 'C1' } });
    apply({ type: 'message.created', cursor: '2', data: { message: mention } });
    apply({ type: 'message.created', cursor: '2', data: { message: mention } });
    apply({ type: 'message.created', cursor: '3', data: { message: here } });
    expect(ch('C1')).toMatchObject({ unread_count: 3, mention_count: 2 });
  });

  it('counts every direct message as a mention', () => {
    const { apply } = setup();
    apply({ type: 'message.created', data: { message: message({ channel_id: 'D1' }) } });
    expect(ch('D1')).toMatchObject({ unread_count: 1, mention_count: 1 });
  });

  it('marks read instead of counting when the channel is being viewed', () => {
    const { apply, hooks } = setup('C1');
    useMessages.getState().setPage('C1', [], 'replace', false);
    const m = message({ channel_id: 'C1' });
    apply({ type: 'message.created', data: { message: m } });
    expect(ch('C1').unread_count).toBe(0);
    expect(hooks.markRead).toHaveBeenCalledWith('C1', m.id);
    expect(useMessages.getState().channels.C1.ids).toEqual([m.id]);
  });

  it('never counts own messages or thread replies', () => {
    const { apply } = setup();
    apply({ type: 'message.created', data: { message: message({ author_id: 'U1' }) } });
    apply({ type: 'message.created', data: { message: message({ thread_root_id: 'mX' }) } });
    expect(ch('C1').unread_count).toBe(0);
  });

  it('clears badges on our own read marker, not on other people’s', () => {
    const { apply } = setup();
    useWorkspaces.getState().bumpUnread('C1', true);
    apply({ type: 'read_marker.updated', data: { channel_id: 'C1', message_id: 'm1', user_id: 'U2' } });
    expect(ch('C1').unread_count).toBe(1);
    apply({ type: 'read_marker.updated', data: { channel_id: 'C1', message_id: 'm1', user_id: 'U1' } });
    expect(ch('C1')).toMatchObject({ unread_count: 0, mention_count: 0, last_read_message_id: 'm1' });
  });

  it('applies reactions, typing, presence and ignores unknown or malformed events', () => {
    const { apply } = setup();
    const m = message();
    useMessages.getState().setPage('C1', [m], 'replace', false);
    apply({ type: 'reaction.added', data: { message_id: m.id, channel_id: 'C1', emoji: 'tada', user_id: 'U2' } });
    apply({ type: 'reaction.added', data: { message_id: m.id, channel_id: 'C1', emoji: 'tada', user_id: 'U2' } });
    expect(useMessages.getState().byId[m.id].reactions).toEqual([{ emoji: 'tada', count: 1, user_ids: ['U2'] }]);
    apply({ type: 'typing', data: { channel_id: 'C1', user_id: 'U2' } });
    expect(useUsers.getState().typing.C1.U2).toBeGreaterThan(Date.now());
    apply({ type: 'presence.changed', data: { user_id: 'U2', status: 'away' } });
    expect(useUsers.getState().presence.U2).toBe('away');
    expect(() => apply({ type: 'something.new', data: { x: 1 } })).not.toThrow();
    expect(() => apply({ type: 'message.created', data: {} })).not.toThrow();
    expect(() => apply({ type: 'message.created' })).not.toThrow();
  });

  it('removes a typing indicator when that user’s message arrives', () => {
    const { apply } = setup();
    apply({ type: 'typing', data: { channel_id: 'C1', user_id: 'U2' } });
    apply({ type: 'message.created', data: { message: message({ author_id: 'U2' }) } });
    expect(useUsers.getState().typing.C1.U2).toBeUndefined();
  });

  it('tracks channel creation and our own membership changes', () => {
    const { apply, hooks } = setup();
    apply({ type: 'channel.created', data: { channel: channel({ id: 'C9', name: 'new', is_member: undefined }) } });
    expect(ch('C9').is_member).toBe(false);
    apply({ type: 'channel.created', data: { channel: channel({ id: 'C8', name: 'mine', is_member: undefined, created_by: 'U1' }) } });
    expect(ch('C8').is_member).toBe(true);
    apply({ type: 'channel.member_joined', data: { channel_id: 'C9', user_id: 'U1' } });
    expect(ch('C9').is_member).toBe(true);
    apply({ type: 'channel.member_left', data: { channel_id: 'C9', user_id: 'U1' } });
    expect(ch('C9').is_member).toBe(false);
    expect(hooks.leftChannel).toHaveBeenCalledWith('C9');
  });

  it('updates and deletes messages', () => {
    const { apply } = setup();
    const m = message();
    useMessages.getState().setPage('C1', [m], 'replace', false);
    apply({ type: 'message.updated', data: { message: { ...m, text: 'edited', edited_at: '2030-01-02T00:00:00Z' } } });
    expect(useMessages.getState().byId[m.id]).toMatchObject({ text: 'edited', edited_at: '2030-01-02T00:00:00Z' });
    apply({ type: 'message.deleted', data: { message_id: m.id, channel_id: 'C1' } });
    expect(useMessages.getState().channels.C1.ids).toEqual([]);
  });

  it('understands the server’s event shapes for channels, members and deletions', () => {
    const { apply, hooks } = setup();
    const m = message();
    useMessages.getState().setPage('C1', [m], 'replace', false);
    apply({
      type: 'message.deleted',
      data: { workspace_id: 'W1', channel_id: 'C1', message_id: m.id, message: { ...m, text: '', deleted: true } },
    });
    expect(useMessages.getState().channels.C1.ids).toEqual([]);

    // Someone else joins a public channel we have never seen: it stays out of our sidebar.
    const other = channel({ id: 'C7', name: 'elsewhere', is_member: undefined });
    apply({ type: 'channel.member_joined', data: { workspace_id: 'W1', channel_id: 'C7', user_id: 'U2', channel: other } });
    expect(ch('C7').is_member).toBe(false);
    apply({ type: 'channel.member_joined', data: { workspace_id: 'W1', channel_id: 'C7', user_id: 'U1', channel: other } });
    expect(ch('C7').is_member).toBe(true);
    apply({ type: 'channel.updated', data: { workspace_id: 'W1', channel_id: 'C7', channel: { ...other, topic: 'new topic' } } });
    expect(ch('C7')).toMatchObject({ topic: 'new topic', is_member: true });

    useWorkspaces.getState().setWorkspaces([{ id: 'W1', name: 'W', created_at: '', role: 'member' }]);
    useWorkspaces.getState().setMembers('W1', [
      { user_id: 'U1', role: 'member', joined_at: '' },
      { user_id: 'U2', role: 'member', joined_at: '' },
    ]);
    apply({ type: 'workspace.member_updated', data: { workspace_id: 'W1', user_id: 'U1', member: { user_id: 'U1', role: 'admin', joined_at: '' } } });
    expect(useWorkspaces.getState().workspaces[0].role).toBe('admin');
    apply({ type: 'workspace.member_left', data: { workspace_id: 'W1', user_id: 'U2', member: { user_id: 'U2', role: 'member', joined_at: '' } } });
    expect(useWorkspaces.getState().members.W1.map((x) => x.user_id)).toEqual(['U1']);
    hooks.leftWorkspace = vi.fn();
    apply({ type: 'workspace.member_left', data: { workspace_id: 'W1', user_id: 'U1' } });
    expect(useWorkspaces.getState().workspaces).toEqual([]);
    expect(ch('C1')).toBeUndefined();
    expect(hooks.leftWorkspace).toHaveBeenCalledWith('W1');
  });

  it('names a direct message that arrives by event after its members', () => {
    const { apply, hooks } = setup();
    const dm = channel({ id: 'D9', kind: 'dm', name: '', is_member: undefined, member_ids: ['U1', 'U2'] });
    apply({ type: 'channel.created', data: { workspace_id: 'W1', channel_id: 'D9', channel: dm } });
    expect(ch('D9').is_member).toBe(true);
    expect(useWorkspaces.getState().channelMembers.D9).toEqual(['U1', 'U2']);
    expect(hooks.ensureUsers).toHaveBeenCalledWith(['U1', 'U2']);
  });

  it('adds a notification to the inbox and alerts once, however often it is delivered', () => {
    useNotifications.getState().reset();
    const notified = vi.fn();
    const apply = createEventHandler({ ...setup().hooks, notified });
    const data = { id: 'N1', kind: 'mention', message_id: 'M1', channel_id: 'C1', created_at: '2025-01-01T00:00:00Z', read: false, preview: 'hey', author_id: 'U2' };
    apply({ type: 'notification', cursor: '7', data });
    apply({ type: 'notification', cursor: '7', data });
    expect(useNotifications.getState().items.map((n) => n.id)).toEqual(['N1']);
    expect(notified).toHaveBeenCalledTimes(1);
    expect(notified).toHaveBeenCalledWith(expect.objectContaining({ id: 'N1', kind: 'mention' }), 'hey', 'U2');
  });

  it('keeps a notification that arrived live when an inbox fetched before it answers after it', () => {
    useNotifications.getState().reset();
    const apply = createEventHandler({ ...setup().hooks, notified: vi.fn() });
    const older = { id: 'N0', kind: 'dm', message_id: 'M0', channel_id: 'C1', created_at: '2025-01-01T00:00:00Z', read: false, preview: 'hi', author_id: 'U2' };
    const live = { ...older, id: 'N1', message_id: 'M1', created_at: '2025-01-02T00:00:00Z' };
    apply({ type: 'notification', cursor: '7', data: live });
    useNotifications.getState().setAll([older] as never);
    expect(useNotifications.getState().items.map((n) => [n.id, n.read])).toEqual([['N1', false], ['N0', false]]);
    // Read here while a fetch that still saw it unread was in flight: it stays read.
    useNotifications.getState().markRead(['N1']);
    useNotifications.getState().setAll([live, older] as never);
    expect(useNotifications.getState().items.map((n) => [n.id, n.read])).toEqual([['N1', true], ['N0', false]]);
  });
});
