import { describe, expect, it } from 'vitest';
import type { AuditEntry, User } from '../../api/types';
import { auditSentence } from './AuditLogModal';

const person = (id: string, display_name: string): User => ({
  id,
  display_name,
  title: null,
  timezone: null,
  status_text: null,
  status_emoji: null,
  avatar_url: null,
  created_at: '2030-01-01T00:00:00Z',
});

const entry = (fields: Partial<AuditEntry>): AuditEntry => ({
  id: 'E1',
  action: 'login',
  actor_id: null,
  target: null,
  ip: null,
  details: {},
  occurred_at: '2030-01-01T00:00:00Z',
  ...fields,
});

describe('audit log sentences', () => {
  const users = { A: person('A', 'Ada'), B: person('B', '<img src=x onerror=alert(1)>') };

  it('names who did what to whom', () => {
    expect(auditSentence(entry({ action: 'role_changed', actor_id: 'A', target: { type: 'user', id: 'B' }, details: { role: 'admin' } }), users)).toBe(
      'Ada made <img src=x onerror=alert(1)> an admin',
    );
    expect(auditSentence(entry({ action: 'login_failed', target: { type: 'user', id: 'A' } }), users)).toBe('A sign-in as Ada failed');
    expect(auditSentence(entry({ action: 'session_revoked', actor_id: 'A', details: { reason: 'refresh_token_reused' } }), users)).toBe(
      'Ada ended a session (refresh token reused)',
    );
    expect(auditSentence(entry({ action: 'message_deleted', actor_id: 'A', details: { author_id: 'B' } }), users)).toMatch(/^Ada deleted a message by /);
    expect(auditSentence(entry({ action: 'channel_archived', actor_id: 'A', details: { name: 'old' } }), users)).toBe('Ada archived #old');
    expect(auditSentence(entry({ action: 'workspace_exported', actor_id: 'A' }), users)).toBe('Ada exported the workspace');
  });

  it('falls back for people not loaded yet and actions it does not know', () => {
    expect(auditSentence(entry({ action: 'login', actor_id: 'ZZZZ1234' }), users)).toBe('user-1234 signed in');
    expect(auditSentence(entry({ action: 'something_new' }), users)).toBe('Someone: something_new');
  });
});
