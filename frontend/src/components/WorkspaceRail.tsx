import { useUi, activeIds } from '../stores/ui';
import { useWorkspaces } from '../stores/workspaces';
import { initials } from './ui/Avatar';
import { Icon } from './ui/Icon';

export function WorkspaceRail() {
  const workspaces = useWorkspaces((s) => s.workspaces);
  const channels = useWorkspaces((s) => s.channels);
  const route = useUi((s) => s.route);
  const navigate = useUi((s) => s.navigate);
  const openModal = useUi((s) => s.openModal);
  const { workspaceId } = activeIds(route);

  return (
    <nav className="flex w-16 shrink-0 flex-col items-center gap-2 bg-aubergine-950 py-3" aria-label="Workspaces">
      <ul className="flex flex-col items-center gap-2" role="list">
        {workspaces.map((w) => {
          const active = w.id === workspaceId;
          const unread = !active && Object.values(channels).some((c) => c.workspace_id === w.id && (c.mention_count ?? 0) > 0);
          return (
            <li key={w.id} className="relative">
              <button
                type="button"
                title={w.name}
                aria-label={`Workspace ${w.name}`}
                aria-current={active ? 'true' : undefined}
                data-testid="workspace-button"
                onClick={() => navigate({ name: 'app', workspaceId: w.id, channelId: null })}
                className={`flex h-10 w-10 items-center justify-center rounded-lg text-sm font-bold text-white transition ${active ? 'bg-aubergine-600 ring-2 ring-white' : 'bg-aubergine-700 hover:bg-aubergine-600'}`}
              >
                {initials(w.name)}
              </button>
              {unread && <span className="absolute -top-1 -right-1 h-3 w-3 rounded-full border-2 border-aubergine-950 bg-red-500" aria-label="has mentions" />}
            </li>
          );
        })}
      </ul>
      <button
        type="button"
        className="flex h-10 w-10 items-center justify-center rounded-lg bg-aubergine-800 text-white/80 hover:bg-aubergine-700 hover:text-white"
        aria-label="Create workspace"
        title="Create workspace"
        data-testid="create-workspace"
        onClick={() => openModal('createWorkspace')}
      >
        <Icon name="plus" className="h-5 w-5" />
      </button>
    </nav>
  );
}
