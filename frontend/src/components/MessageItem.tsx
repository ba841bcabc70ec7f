import { memo, useMemo, useState } from 'react';
import { createPortal } from 'react-dom';
import type { FileInfo } from '../api/types';
import { errorMessage } from '../api/client';
import { emojiChar } from '../lib/emoji';
import { Markdown, type MentionContext } from '../lib/markdownRender';
import { formatBytes, formatFull, formatTime } from '../lib/time';
import { deleteMessage, discardFailed, editMessage, openThread, retrySend, togglePin, toggleReaction } from '../stores/actions';
import { useAuth } from '../stores/auth';
import { useMessages } from '../stores/messages';
import { useUi } from '../stores/ui';
import { displayName, useUsers } from '../stores/users';
import { useWorkspaces } from '../stores/workspaces';
import { EmojiPicker } from './EmojiPicker';
import { AuthImage, downloadFile } from './ui/AuthImage';
import { Avatar } from './ui/Avatar';
import { Icon } from './ui/Icon';

interface Props {
  messageId: string;
  grouped: boolean;
  highlighted?: boolean;
  /** In the thread panel: no "reply in thread" action and no reply counter. */
  inThread?: boolean;
}

export function useMentionContext(): MentionContext {
  const users = useUsers((s) => s.users);
  const self = useAuth((s) => s.user?.id ?? null);
  return useMemo(() => ({ userName: (id: string) => displayName(users, id), selfId: self }), [users, self]);
}

