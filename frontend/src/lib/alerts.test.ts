import { describe, expect, it } from 'vitest';
import type { AppNotification } from '../api/types';
import { alertText, notifyDesktop } from './alerts';

const note = (kind: AppNotification['kind']): AppNotification => ({
  id: 'N1',
  kind,
  message_id: 'M1',
  channel_id: 'C1',
  created_at: '2025-01-01T00:00:00Z',
  read: false,
});

describe('notification alerts', () => {
  it('say who did what, and where unless it was a direct message', () => {
    expect(alertText(note('mention'), 'Alice', '#general', 'hi')).toEqual({ title: 'Alice mentioned you in #general', body: 'hi' });
    expect(alertText(note('dm'), 'Bob', '#ignored', 'psst').title).toBe('Bob sent you a message');
    expect(alertText(note('thread_reply'), 'Carol', null, '').title).toBe('Carol replied in a thread');
  });

  it('leave a visible tab to in-app toasts', () => {
    expect(notifyDesktop('N1', { title: 't', body: 'b' }, () => undefined)).toBe(false);
  });
});
