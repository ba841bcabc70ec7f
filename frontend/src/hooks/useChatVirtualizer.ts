import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';

/**
 * A small virtualizer for a chat timeline: variable, measured row heights; the view sticks to
 * the bottom while the user is there; and the row at the top of the viewport stays put when
 * rows are added above it (older history) or rows above change height.
 */
export interface VirtualRow {
  key: string;
  index: number;
  top: number;
}

interface Options {
  keys: string[];
  estimate: number;
  overscanPx?: number;
  onNearTop?: () => void;
  onNearBottom?: () => void;
}

export function useChatVirtualizer({ keys, estimate, overscanPx = 800, onNearTop, onNearBottom }: Options) {
  const scrollRef = useRef<HTMLDivElement | null>(null);
  const heights = useRef(new Map<string, number>());
  const [measureVersion, setMeasureVersion] = useState(0);
  const [viewport, setViewport] = useState({ top: 0, height: 800 });
  const atBottom = useRef(true);
  const anchor = useRef<{ key: string; delta: number } | null>(null);
  const pendingMeasure = useRef(false);

  const indexOf = useMemo(() => new Map(keys.map((k, i) => [k, i])), [keys]);

  const offsets = useMemo(() => {
    const o = new Float64Array(keys.length + 1);
    const h = heights.current;
    for (let i = 0; i < keys.length; i++) o[i + 1] = o[i] + (h.get(keys[i]) ?? estimate);
    return o;
    // measureVersion is the signal that `heights` changed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [keys, estimate, measureVersion]);

  const total = offsets[keys.length];

  const findIndex = useCallback(
    (y: number) => {
      let lo = 0;
      let hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (offsets[mid + 1] <= y) lo = mid + 1;
        else hi = mid;
      }
      return Math.min(lo, Math.max(0, keys.length - 1));
    },
    [offsets, keys.length],
  );

  const first = keys.length ? findIndex(Math.max(0, viewport.top - overscanPx)) : 0;
  const last = keys.length ? findIndex(viewport.top + viewport.height + overscanPx) : -1;
  const rows: VirtualRow[] = [];
  for (let i = first; i <= last; i++) rows.push({ key: keys[i], index: i, top: offsets[i] });

  const recordAnchor = useCallback(() => {
    const el = scrollRef.current;
    if (!el || !keys.length) return;
    const i = findIndex(el.scrollTop);
    anchor.current = { key: keys[i], delta: offsets[i] - el.scrollTop };
  }, [findIndex, keys, offsets]);

  // After every layout change, restore the reading position.
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    } else if (anchor.current) {
      const i = indexOf.get(anchor.current.key);
      if (i !== undefined) {
        const want = offsets[i] - anchor.current.delta;
        if (Math.abs(el.scrollTop - want) > 1) el.scrollTop = want;
      }
    }
  }, [offsets, indexOf]);

  const onScroll = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
    recordAnchor();
    setViewport((v) => (v.top === el.scrollTop && v.height === el.clientHeight ? v : { top: el.scrollTop, height: el.clientHeight }));
    if (el.scrollTop < 600) onNearTop?.();
    if (el.scrollHeight - el.scrollTop - el.clientHeight < 600) onNearBottom?.();
  }, [recordAnchor, onNearTop, onNearBottom]);

  // The viewport itself can resize (window, side panel, composer growing).
  useEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() => {
      setViewport({ top: el.scrollTop, height: el.clientHeight });
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const rowObserver = useMemo(
    () =>
      typeof ResizeObserver === 'undefined'
        ? null
        : new ResizeObserver((entries) => {
            let changed = false;
            for (const entry of entries) {
              const key = (entry.target as HTMLElement).dataset.vkey;
              if (!key) continue;
              const h = Math.ceil((entry.target as HTMLElement).offsetHeight);
              if (h > 0 && heights.current.get(key) !== h) {
                heights.current.set(key, h);
                changed = true;
              }
            }
            if (changed && !pendingMeasure.current) {
              pendingMeasure.current = true;
              requestAnimationFrame(() => {
                pendingMeasure.current = false;
                setMeasureVersion((v) => v + 1);
              });
            }
          }),
    [],
  );

  useEffect(() => () => rowObserver?.disconnect(), [rowObserver]);

  /** Ref callback for a row element: measures it now and whenever it resizes. */
  const measureRef = useCallback(
    (el: HTMLElement | null) => {
      if (!el || !rowObserver) return;
      const key = el.dataset.vkey;
      if (key && !heights.current.has(key)) {
        const h = Math.ceil(el.offsetHeight);
        if (h > 0) heights.current.set(key, h);
      }
      rowObserver.observe(el);
    },
    [rowObserver],
  );

  const scrollToKey = useCallback(
    (key: string, align: 'center' | 'end' = 'center') => {
      const el = scrollRef.current;
      const i = indexOf.get(key);
      if (!el || i === undefined) return false;
      const rowTop = offsets[i];
      const rowH = offsets[i + 1] - offsets[i];
      const target = align === 'center' ? rowTop - el.clientHeight / 2 + rowH / 2 : rowTop + rowH - el.clientHeight;
      el.scrollTop = Math.max(0, target);
      atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      recordAnchor();
      setViewport({ top: el.scrollTop, height: el.clientHeight });
      return true;
    },
    [indexOf, offsets, recordAnchor],
  );

  const scrollToBottom = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    atBottom.current = true;
    el.scrollTop = el.scrollHeight;
    setViewport({ top: el.scrollTop, height: el.clientHeight });
  }, []);

  return { scrollRef, rows, total, onScroll, measureRef, scrollToKey, scrollToBottom, atBottom };
}
