import { useEffect, useRef } from 'react';
import type { Id } from '../../api/types';
import { useMessages } from '../../stores/messages';
import { useWorkspaces } from '../../stores/workspaces';
import { Composer } from '../Composer';
import { MessageItem } from '../MessageItem';
import { useChannelLabel } from '../Sidebar';
import { useUi } from '../../stores/ui';
import { PanelFrame } from './RightPanel';

export function ThreadPanel({ rootId }: { rootId: Id }) {
  const root = useMessages((s) => s.byId[rootId]);
  const thread = useMessages((s) => s.threads[rootId]);
  const channel = useWorkspaces((s) => (root ? s.channels[root.channel_id] : undefined));
  const label = useChannelLabel(channel);
  const highlight = useUi((s) => s.highlightMessageId);
  const endRef = useRef<HTMLDivElement>(null);
  const count = thread?.ids.length ?? 0;

  useEffect(() => {
    endRef.current?.scrollIntoView({ block: 'end' });
  }, [count]);

  return (
    <PanelFrame
      title="Thread"
      subtitle={channel ? (channel.kind === 'dm' || channel.kind === 'group_dm' ? label : `#${label}`) : undefined}
      testId="thread-panel"
      footer={root && channel ? <Composer channelId={root.channel_id} workspaceId={channel.workspace_id} threadRootId={rootId} placeholder="Reply…" testId="thread-composer" /> : null}
    >
      {!root ? (
        <p className="p-4 text-sm text-zinc-500">Loading thread…</p>
      ) : (
        <div className="py-2">
          <MessageItem messageId={rootId} grouped={false} inThread />
          <div className="my-2 flex items-center gap-2 px-5 text-xs text-zinc-500">
            <span>{count} {count === 1 ? 'reply' : 'replies'}</span>
            <span className="h-px flex-1 bg-zinc-200 dark:bg-zinc-800" />
          </div>
          <div role="list" aria-label="Replies" data-testid="thread-replies-list">
            {(thread?.ids ?? []).map((id) => (
              <MessageItem key={id} messageId={id} grouped={false} inThread highlighted={id === highlight} />
            ))}
          </div>
          {!thread?.loaded && <p className="px-5 text-sm text-zinc-500">Loading replies…</p>}
          <div ref={endRef} />
        </div>
      )}
    </PanelFrame>
  );
}
