import { useState, type FormEvent } from 'react';
import { errorMessage } from '../../api/client';
import { aiApi } from '../../api/endpoints';
import type { AskResponse, SummaryResponse } from '../../api/types';
import { jumpToMessage } from '../../stores/actions';
import { activeIds, useUi } from '../../stores/ui';
import { useWorkspaces } from '../../stores/workspaces';
import { PanelFrame } from './RightPanel';

export default function AiPanel() {
  // Two selectors: one returning a fresh object would re-render forever.
  const workspaceId = useUi((s) => activeIds(s.route).workspaceId);
  const channelId = useUi((s) => activeIds(s.route).channelId);
  const channel = useWorkspaces((s) => (channelId ? s.channels[channelId] : undefined));
  const [summary, setSummary] = useState<SummaryResponse | null>(null);
  const [answer, setAnswer] = useState<AskResponse | null>(null);
  const [question, setQuestion] = useState('');
  const [scopeChannel, setScopeChannel] = useState(false);
  const [busy, setBusy] = useState<'summary' | 'ask' | null>(null);
  const [error, setError] = useState<string | null>(null);

  const catchUp = async () => {
    if (!channelId) return;
    setBusy('summary');
    setError(null);
    try {
      setSummary(await aiApi.summarize(channelId));
    } catch (e) {
      setError(`The assistant could not summarise this channel: ${errorMessage(e)}`);
    } finally {
      setBusy(null);
    }
  };

  const ask = async (e: FormEvent) => {
    e.preventDefault();
    if (!workspaceId || !question.trim()) return;
    setBusy('ask');
    setError(null);
    try {
      setAnswer(await aiApi.ask(workspaceId, question.trim(), scopeChannel && channelId ? channelId : undefined));
    } catch (err) {
      setError(`The assistant could not answer: ${errorMessage(err)}`);
    } finally {
      setBusy(null);
    }
  };

  const cite = (messageId: string, citeChannel?: string) => {
    const ch = citeChannel ?? channelId;
    if (ch) void jumpToMessage(ch, messageId).catch((e) => setError(errorMessage(e)));
  };

  return (
    <PanelFrame title="AI assistant" subtitle={channel ? `#${channel.name}` : undefined} testId="ai-panel">
      <section className="border-b border-zinc-200 p-4 dark:border-zinc-800">
        <button type="button" className="btn btn-primary w-full" onClick={() => void catchUp()} disabled={busy !== null || !channelId} data-testid="catch-up">
          {busy === 'summary' ? 'Summarising…' : 'Catch me up'}
        </button>
        {summary && (
          <div className="mt-3 text-sm" data-testid="ai-summary">
            {summary.summary && <p className="mb-2">{summary.summary}</p>}
            <ul className="list-disc space-y-1 pl-5">
              {summary.bullets?.map((b, i) => (
                <li key={i}>
                  {b.text}{' '}
                  {b.message_ids?.map((id, j) => (
                    <button key={id} type="button" className="ml-0.5 align-super text-[10px] font-semibold text-sky-700 hover:underline dark:text-sky-400" onClick={() => cite(id)} aria-label={`Open cited message ${j + 1}`} data-testid="citation">
                      [{j + 1}]
                    </button>
                  ))}
                </li>
              ))}
            </ul>
            {summary.model && <p className="mt-2 text-xs text-zinc-500">Model: {summary.model}</p>}
          </div>
        )}
      </section>
      <section className="p-4">
        <form onSubmit={ask} className="space-y-2">
          <label className="block text-sm font-medium">
            Ask about your workspace
            <textarea className="input mt-1 min-h-20" value={question} onChange={(e) => setQuestion(e.target.value)} placeholder="What did we decide about the launch date?" data-testid="ask-input" />
          </label>
          <label className="flex items-center gap-2 text-xs">
            <input type="checkbox" checked={scopeChannel} onChange={(e) => setScopeChannel(e.target.checked)} /> Only this channel
          </label>
          <button type="submit" className="btn btn-secondary" disabled={busy !== null || !question.trim()} data-testid="ask-button">
            {busy === 'ask' ? 'Thinking…' : 'Ask'}
          </button>
        </form>
        {answer && (
          <div className="mt-3 text-sm" data-testid="ai-answer">
            <p className="whitespace-pre-wrap">{answer.answer}</p>
            {answer.citations?.length > 0 && (
              <ol className="mt-2 space-y-1">
                {answer.citations.map((c, i) => (
                  <li key={c.message_id}>
                    <button type="button" className="text-left text-xs text-sky-700 hover:underline dark:text-sky-400" onClick={() => cite(c.message_id, c.channel_id)} data-testid="citation">
                      [{i + 1}] {c.snippet}
                    </button>
                  </li>
                ))}
              </ol>
            )}
          </div>
        )}
      </section>
      {error && <p className="mx-4 mb-4 rounded bg-red-50 p-2 text-sm text-red-700 dark:bg-red-950 dark:text-red-300" role="alert" data-testid="ai-error">{error}</p>}
    </PanelFrame>
  );
}
