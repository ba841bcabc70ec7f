import { forwardRef, useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { errorMessage } from '../api/client';
import type { FileInfo, Id } from '../api/types';
import { uploadFile, type UploadHandle } from '../api/upload';
import { formatBytes } from '../lib/time';
import { uuid } from '../lib/uuid';
import { sendMessage, useRealtime } from '../stores/actions';
import { useAuth } from '../stores/auth';
import { isLocalId, useMessages } from '../stores/messages';
import { useUi } from '../stores/ui';
import { useUsers } from '../stores/users';
import { useWorkspaces } from '../stores/workspaces';
import { Avatar } from './ui/Avatar';
import { Icon } from './ui/Icon';

interface Upload {
  key: string;
  file: File;
  progress: number;
  result?: FileInfo;
  error?: string;
  handle?: UploadHandle;
}

export interface ComposerHandle {
  addFiles(files: FileList | File[]): void;
  focus(): void;
}

interface Props {
  channelId: Id;
  workspaceId: Id;
  placeholder: string;
  threadRootId?: Id;
  testId?: string;
}

const MAX_TEXT = 40_000;

/** The @word being typed just before the caret, if any. */
function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const m = /(^|\s)@([\p{L}\p{N}_.-]{0,30})$/u.exec(before);
  return m ? { start: caret - m[2].length - 1, query: m[2].toLowerCase() } : null;
}