export const MessageItem = memo(function MessageItem({ messageId, grouped, highlighted, inThread }: Props) {
  const m = useMessages((s) => s.byId[messageId]);
  const author = useUsers((s) => (m ? s.users[m.author_id] : undefined));
  const self = useAuth((s) => s.user?.id);
  const pinned = useMessages((s) => (m ? !!s.pinned[m.channel_id]?.[m.id] || !!m.pinned : false));
  const role = useWorkspaces((s) => {
    const ch = m ? s.channels[m.channel_id] : undefined;
    return ch ? s.workspaces.find((w) => w.id === ch.workspace_id)?.role : undefined;
  });
  const editing = useUi((s) => s.editingMessageId === messageId);
  const setEditing = useUi((s) => s.setEditing);
  const openPanel = useUi((s) => s.openPanel);
  const ctx = useMentionContext();
  const [picker, setPicker] = useState<{ top: number; left: number } | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  if (!m) return null;
  const mine = m.author_id === self;
  const canDelete = mine || role === 'owner' || role === 'admin';
  const pending = !!m.sendState;
  const name = author?.display_name ?? displayName({}, m.author_id);
  const run = (p: Promise<unknown>) => p.catch((e) => setActionError(errorMessage(e)));

  return (
    <div
      className={`group relative flex gap-2 px-5 ${grouped ? 'py-0.5' : 'pt-2 pb-0.5'} hover:bg-zinc-50 dark:hover:bg-zinc-900 ${highlighted ? 'flash' : ''} ${pinned ? 'bg-amber-50/60 dark:bg-amber-950/20' : ''}`}
      data-testid="message"
      data-message-id={m.id}
      data-author-id={m.author_id}
      data-send-state={m.sendState ?? 'sent'}
      aria-label={`${name}, ${formatFull(m.created_at)}`}
      role="article"
    >
      <div className="w-9 shrink-0">
        {grouped ? (
          <time className="invisible block text-right text-[10px] leading-6 whitespace-nowrap text-zinc-500 group-hover:visible" dateTime={m.created_at}>
            {formatTime(m.created_at)}
          </time>
        ) : (
          <Avatar user={author} id={m.author_id} />
        )}
      </div>
      <div className="min-w-0 flex-1">
        {!grouped && (
          <div className="flex items-baseline gap-2">
            <span className="font-bold" data-testid="message-author">{name}</span>
            <time className="text-xs text-zinc-500" dateTime={m.created_at} title={formatFull(m.created_at)}>
              {formatTime(m.created_at)}
            </time>
            {pinned && <span className="text-xs text-amber-700 dark:text-amber-400" data-testid="pinned-marker">📌 Pinned</span>}
          </div>
        )}

        {m.deleted ? (
          <p className="text-sm text-zinc-500 italic">This message was deleted.</p>
        ) : editing ? (
          <EditBox initial={m.text} onCancel={() => setEditing(null)} onSave={async (text) => {
            await editMessage(m.id, text);
            setEditing(null);
          }} />
        ) : (
          <div className={`text-[15px] leading-relaxed ${pending ? 'opacity-60' : ''}`} data-testid="message-text">
            <Markdown
              text={m.text}
              ctx={ctx}
              trailing={
                m.edited_at ? (
                  <button type="button" className="ml-1 text-xs text-zinc-500 hover:underline" onClick={() => openPanel({ kind: 'history', messageId: m.id })} data-testid="edited-marker" title={`Edited ${formatFull(m.edited_at)}`}>
                    (edited)
                  </button>
                ) : undefined
              }
            />
          </div>
        )}

        {!m.deleted && m.files.length > 0 && <Attachments files={m.files} />}

        {m.sendState === 'failed' && (
          <div className="mt-1 flex items-center gap-2 text-xs text-red-600 dark:text-red-400" role="alert" data-testid="send-failed">
            <span>Failed to send{m.sendError ? ` — ${m.sendError}` : ''}.</span>
            <button type="button" className="font-semibold underline" onClick={() => retrySend(m.client_msg_id!)} data-testid="retry-send">
              Retry
            </button>
            <button type="button" className="underline" onClick={() => discardFailed(m.client_msg_id!, m.id)}>
              Discard
            </button>
          </div>
        )}

        {!m.deleted && m.reactions.length > 0 && (
          <ul className="mt-1 flex flex-wrap gap-1" role="list" aria-label="Reactions">
            {m.reactions.map((r) => {
              const reacted = !!self && r.user_ids.includes(self);
              return (
                <li key={r.emoji}>
                  <button
                    type="button"
                    onClick={() => run(toggleReaction(m.id, r.emoji))}
                    aria-pressed={reacted}
                    aria-label={`${emojiChar(r.emoji)} ${r.count}, react with ${r.emoji}`}
                    data-testid="reaction"
                    data-emoji={r.emoji}
                    className={`flex items-center gap-1 rounded-full border px-2 py-0.5 text-xs ${reacted ? 'border-sky-500 bg-sky-50 text-sky-800 dark:bg-sky-950 dark:text-sky-200' : 'border-zinc-200 bg-zinc-50 hover:border-zinc-400 dark:border-zinc-700 dark:bg-zinc-900'}`}
                  >
                    <span>{emojiChar(r.emoji)}</span>
                    <span className="font-semibold" data-testid="reaction-count">{r.count}</span>
                  </button>
                </li>
              );
            })}
          </ul>
        )}

        {!inThread && m.reply_count > 0 && (
          <button type="button" className="mt-1 text-sm font-semibold text-sky-700 hover:underline dark:text-sky-400" onClick={() => void openThread(m.id)} data-testid="thread-replies">
            {m.reply_count} {m.reply_count === 1 ? 'reply' : 'replies'}
          </button>
        )}
        {actionError && <p className="text-xs text-red-600" role="alert">{actionError}</p>}
      </div>

      {!pending && !m.deleted && !editing && (
        <div className="absolute -top-3 right-4 hidden items-center rounded-md border border-zinc-200 bg-white shadow-sm group-hover:flex group-has-[:focus-visible]:flex dark:border-zinc-700 dark:bg-zinc-800" role="toolbar" aria-label="Message actions" data-testid="message-toolbar">
          <button type="button" className="icon-btn" aria-label="Add reaction" title="Add reaction" onClick={(e) => setPicker((p) => (p ? null : pickerPosition(e.currentTarget)))} data-testid="add-reaction">
            <Icon name="smile" />
          </button>
          {!inThread && (
            <button type="button" className="icon-btn" aria-label="Reply in thread" title="Reply in thread" onClick={() => void openThread(m.id)} data-testid="reply-in-thread">
              <Icon name="thread" />
            </button>
          )}
          <button type="button" className="icon-btn" aria-label={pinned ? 'Unpin message' : 'Pin message'} title={pinned ? 'Unpin' : 'Pin'} onClick={() => run(togglePin(m.channel_id, m.id, !pinned))} data-testid="pin-message">
            <Icon name="pin" />
          </button>
          {mine && (
            <button type="button" className="icon-btn" aria-label="Edit message" title="Edit" onClick={() => setEditing(m.id)} data-testid="edit-message">
              <Icon name="edit" />
            </button>
          )}
          {canDelete && (
            <button
              type="button"
              className="icon-btn hover:text-red-600!"
              aria-label="Delete message"
              title="Delete"
              data-testid="delete-message"
              onClick={() => {
                if (confirm('Delete this message? This cannot be undone.')) void run(deleteMessage(m.id));
              }}
            >
              <Icon name="trash" />
            </button>
          )}
        </div>
      )}
      {picker &&
        // A fixed popover in <body>: inside the virtualized row it would be clipped and would resize the list.
        createPortal(
          <div className="fixed z-50" style={{ top: picker.top, left: picker.left }}>
            <EmojiPicker
              onPick={(name) => {
                setPicker(null);
                void run(toggleReaction(m.id, name));
              }}
              onClose={() => setPicker(null)}
            />
          </div>,
          document.body,
        )}
    </div>
  );
});

