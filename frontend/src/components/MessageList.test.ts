import { describe, expect, it } from 'vitest';
import { buildRows } from './MessageList';
import type { ChatMessage } from '../stores/messages';
import { message } from '../test/fixtures';

describe('timeline rows', () => {
  it('adds day separators and groups consecutive messages by the same author', () => {
    const base = Date.UTC(2030, 5, 1, 12, 0, 0);
    const at = (min: number) => new Date(base + min * 60_000).toISOString();
    const msgs: ChatMessage[] = [
      message({ id: 'a', author_id: 'U1', created_at: at(0) }),
      message({ id: 'b', author_id: 'U1', created_at: at(1) }),
      message({ id: 'c', author_id: 'U2', created_at: at(2) }),
      message({ id: 'd', author_id: 'U2', created_at: at(20) }),
      message({ id: 'e', author_id: 'U2', created_at: at(24 * 60) }),
    ];
    const byId = Object.fromEntries(msgs.map((m) => [m.id, m]));
    const rows = buildRows(msgs.map((m) => m.id), byId);
    expect(rows.map((r) => (r.kind === 'message' ? `${r.id}${r.grouped ? '+' : ''}` : r.kind))).toEqual([
      'top',
      'day',
      'a',
      'b+',
      'c',
      'd',
      'day',
      'e',
    ]);
  });
});
