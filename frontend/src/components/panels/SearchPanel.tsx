import { useEffect, useState } from 'react';
import { errorMessage } from '../../api/client';
import { workspacesApi } from '../../api/endpoints';
import type { SearchResult } from '../../api/types';
import { splitHighlight } from '../../lib/highlight';
import { formatFull } from '../../lib/time';
import { ensureUsers, jumpToMessage } from '../../stores/actions';
import { activeIds, useUi } from '../../stores/ui';
import { displayName, useUsers } from '../../stores/users';
import { useWorkspaces } from '../../stores/workspaces';
import { PanelFrame } from './RightPanel';

export function Highlighted({ text }: { text: string }) {
  return (
    <>
      {splitHighlight(text).map((part, i) => (part.marked ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>))}
    </>
  );
}

export function SearchPanel({ query }: { query: string }) {
  const workspaceId = useUi((s) => activeIds(s.route).workspaceId);
  const [results, setResults] = useState<SearchResult[] | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);

  useEffect(() => {
    if (!workspaceId) return;
    let live = true;
    setResults(null);
    setError(null);
    workspacesApi
      .search(workspaceId, query)
      .then((res) => {
        if (!live) return;
        setResults(res.results ?? []);
        setHasMore(!!res.has_more);
        ensureUsers((res.results ?? []).map((r) => r.message.author_id));
      })
      .catch((e) => live && setError(errorMessage(e)));
    return () => {
      live = false;
    };
  }, [workspaceId, query]);

  const more = async () => {
    if (!workspaceId || !results?.length) return;
    setLoadingMore(true);
    try {
      const res = await workspacesApi.search(workspaceId, query, results[results.length - 1].message.id);
      setResults([...results, ...(res.results ?? [])]);
      setHasMore(!!res.has_more);
      ensureUsers((res.results ?? []).map((r) => r.message.author_id));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setLoadingMore(false);
    }
  };

  return (
    <PanelFrame title="Search" subtitle={query} testId="search-panel">
      {error && <p className="m-4 rounded bg-red-50 p-2 text-sm text-red-700 dark:bg-red-950 dark:text-red-300" role="alert">{error}</p>}
      {!results && !error && <p className="p-4 text-sm text-zinc-500">Searching…</p>}
      {results?.length === 0 && <p className="p-4 text-sm text-zinc-500" data-testid="search-empty">No messages match “{query}”.</p>}
      {results && results.length > 0 && (
        <ul role="list" aria-label="Search results" className="divide-y divide-zinc-100 dark:divide-zinc-800">
          {results.map((r) => (
            <ResultRow key={r.message.id} result={r} />
          ))}
        </ul>
      )}
      {hasMore && (
        <div className="p-3 text-center">
          <button type="button" className="btn btn-secondary" onClick={() => void more()} disabled={loadingMore}>
            {loadingMore ? 'Loading…' : 'More results'}
          </button>
        </div>
      )}
      <p className="p-4 text-xs text-zinc-500">
        Tip: <code>"exact phrase"</code>, <code>-word</code>, <code>from:@name</code>, <code>in:#channel</code>, <code>before:2024-01-31</code>, <code>has:file</code>, <code>is:thread</code>, <code>mentions:me</code>.
      </p>
    </PanelFrame>
  );
}

function ResultRow({ result }: { result: SearchResult }) {
  const channel = useWorkspaces((s) => s.channels[result.channel_id]);
  const author = useUsers((s) => displayName(s.users, result.message.author_id));
  const [error, setError] = useState<string | null>(null);
  const channelName = channel ? (channel.kind === 'public' || channel.kind === 'private' ? `#${channel.name}` : 'Direct message') : '';
  return (
    <li>
      <button
        type="button"
        className="block w-full px-4 py-3 text-left hover:bg-zinc-50 dark:hover:bg-zinc-900"
        data-testid="search-result"
        data-message-id={result.message.id}
        onClick={() => jumpToMessage(result.channel_id, result.message.id).catch((e) => setError(errorMessage(e)))}
      >
        <div className="mb-0.5 flex items-baseline gap-2 text-xs text-zinc-500">
          <span className="font-semibold text-zinc-700 dark:text-zinc-300">{channelName}</span>
          <span>{formatFull(result.message.created_at)}</span>
        </div>
        <div className="text-sm font-bold">{author}</div>
        <p className="text-sm break-words whitespace-pre-wrap" data-testid="search-snippet">
          <Highlighted text={result.highlight || result.message.text} />
        </p>
        {error && <p className="field-error">{error}</p>}
      </button>
    </li>
  );
}
