import { useRef, useState, type FormEvent } from 'react';
import { errorMessage } from '../api/client';
import type { Id } from '../api/types';
import { joinChannel, useRealtime } from '../stores/actions';
import { useAuth } from '../stores/auth';
import { useUi } from '../stores/ui';
import { displayName, typingNames, useUsers } from '../stores/users';
import { useWorkspaces } from '../stores/workspaces';
import { Composer, type ComposerHandle } from './Composer';
import { MessageList } from './MessageList';
import { useChannelLabel } from './Sidebar';
import { Icon } from './ui/Icon';

export function ChannelView({ channelId }: { channelId: Id }) {
  const channel = useWorkspaces((s) => s.channels[channelId]);
  const label = useChannelLabel(channel);
  const composer = useRef<ComposerHandle>(null);
  const [dragging, setDragging] = useState(false);
  const [joinError, setJoinError] = useState<string | null>(null);

  if (!channel) {
    return <div className="flex flex-1 items-center justify-center text-zinc-500">Loading channel…</div>;
  }
  const isDm = channel.kind === 'dm' || channel.kind === 'group_dm';
  const canPost = channel.is_member !== false && !channel.archived;

  return (
    <div
      className="relative flex min-h-0 flex-1 flex-col"
      onDragOver={(e) => {
        if (canPost && e.dataTransfer.types.includes('Files')) {
          e.preventDefault();
          setDragging(true);
        }
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={(e) => {
        if (!e.dataTransfer.files.length) return;
        e.preventDefault();
        setDragging(false);
        composer.current?.addFiles(e.dataTransfer.files);
      }}
      data-testid="channel-view"
      data-channel-id={channelId}
    >
      <ChannelHeader channelId={channelId} label={label} isDm={isDm} />
      <ConnectionBanner />
      <MessageList key={channelId} channel={channel} label={label} />
      <TypingIndicator channelId={channelId} />
      {canPost ? (
        <Composer ref={composer} channelId={channelId} workspaceId={channel.workspace_id} placeholder={`Message ${isDm ? label : `#${label}`}`} />
      ) : channel.archived ? (
        <p className="border-t border-zinc-200 p-4 text-center text-sm text-zinc-500 dark:border-zinc-800">This channel is archived.</p>
      ) : (
        <div className="border-t border-zinc-200 p-4 text-center dark:border-zinc-800">
          <p className="mb-2 text-sm">You are viewing <b>#{label}</b>.</p>
          <button type="button" className="btn btn-primary" data-testid="join-channel" onClick={() => joinChannel(channelId).catch((e) => setJoinError(errorMessage(e)))}>
            Join channel
          </button>
          {joinError && <p className="field-error">{joinError}</p>}
        </div>
      )}
      {dragging && (
        <div className="pointer-events-none absolute inset-2 z-40 flex items-center justify-center rounded-xl border-4 border-dashed border-sky-500 bg-sky-50/80 text-lg font-semibold text-sky-800 dark:bg-sky-950/80 dark:text-sky-200">
          Drop files to upload to {isDm ? label : `#${label}`}
        </div>
      )}
    </div>
  );
}

function ChannelHeader({ channelId, label, isDm }: { channelId: Id; label: string; isDm: boolean }) {
  const channel = useWorkspaces((s) => s.channels[channelId]);
  const openPanel = useUi((s) => s.openPanel);
  const panel = useUi((s) => s.rightPanel);
  const [query, setQuery] = useState('');

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (query.trim()) openPanel({ kind: 'search', query: query.trim() });
  };

  return (
    <header className="flex h-12 shrink-0 items-center gap-3 border-b border-zinc-200 px-4 dark:border-zinc-800">
      <div className="min-w-24 flex-auto">
        <h2 className="truncate font-bold" data-testid="channel-title">
          {isDm ? label : <><span className="text-zinc-500">{channel?.kind === 'private' ? '🔒 ' : '# '}</span>{label}</>}
        </h2>
        {channel?.topic && <p className="truncate text-xs text-zinc-500">{channel.topic}</p>}
      </div>
      <form role="search" onSubmit={submit} className="relative hidden w-72 min-w-36 shrink-[4] md:block">
        <Icon name="search" className="pointer-events-none absolute top-2 left-2 h-4 w-4 text-zinc-400" />
        <input
          type="search"
          className="input py-1.5! pl-8!"
          placeholder="Search messages"
          title="Search: words, &quot;exact phrase&quot;, -excluded, from:@name, in:#channel, before:/after:YYYY-MM-DD, has:file, has:link, is:thread, mentions:me"
          aria-label="Search messages"
          data-testid="search-input"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
      </form>
      <div className="flex items-center gap-1">
        <button type="button" className="icon-btn" aria-label="Pinned messages" title="Pinned messages" aria-pressed={panel?.kind === 'pins'} onClick={() => openPanel({ kind: 'pins' })} data-testid="pins-button">
          <Icon name="pin" />
        </button>
        <button type="button" className="icon-btn" aria-label="Channel details and members" title="Details" aria-pressed={panel?.kind === 'details'} onClick={() => openPanel({ kind: 'details' })} data-testid="details-button">
          <Icon name="info" />
        </button>
        <button type="button" className="icon-btn gap-1 px-2! text-sm font-medium" aria-label="AI assistant" title="Catch up and ask" aria-pressed={panel?.kind === 'ai'} onClick={() => openPanel({ kind: 'ai' })} data-testid="ai-button">
          <Icon name="sparkles" /> <span className="hidden lg:inline">AI</span>
        </button>
      </div>
    </header>
  );
}

function ConnectionBanner() {
  const status = useRealtime((s) => s.status);
  const everConnected = useRealtime((s) => s.everConnected);
  if (status !== 'reconnecting' || !everConnected) return null;
  return (
    <div className="flex items-center justify-center gap-2 bg-amber-100 px-3 py-1 text-sm text-amber-900 dark:bg-amber-900/40 dark:text-amber-100" role="status" data-testid="reconnecting-banner">
      <span className="h-2 w-2 animate-pulse rounded-full bg-amber-600" /> Reconnecting…
      <button type="button" className="underline" onClick={() => useRealtime.getState().reconnectNow()}>
        Retry now
      </button>
    </div>
  );
}

function TypingIndicator({ channelId }: { channelId: Id }) {
  const typing = useUsers((s) => s.typing[channelId]);
  const users = useUsers((s) => s.users);
  const self = useAuth((s) => s.user?.id ?? null);
  const ids = typingNames(typing, self);
  let text = '';
  if (ids.length === 1) text = `${displayName(users, ids[0])} is typing…`;
  else if (ids.length === 2) text = `${displayName(users, ids[0])} and ${displayName(users, ids[1])} are typing…`;
  else if (ids.length > 2) text = 'Several people are typing…';
  return (
    <div className="h-5 px-5 text-xs text-zinc-500" aria-live="polite" data-testid="typing-indicator">
      {text}
    </div>
  );
}