const PICKER_W = 288;
const PICKER_H = 280;

function pickerPosition(button: HTMLElement): { top: number; left: number } {
  const r = button.getBoundingClientRect();
  const left = Math.max(8, Math.min(r.right - PICKER_W, window.innerWidth - PICKER_W - 8));
  const top = r.bottom + PICKER_H + 8 < window.innerHeight ? r.bottom + 4 : Math.max(8, r.top - PICKER_H - 4);
  return { top, left };
}

function EditBox({ initial, onSave, onCancel }: { initial: string; onSave: (text: string) => Promise<void>; onCancel: () => void }) {
  const [text, setText] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const save = async () => {
    if (!text.trim() || busy) return;
    if (text === initial) return onCancel();
    setBusy(true);
    try {
      await onSave(text);
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  };
  return (
    <div className="mt-1">
      <textarea
        className="input min-h-16 font-[inherit]"
        aria-label="Edit message"
        data-testid="edit-input"
        autoFocus
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            void save();
          } else if (e.key === 'Escape') {
            e.preventDefault();
            e.stopPropagation();
            onCancel();
          }
        }}
      />
      {error && <p className="field-error" role="alert">{error}</p>}
      <div className="mt-1 flex gap-2 text-xs">
        <button type="button" className="btn btn-secondary py-1!" onClick={onCancel}>Cancel</button>
        <button type="button" className="btn btn-primary py-1!" onClick={() => void save()} disabled={busy} data-testid="save-edit">Save</button>
        <span className="self-center text-zinc-500">Enter to save, Esc to cancel</span>
      </div>
    </div>
  );
}

function Attachments({ files }: { files: FileInfo[] }) {
  return (
    <ul className="mt-1 flex flex-wrap gap-2" role="list" aria-label="Attachments">
      {files.map((f) => {
        const isImage = f.content_type?.startsWith('image/') && (f.thumbnail_url || f.url);
        return (
          <li key={f.id} data-testid="attachment" data-file-name={f.name}>
            {isImage ? (
              <button type="button" className="block overflow-hidden rounded-md border border-zinc-200 dark:border-zinc-700" onClick={() => void downloadFile(f.url, f.name)} aria-label={`Download ${f.name}`}>
                <AuthImage src={f.thumbnail_url || f.url} alt={f.name} className="max-h-60 max-w-xs object-contain" />
              </button>
            ) : (
              <button type="button" onClick={() => void downloadFile(f.url, f.name)} className="flex items-center gap-2 rounded-md border border-zinc-200 px-3 py-2 text-left hover:bg-zinc-50 dark:border-zinc-700 dark:hover:bg-zinc-900" aria-label={`Download ${f.name}`}>
                <Icon name="file" className="h-6 w-6 text-zinc-500" />
                <span>
                  <span className="block max-w-56 truncate text-sm font-medium" data-testid="attachment-name">{f.name}</span>
                  <span className="block text-xs text-zinc-500">{formatBytes(f.size)}</span>
                </span>
              </button>
            )}
          </li>
        );
      })}
    </ul>
  );
}
