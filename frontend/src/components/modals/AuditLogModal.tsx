import { useCallback, useEffect, useState } from 'react';
import { errorMessage } from '../../api/client';
import { workspacesApi } from '../../api/endpoints';
import type { AuditEntry, Id, User } from '../../api/types';
import { formatFull } from '../../lib/time';
import { ensureUsers } from '../../stores/actions';
import { activeIds, useUi } from '../../stores/ui';
import { displayName, useUsers } from '../../stores/users';
import { downloadFile } from '../ui/AuthImage';
import { Modal } from '../ui/Modal';

const ACTIONS: Array<[string, string]> = [
  ['', 'All actions'],
  ['login', 'Sign-ins'],
  ['login_failed', 'Failed sign-ins'],
  ['session_revoked', 'Ended sessions'],
  ['role_changed', 'Role changes'],
  ['invite_created', 'Invites'],
  ['member_removed', 'Removals'],
  ['member_left', 'Departures'],
  ['channel_archived', 'Archived channels'],
  ['channel_unarchived', 'Unarchived channels'],
  ['message_deleted', 'Moderated messages'],
  ['workspace_exported', 'Exports'],
];

/** The people an entry names, for loading their profiles. */
function peopleOf(entry: AuditEntry): Id[] {
  const ids = [entry.actor_id, entry.target?.type === 'user' ? entry.target.id : null, entry.details.author_id as Id | null];
  return ids.filter((id): id is Id => typeof id === 'string');
}

/** What happened, in a sentence; every name is rendered as text. */
export function auditSentence(entry: AuditEntry, users: Record<Id, User>): string {
  const name = (id: Id | null | undefined) => (id ? displayName(users, id) : 'Someone');
  const actor = name(entry.actor_id);
  const target = entry.target?.type === 'user' ? name(entry.target.id) : '';
  const detail = (key: string) => String(entry.details[key] ?? '');
  switch (entry.action) {
    case 'login':
      return `${actor} signed in`;
    case 'login_failed':
      return `A sign-in as ${target} failed`;
    case 'session_revoked':
      return `${actor} ended a session (${detail('reason').replaceAll('_', ' ')})`;
    case 'role_changed':
      return `${actor} made ${target} ${detail('role') === 'admin' ? 'an admin' : `a ${detail('role')}`}`;
    case 'invite_created':
      return `${actor} created an invite link (…${detail('code_hint')})`;
    case 'member_removed':
      return `${actor} removed ${target} from the workspace`;
    case 'member_left':
      return `${actor} left the workspace`;
    case 'channel_archived':
      return `${actor} archived #${detail('name')}`;
    case 'channel_unarchived':
      return `${actor} unarchived #${detail('name')}`;
    case 'message_deleted':
      return `${actor} deleted a message by ${name(entry.details.author_id as Id)}`;
    case 'workspace_exported':
      return `${actor} exported the workspace`;
    default:
      return `${actor}: ${entry.action}`;
  }
}

export function AuditLogModal({ onClose }: { onClose: () => void }) {
  const workspaceId = useUi((s) => activeIds(s.route).workspaceId);
  const users = useUsers((s) => s.users);
  const [action, setAction] = useState('');
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [hasMore, setHasMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);

  const exportWorkspace = async () => {
    if (!workspaceId) return;
    setExporting(true);
    setError(null);
    try {
      const today = new Date().toISOString().slice(0, 10);
      await downloadFile(`/api/v1/workspaces/${encodeURIComponent(workspaceId)}/export`, `echo-export-${workspaceId}-${today}.zip`);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setExporting(false);
    }
  };

  const load = useCallback(
    async (before?: Id) => {
      if (!workspaceId) return;
      setError(null);
      try {
        const page = await workspacesApi.auditLog(workspaceId, { before, action: action || undefined });
        ensureUsers(page.entries.flatMap(peopleOf));
        setEntries((shown) => (before ? [...shown, ...page.entries] : page.entries));
        setHasMore(page.has_more);
      } catch (e) {
        setError(errorMessage(e));
      }
    },
    [workspaceId, action],
  );

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <Modal title="Audit log" onClose={onClose} testId="audit-log-modal">
      <label className="mb-3 flex items-center gap-2 text-sm">
        Show
        <select className="input w-auto" value={action} onChange={(e) => setAction(e.target.value)} data-testid="audit-log-filter">
          {ACTIONS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <ul className="max-h-96 divide-y divide-zinc-200 overflow-y-auto text-sm dark:divide-zinc-700" data-testid="audit-log">
        {entries.map((entry) => (
          <li key={entry.id} className="py-2" data-testid="audit-entry">
            <p>{auditSentence(entry, users)}</p>
            <p className="text-xs text-zinc-500">
              {formatFull(entry.occurred_at)}
              {entry.ip && ` · ${entry.ip}`}
              {typeof entry.details.user_agent === 'string' && entry.details.user_agent && ` · ${entry.details.user_agent}`}
            </p>
          </li>
        ))}
        {entries.length === 0 && !error && <li className="py-2 text-zinc-500">Nothing recorded yet.</li>}
      </ul>
      {hasMore && (
        <button type="button" className="btn btn-secondary mt-3" onClick={() => void load(entries.at(-1)?.id)} data-testid="audit-log-more">
          Show older
        </button>
      )}
      <div className="mt-4 flex items-center justify-between gap-3 border-t border-zinc-200 pt-3 text-sm dark:border-zinc-700">
        <p className="text-zinc-500">Everything in this workspace as a ZIP: messages, threads, edits, reactions, files.</p>
        <button type="button" className="btn btn-secondary shrink-0" disabled={exporting} onClick={() => void exportWorkspace()} data-testid="export-workspace">
          {exporting ? 'Exporting…' : 'Export workspace'}
        </button>
      </div>
      {error && <p className="field-error" role="alert">{error}</p>}
    </Modal>
  );
}
