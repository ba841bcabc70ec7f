import { memo, useCallback, useEffect, useMemo } from 'react';
import type { Channel, Id } from '../api/types';
import { useChatVirtualizer } from '../hooks/useChatVirtualizer';
import { GROUP_WINDOW_MS, dayKey, formatDay } from '../lib/time';
import { loadNewer, loadOlder, markChannelViewed } from '../stores/actions';
import { type ChatMessage, useMessages } from '../stores/messages';
import { useUi } from '../stores/ui';
import { MessageItem } from './MessageItem';

type Row = { key: string; kind: 'top' } | { key: string; kind: 'day'; label: string } | { key: string; kind: 'message'; id: Id; grouped: boolean };

export function buildRows(ids: Id[], byId: Record<Id, ChatMessage>): Row[] {
  const rows: Row[] = [{ key: 'top', kind: 'top' }];
  let prev: ChatMessage | undefined;
  let prevDay = '';
  for (const id of ids) {
    const m = byId[id];
    if (!m) continue;
    const day = dayKey(m.created_at);
    if (day !== prevDay) {
      rows.push({ key: `day:${day}`, kind: 'day', label: formatDay(day) });
      prevDay = day;
      prev = undefined;
    }
    const grouped =
      !!prev &&
      prev.author_id === m.author_id &&
      !prev.deleted &&
      Date.parse(m.created_at) - Date.parse(prev.created_at) < GROUP_WINDOW_MS;
    rows.push({ key: id, kind: 'message', id, grouped });
    prev = m;
  }
  return rows;
}

export const MessageList = memo(function MessageList({ channel, label }: { channel: Channel; label: string }) {
  const timeline = useMessages((s) => s.channels[channel.id]);
  const byId = useMessages((s) => s.byId);
  const highlight = useUi((s) => s.highlightMessageId);
  const setHighlight = useUi((s) => s.setHighlight);
  const ids = timeline?.ids;
  const rows = useMemo(() => buildRows(ids ?? [], byId), [ids, byId]);
  const keys = useMemo(() => rows.map((r) => r.key), [rows]);
  const rowByKey = useMemo(() => new Map(rows.map((r) => [r.key, r])), [rows]);

  const onNearTop = useCallback(() => void loadOlder(channel.id).catch(() => undefined), [channel.id]);
  const onNearBottom = useCallback(() => {
    if (useMessages.getState().channels[channel.id]?.hasNewer) void loadNewer(channel.id).catch(() => undefined);
    else markChannelViewed(channel.id);
  }, [channel.id]);

  const v = useChatVirtualizer({ keys, estimate: 56, onNearTop, onNearBottom });

  // Jump to a highlighted message once it is in the timeline, then let the flash fade.
  useEffect(() => {
    if (!highlight || !rowByKey.has(highlight)) return;
    requestAnimationFrame(() => v.scrollToKey(highlight));
    const t = setTimeout(() => setHighlight(null), 3_000);
    return () => clearTimeout(t);
    // Only when the highlight target changes or first becomes available.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [highlight, rowByKey.has(highlight ?? '')]);

  // A short first page may not fill the screen: keep loading until it does.
  useEffect(() => {
    const el = v.scrollRef.current;
    if (el && timeline?.hasOlder && el.scrollHeight <= el.clientHeight + 10) onNearTop();
  }, [timeline?.hasOlder, v.total, onNearTop, v.scrollRef]);

  return (
    <div
      ref={v.scrollRef}
      onScroll={v.onScroll}
      className="relative min-h-0 flex-1 overflow-y-auto overscroll-contain"
      role="log"
      aria-label={`Messages in ${label}`}
      aria-live="polite"
      data-testid="message-list"
    >
      <div className="relative w-full" style={{ height: v.total }}>
        {v.rows.map(({ key, top }) => {
          const row = rowByKey.get(key)!;
          return (
            <div key={key} data-vkey={key} ref={v.measureRef} className="absolute inset-x-0" style={{ transform: `translateY(${top}px)` }}>
              {row.kind === 'top' ? (
                <TimelineTop channel={channel} label={label} hasOlder={!!timeline?.hasOlder} loaded={!!timeline?.loaded} />
              ) : row.kind === 'day' ? (
                <DaySeparator label={row.label} />
              ) : (
                <MessageItem messageId={row.id} grouped={row.grouped} highlighted={row.id === highlight} />
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
});

function DaySeparator({ label }: { label: string }) {
  return (
    <div className="relative my-2 flex items-center justify-center" role="separator" aria-label={label} data-testid="day-separator">
      <div className="absolute inset-x-0 top-1/2 border-t border-zinc-200 dark:border-zinc-800" />
      <span className="relative rounded-full border border-zinc-200 bg-white px-3 py-0.5 text-xs font-semibold text-zinc-700 dark:border-zinc-700 dark:bg-zinc-950 dark:text-zinc-300">{label}</span>
    </div>
  );
}

function TimelineTop({ channel, label, hasOlder, loaded }: { channel: Channel; label: string; hasOlder: boolean; loaded: boolean }) {
  if (!loaded || hasOlder) {
    return <div className="py-4 text-center text-sm text-zinc-500" aria-busy="true">Loading messages…</div>;
  }
  const isDm = channel.kind === 'dm' || channel.kind === 'group_dm';
  return (
    <div className="px-5 pt-10 pb-4" data-testid="channel-intro">
      <h2 className="text-2xl font-bold">{isDm ? label : `# ${label}`}</h2>
      <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
        {isDm ? `This is the very beginning of your direct message history with ${label}.` : `This is the very beginning of the #${label} channel.`}
        {channel.topic ? ` Topic: ${channel.topic}` : ''}
      </p>
    </div>
  );
}
