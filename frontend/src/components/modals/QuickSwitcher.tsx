import { useMemo, useState } from 'react';
import { useAuth } from '../../stores/auth';
import { activeIds, useUi } from '../../stores/ui';
import { useUsers } from '../../stores/users';
import { sidebarChannels, useWorkspaces } from '../../stores/workspaces';
import { channelLabel } from '../Sidebar';
import { Modal } from '../ui/Modal';

/** Ctrl/Cmd+K: jump to any channel or conversation by typing part of its name. */
export function QuickSwitcher({ onClose }: { onClose: () => void }) {
  const workspaceId = useUi((s) => activeIds(s.route).workspaceId);
  const navigate = useUi((s) => s.navigate);
  const channels = useWorkspaces((s) => s.channels);
  const members = useWorkspaces((s) => s.channelMembers);
  const users = useUsers((s) => s.users);
  const self = useAuth((s) => s.user?.id ?? null);
  const [query, setQuery] = useState('');
  const [index, setIndex] = useState(0);

  const options = useMemo(() => {
    const groups = sidebarChannels(channels, workspaceId);
    const all = [...groups.channels, ...groups.dms, ...groups.browsable].map((c) => ({
      channel: c,
      label: channelLabel(c, members[c.id], users, self),
    }));
    const q = query.toLowerCase().replace(/^#/, '');
    return all
      .filter((o) => o.label.toLowerCase().includes(q))
      .sort((a, b) => Number(!a.label.toLowerCase().startsWith(q)) - Number(!b.label.toLowerCase().startsWith(q)))
      .slice(0, 12);
  }, [channels, members, users, self, workspaceId, query]);

  const go = (i: number) => {
    const o = options[i];
    if (!o) return;
    onClose();
    navigate({ name: 'app', workspaceId, channelId: o.channel.id });
  };

  return (
    <Modal title="Switch to…" onClose={onClose} testId="quick-switcher">
      <input
        className="input"
        placeholder="Jump to a channel or conversation"
        aria-label="Jump to"
        role="combobox"
        aria-expanded="true"
        aria-controls="switcher-options"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setIndex(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setIndex((i) => Math.min(i + 1, options.length - 1));
          } else if (e.key === 'ArrowUp') {
            e.preventDefault();
            setIndex((i) => Math.max(i - 1, 0));
          } else if (e.key === 'Enter') {
            e.preventDefault();
            go(index);
          }
        }}
      />
      <ul id="switcher-options" role="listbox" className="mt-2">
        {options.map((o, i) => (
          <li key={o.channel.id} role="option" aria-selected={i === index}>
            <button type="button" className={`w-full rounded px-2 py-1.5 text-left ${i === index ? 'bg-slack-blue text-white' : 'hover:bg-zinc-100 dark:hover:bg-zinc-800'}`} onClick={() => go(i)} onMouseEnter={() => setIndex(i)}>
              {o.channel.kind === 'public' || o.channel.kind === 'private' ? `# ${o.label}` : o.label}
              {o.channel.is_member === false && <span className="ml-2 text-xs opacity-70">(not joined)</span>}
            </button>
          </li>
        ))}
      </ul>
    </Modal>
  );
}
