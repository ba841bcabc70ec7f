import type { Channel, Message } from '../api/types';

let seq = 0;

export function message(overrides: Partial<Message> = {}): Message {
  seq++;
  const n = String(seq).padStart(6, '0');
  return {
    id: `m${n}`,
    channel_id: 'C1',
    author_id: 'U2',
    text: `message ${n}`,
    thread_root_id: null,
    reply_count: 0,
    reactions: [],
    files: [],
    mentions: [],
    created_at: new Date(Date.UTC(2030, 0, 1) + seq * 1000).toISOString(),
    edited_at: null,
    deleted: false,
    client_msg_id: null,
    ...overrides,
  };
}

export function channel(overrides: Partial<Channel> = {}): Channel {
  return {
    id: 'C1',
    workspace_id: 'W1',
    name: 'general',
    kind: 'public',
    topic: null,
    archived: false,
    created_at: '2030-01-01T00:00:00Z',
    is_member: true,
    unread_count: 0,
    mention_count: 0,
    last_read_message_id: null,
    ...overrides,
  };
}
