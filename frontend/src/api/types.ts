// Types mirroring the public API contract (v1). Extra fields the server may add are tolerated.

export type Id = string;

export interface User {
  id: Id;
  display_name: string;
  title: string | null;
  timezone: string | null;
  status_text: string | null;
  status_emoji: string | null;
  avatar_url: string | null;
  created_at: string;
  email?: string;
}

export interface AuthResponse {
  user: User;
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

export type Role = 'owner' | 'admin' | 'member' | 'guest';

export interface Workspace {
  id: Id;
  name: string;
  created_at: string;
  role: Role;
}

export interface WorkspaceMember {
  user_id: Id;
  role: Role;
  joined_at: string;
}

export type ChannelKind = 'public' | 'private' | 'dm' | 'group_dm';

export interface Channel {
  id: Id;
  workspace_id: Id;
  name: string;
  kind: ChannelKind;
  topic: string | null;
  archived: boolean;
  created_at: string;
  is_member?: boolean;
  unread_count?: number;
  mention_count?: number;
  last_read_message_id?: Id | null;
  /** Not in the contract; used when the server includes it for DMs. */
  member_ids?: Id[];
  /** Not in the contract; sent by the server. */
  created_by?: Id;
}

export interface Reaction {
  emoji: string;
  count: number;
  user_ids: Id[];
}

export interface FileInfo {
  id: Id;
  name: string;
  size: number;
  content_type: string;
  url: string;
  thumbnail_url?: string | null;
}

export interface Message {
  id: Id;
  channel_id: Id;
  author_id: Id;
  text: string;
  thread_root_id: Id | null;
  reply_count: number;
  reactions: Reaction[];
  files: FileInfo[];
  mentions: Id[];
  created_at: string;
  edited_at: string | null;
  deleted: boolean;
  client_msg_id: string | null;
  /** Not in the contract; honoured when present. */
  pinned?: boolean;
}

export interface MessagePage {
  messages: Message[];
  has_more: boolean;
}

export interface Invite {
  code: string;
  expires_at: string;
}

export interface SearchResult {
  message: Message;
  channel_id: Id;
  highlight: string;
}

export interface SearchResponse {
  results: SearchResult[];
  has_more: boolean;
}

export interface Session {
  id: Id;
  created_at: string;
  last_used_at: string;
  user_agent: string | null;
  current: boolean;
}

export type PresenceStatus = 'online' | 'away' | 'dnd' | 'invisible' | 'offline';

export interface SummaryBullet {
  text: string;
  message_ids: Id[];
}

export interface SummaryResponse {
  summary: string;
  bullets: SummaryBullet[];
  model: string;
}

export interface Citation {
  message_id: Id;
  channel_id: Id;
  snippet: string;
}

export interface AskResponse {
  answer: string;
  citations: Citation[];
  model: string;
}

export type NotificationKind = 'mention' | 'dm' | 'thread_reply' | 'keyword';

export interface AppNotification {
  id: Id;
  kind: NotificationKind;
  message_id: Id;
  channel_id: Id;
  created_at: string;
  read: boolean;
}

/** The caller's own notification preferences (`/api/v1/notification-preferences`). */
export interface NotificationPreferences {
  level: 'all' | 'mentions' | 'nothing';
  keywords: string[];
  /** Manual do-not-disturb until this instant, or null. */
  dnd_until: string | null;
  /** Daily quiet hours in `timezone`, `HH:MM`, or null. */
  dnd_schedule: { start: string; end: string } | null;
  timezone: string;
  email: boolean;
}

/** One entry of a workspace's audit log (owners and admins read it). */
export interface AuditEntry {
  id: Id;
  action: string;
  actor_id: Id | null;
  target: { type: string; id: Id } | null;
  ip: string | null;
  details: Record<string, unknown>;
  occurred_at: string;
}

export interface AuditPage {
  entries: AuditEntry[];
  has_more: boolean;
}

export type Theme = 'light' | 'dark' | 'system';
export type NotificationLevel = 'all' | 'mentions' | 'nothing';

/** A member's notification settings for one channel; `default` follows their own level. */
export interface ChannelNotificationSettings {
  level: 'default' | NotificationLevel;
  muted: boolean;
}

export interface Preferences {
  theme?: Theme;
  notification_level?: NotificationLevel;
  [key: string]: unknown;
}

export interface ApiErrorBody {
  error: { code: string; message: string; fields?: Record<string, string> };
}

/** A server-to-client WebSocket frame. */
export interface ServerFrame {
  type: string;
  cursor?: string;
  data?: Record<string, unknown>;
}
