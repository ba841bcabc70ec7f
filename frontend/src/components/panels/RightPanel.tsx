import { lazy, Suspense, type ReactNode } from 'react';
import { useUi } from '../../stores/ui';
import { Icon } from '../ui/Icon';
import { DetailsPanel } from './DetailsPanel';
import { HistoryPanel } from './HistoryPanel';
import { NotificationsPanel } from './NotificationsPanel';
import { PinsPanel } from './PinsPanel';
import { SearchPanel } from './SearchPanel';
import { ThreadPanel } from './ThreadPanel';

// Rarely used: kept out of the first bundle.
const AiPanel = lazy(() => import('./AiPanel'));

export function RightPanel() {
  const panel = useUi((s) => s.rightPanel);
  if (!panel) return null;
  switch (panel.kind) {
    case 'thread':
      return <ThreadPanel key={panel.rootId} rootId={panel.rootId} />;
    case 'search':
      return <SearchPanel key={panel.query} query={panel.query} />;
    case 'pins':
      return <PinsPanel />;
    case 'details':
      return <DetailsPanel />;
    case 'history':
      return <HistoryPanel key={panel.messageId} messageId={panel.messageId} />;
    case 'notifications':
      return <NotificationsPanel />;
    case 'ai':
      return (
        <Suspense fallback={<PanelFrame title="AI">Loading…</PanelFrame>}>
          <AiPanel />
        </Suspense>
      );
  }
}

export function PanelFrame({ title, subtitle, children, testId, footer }: { title: string; subtitle?: string; children: ReactNode; testId?: string; footer?: ReactNode }) {
  const close = useUi((s) => s.closePanel);
  return (
    <aside className="panel" aria-label={title} data-testid={testId}>
      <div className="flex h-12 shrink-0 items-center justify-between border-b border-zinc-200 px-4 dark:border-zinc-800">
        <div className="min-w-0">
          <h2 className="truncate font-bold">{title}</h2>
          {subtitle && <p className="truncate text-xs text-zinc-500">{subtitle}</p>}
        </div>
        <button type="button" className="icon-btn" aria-label={`Close ${title}`} onClick={close} data-testid="close-panel">
          <Icon name="close" />
        </button>
      </div>
      <div className="min-h-0 flex-1 overflow-y-auto">{children}</div>
      {footer}
    </aside>
  );
}