export const Composer = forwardRef<ComposerHandle, Props>(function Composer({ channelId, workspaceId, placeholder, threadRootId, testId = 'composer' }, ref) {
  const [text, setText] = useState('');
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [mention, setMention] = useState<{ start: number; query: string } | null>(null);
  const [mentionIndex, setMentionIndex] = useState(0);
  /** Enter was pressed while files were uploading: send once they are stored. */
  const [queued, setQueued] = useState(false);
  const textareaRef = useRef<HTMLTextAreaElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const members = useWorkspaces((s) => s.members[workspaceId]);
  const users = useUsers((s) => s.users);
  const self = useAuth((s) => s.user?.id);

  const candidates = useMemo(() => {
    if (!mention) return [];
    const ids = (members ?? []).map((m) => m.user_id);
    return ids
      .map((id) => users[id])
      .filter((u) => !!u && u.display_name.toLowerCase().includes(mention.query))
      .sort((a, b) => Number(!a!.display_name.toLowerCase().startsWith(mention.query)) - Number(!b!.display_name.toLowerCase().startsWith(mention.query)))
      .slice(0, 8);
  }, [mention, members, users]);

  const addFiles = useCallback(
    (files: FileList | File[]) => {
      for (const file of Array.from(files)) {
        const key = uuid();
        const handle = uploadFile(file, workspaceId, (progress) => setUploads((list) => list.map((u) => (u.key === key ? { ...u, progress } : u))));
        setUploads((list) => [...list, { key, file, progress: 0, handle }]);
        handle.promise
          .then((result) => setUploads((list) => list.map((u) => (u.key === key ? { ...u, progress: 1, result } : u))))
          .catch((err) => setUploads((list) => list.map((u) => (u.key === key ? { ...u, error: errorMessage(err) } : u))));
      }
    },
    [workspaceId],
  );

  useImperativeHandle(ref, () => ({ addFiles, focus: () => textareaRef.current?.focus() }), [addFiles]);

  const uploading = uploads.some((u) => !u.result && !u.error);
  const ready = uploads.filter((u) => u.result);
  const canSend = !uploading && (text.trim().length > 0 || ready.length > 0) && text.length <= MAX_TEXT;
  const canQueue = uploading && text.length <= MAX_TEXT;

  const send = () => {
    if (canQueue) {
      setQueued(true);
      return;
    }
    if (!canSend) return;
    sendMessage(channelId, text.trim(), { threadRootId: threadRootId ?? null, files: ready.map((u) => u.result!) });
    setText('');
    setUploads([]);
    setMention(null);
    autosize(textareaRef.current, '');
  };

  // Enter during an upload sends once the files are stored. A file that failed is not dropped
  // silently: the message waits for the person to decide.
  useEffect(() => {
    if (!queued || uploading) return;
    setQueued(false);
    if (!uploads.some((u) => u.error)) send();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [queued, uploading]);

  const insertMention = (userId: Id) => {
    if (!mention) return;
    const caret = textareaRef.current?.selectionStart ?? text.length;
    const next = `${text.slice(0, mention.start)}<@${userId}> ${text.slice(caret)}`;
    setText(next);
    setMention(null);
    requestAnimationFrame(() => {
      const pos = mention.start + userId.length + 4;
      textareaRef.current?.setSelectionRange(pos, pos);
      textareaRef.current?.focus();
    });
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (mention && candidates.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        setMentionIndex((i) => (i + (e.key === 'ArrowDown' ? 1 : candidates.length - 1)) % candidates.length);
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        insertMention(candidates[Math.min(mentionIndex, candidates.length - 1)]!.id);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        setMention(null);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
      return;
    }
    // Up in an empty composer edits your last message, as in Slack.
    if (e.key === 'ArrowUp' && !text && self) {
      const state = useMessages.getState();
      const ids = threadRootId ? state.threads[threadRootId]?.ids : state.channels[channelId]?.ids;
      const last = [...(ids ?? [])].reverse().find((id) => !isLocalId(id) && state.byId[id]?.author_id === self && !state.byId[id]?.deleted);
      if (last) {
        e.preventDefault();
        useUi.getState().setEditing(last);
      }
    }
  };

  return (
    <div className="px-4 pb-4" data-testid={testId}>
      <div className="relative rounded-lg border border-zinc-300 bg-white focus-within:border-zinc-500 dark:border-zinc-700 dark:bg-zinc-900 dark:focus-within:border-zinc-500">
        {mention && candidates.length > 0 && (
          <ul className="absolute bottom-full left-0 z-30 mb-1 w-72 overflow-hidden rounded-lg border border-zinc-200 bg-white py-1 shadow-xl dark:border-zinc-700 dark:bg-zinc-800" role="listbox" aria-label="Mention suggestions" data-testid="mention-suggestions">
            {candidates.map((u, i) => (
              <li key={u!.id} role="option" aria-selected={i === mentionIndex}>
                <button
                  type="button"
                  className={`flex w-full items-center gap-2 px-3 py-1.5 text-left text-sm ${i === mentionIndex ? 'bg-slack-blue text-white' : ''}`}
                  onMouseDown={(e) => {
                    e.preventDefault();
                    insertMention(u!.id);
                  }}
                >
                  <Avatar user={u} id={u!.id} size="sm" />
                  {u!.display_name}
                </button>
              </li>
            ))}
          </ul>
        )}
        {uploads.length > 0 && (
          <ul className="flex flex-wrap gap-2 border-b border-zinc-200 p-2 dark:border-zinc-700" role="list" aria-label="Files to send">
            {uploads.map((u) => (
              <li
                key={u.key}
                className="w-48 rounded-md border border-zinc-200 p-2 text-xs dark:border-zinc-700"
                data-testid="upload"
                data-state={u.error ? 'failed' : u.result ? 'done' : 'uploading'}
              >
                <div className="flex items-start justify-between gap-1">
                  <span className="truncate font-medium">{u.file.name}</span>
                  <button
                    type="button"
                    aria-label={`Remove ${u.file.name}`}
                    className="shrink-0 text-zinc-500 hover:text-zinc-900 dark:hover:text-white"
                    onClick={() => {
                      u.handle?.abort();
                      setUploads((list) => list.filter((x) => x.key !== u.key));
                    }}
                  >
                    <Icon name="close" className="h-3 w-3" />
                  </button>
                </div>
                <div className="text-zinc-500">{formatBytes(u.file.size)}</div>
                {u.error ? (
                  <div className="text-red-600" role="alert">{u.error}</div>
                ) : (
                  <progress className="mt-1 h-1.5 w-full accent-emerald-600" max={1} value={u.progress} aria-label={`Uploading ${u.file.name}`} data-testid="upload-progress" />
                )}
              </li>
            ))}
          </ul>
        )}
        <textarea
          ref={textareaRef}
          rows={1}
          value={text}
          placeholder={placeholder}
          aria-label={placeholder}
          data-testid="composer-input"
          className="block max-h-60 w-full resize-none bg-transparent px-3 py-2.5 text-[15px] outline-none placeholder:text-zinc-400"
          onChange={(e) => {
            setText(e.target.value);
            autosize(e.target, e.target.value);
            const q = mentionQuery(e.target.value, e.target.selectionStart ?? e.target.value.length);
            setMention(q);
            setMentionIndex(0);
            if (e.target.value.trim()) useRealtime.getState().sendTyping(channelId);
          }}
          onKeyDown={onKeyDown}
          onPaste={(e) => {
            if (e.clipboardData.files.length) {
              e.preventDefault();
              addFiles(e.clipboardData.files);
            }
          }}
        />
        <div className="flex items-center justify-between px-2 pb-1.5">
          <div className="flex items-center gap-1">
            <button type="button" className="icon-btn" aria-label="Attach files" title="Attach files" onClick={() => fileRef.current?.click()} data-testid="attach-button">
              <Icon name="paperclip" />
            </button>
            <input
              ref={fileRef}
              type="file"
              multiple
              className="hidden"
              data-testid="file-input"
              aria-label="Choose files to upload"
              onChange={(e) => {
                if (e.target.files) addFiles(e.target.files);
                e.target.value = '';
              }}
            />
            {text.length > MAX_TEXT && <span className="text-xs text-red-600">{text.length - MAX_TEXT} characters over the limit</span>}
            {queued && (
              <span className="text-xs text-zinc-500" role="status" data-testid="send-queued">
                Sending when the upload finishes…
              </span>
            )}
          </div>
          <div className="flex items-center gap-2">
            <span className="hidden text-[11px] text-zinc-500 sm:inline">
              <b>Enter</b> to send, <b>Shift+Enter</b> for a new line
            </span>
            <button type="button" className={`rounded-md p-1.5 ${canSend || canQueue ? 'bg-emerald-700 text-white hover:bg-emerald-800' : 'text-zinc-400'}`} aria-label="Send message" disabled={!canSend && !canQueue} onClick={send} data-testid="send-button">
              <Icon name="send" />
            </button>
          </div>
        </div>
      </div>
    </div>
  );
});

function autosize(el: HTMLTextAreaElement | null, value: string) {
  if (!el) return;
  el.style.height = 'auto';
  if (value) el.style.height = `${Math.min(el.scrollHeight, 240)}px`;
}
