import { useEffect, useMemo, useState } from 'react';
import { errorMessage } from '../../api/client';
import type { Id } from '../../api/types';
import { loadMembers, openDm } from '../../stores/actions';
import { useAuth } from '../../stores/auth';
import { activeIds, useUi } from '../../stores/ui';
import { useUsers } from '../../stores/users';
import { useWorkspaces } from '../../stores/workspaces';
import { Avatar } from '../ui/Avatar';
import { Modal } from '../ui/Modal';

export function NewDm({ onClose }: { onClose: () => void }) {
  const workspaceId = useUi((s) => activeIds(s.route).workspaceId);
  const navigate = useUi((s) => s.navigate);
  const members = useWorkspaces((s) => (workspaceId ? s.members[workspaceId] : undefined));
  const users = useUsers((s) => s.users);
  const self = useAuth((s) => s.user?.id);
  const [filter, setFilter] = useState('');
  const [selected, setSelected] = useState<Id[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (workspaceId) void loadMembers(workspaceId).catch(() => undefined);
  }, [workspaceId]);

  const people = useMemo(
    () =>
      (members ?? [])
        .map((m) => m.user_id)
        .filter((id) => id !== self)
        .filter((id) => (users[id]?.display_name ?? '').toLowerCase().includes(filter.toLowerCase())),
    [members, users, self, filter],
  );

  const start = async () => {
    if (!workspaceId || !selected.length) return;
    try {
      const ch = await openDm(workspaceId, selected);
      onClose();
      navigate({ name: 'app', workspaceId, channelId: ch.id });
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <Modal title="New direct message" onClose={onClose} testId="new-dm-modal">
      <input className="input mb-3" placeholder="Find people" aria-label="Find people" value={filter} onChange={(e) => setFilter(e.target.value)} />
      <ul role="listbox" aria-multiselectable="true" aria-label="People" className="max-h-72 overflow-y-auto">
        {people.map((id) => {
          const on = selected.includes(id);
          return (
            <li key={id} role="option" aria-selected={on}>
              <button
                type="button"
                className={`flex w-full items-center gap-2 rounded px-2 py-1.5 text-left ${on ? 'bg-sky-100 dark:bg-sky-900/40' : 'hover:bg-zinc-100 dark:hover:bg-zinc-800'}`}
                onClick={() => setSelected((s) => (on ? s.filter((x) => x !== id) : s.length < 8 ? [...s, id] : s))}
                data-testid="dm-person"
              >
                <Avatar user={users[id]} id={id} size="sm" />
                <span>{users[id]?.display_name ?? '…'}</span>
                {on && <span className="ml-auto text-xs text-sky-700">✓</span>}
              </button>
            </li>
          );
        })}
        {people.length === 0 && <li className="p-2 text-sm text-zinc-500">Nobody else here yet. Invite people first.</li>}
      </ul>
      {error && <p className="field-error" role="alert">{error}</p>}
      <div className="mt-4 flex justify-end">
        <button type="button" className="btn btn-primary" disabled={!selected.length} onClick={() => void start()} data-testid="start-dm">
          Start conversation
        </button>
      </div>
    </Modal>
  );
}
