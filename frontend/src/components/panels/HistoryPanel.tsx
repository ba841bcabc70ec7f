import { useEffect, useState } from 'react';
import { errorMessage } from '../../api/client';
import { messagesApi } from '../../api/endpoints';
import { Markdown } from '../../lib/markdownRender';
import { formatFull } from '../../lib/time';
import { useMessages } from '../../stores/messages';
import { useMentionContext } from '../MessageItem';
import { PanelFrame } from './RightPanel';

export function HistoryPanel({ messageId }: { messageId: string }) {
  const current = useMessages((s) => s.byId[messageId]);
  const [versions, setVersions] = useState<Array<{ text: string; edited_at: string }> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ctx = useMentionContext();

  useEffect(() => {
    messagesApi
      .history(messageId)
      .then((res) => setVersions(res.versions ?? []))
      .catch((e) => setError(errorMessage(e)));
  }, [messageId, current?.edited_at]);

  return (
    <PanelFrame title="Edit history" testId="history-panel">
      {error && <p className="m-4 text-sm text-red-600" role="alert">{error}</p>}
      <ol className="divide-y divide-zinc-100 dark:divide-zinc-800">
        {current && (
          <li className="px-4 py-3">
            <div className="mb-1 text-xs font-semibold text-emerald-700 dark:text-emerald-400">Current{current.edited_at ? ` · edited ${formatFull(current.edited_at)}` : ''}</div>
            <Markdown text={current.text} ctx={ctx} />
          </li>
        )}
        {[...(versions ?? [])].reverse().map((v, i) => (
          <li key={i} className="px-4 py-3" data-testid="history-version">
            <div className="mb-1 text-xs text-zinc-500">Earlier version · {v.edited_at ? formatFull(v.edited_at) : ''}</div>
            <div className="text-zinc-700 dark:text-zinc-300">
              <Markdown text={v.text} ctx={ctx} />
            </div>
          </li>
        ))}
      </ol>
      {versions?.length === 0 && <p className="p-4 text-sm text-zinc-500">No earlier versions.</p>}
    </PanelFrame>
  );
}
