import { api } from './client';
import type {
  AppNotification,
  AskResponse,
  AuditPage,
  AuthResponse,
  Channel,
  ChannelNotificationSettings,
  Id,
  Invite,
  Message,
  MessagePage,
  NotificationPreferences,
  Preferences,
  PresenceStatus,
  SearchResponse,
  Session,
  SummaryResponse,
  User,
  Workspace,
  WorkspaceMember,
} from './types';

const enc = encodeURIComponent;

export const authApi = {
  register: (email: string, password: string, display_name: string) =>
    api.request<AuthResponse>('POST', '/api/v1/auth/register', { email, password, display_name }, { auth: false }),
  login: (email: string, password: string) =>
    api.request<AuthResponse>('POST', '/api/v1/auth/login', { email, password }, { auth: false }),
  logout: () => api.request<void>('POST', '/api/v1/auth/logout'),
};

export const usersApi = {
  me: () => api.request<User>('GET', '/api/v1/users/me'),
  updateMe: (patch: Partial<Pick<User, 'display_name' | 'title' | 'timezone' | 'status_text' | 'status_emoji'>>) =>
    api.request<User>('PATCH', '/api/v1/users/me', patch),
  get: (id: Id) => api.request<User>('GET', `/api/v1/users/${enc(id)}`),
  preferences: () => api.request<Preferences>('GET', '/api/v1/users/me/preferences'),
  savePreferences: (prefs: Preferences) => api.request<Preferences | void>('PUT', '/api/v1/users/me/preferences', prefs),
  sessions: () => api.request<{ sessions: Session[] }>('GET', '/api/v1/users/me/sessions'),
  revokeSession: (id: Id) => api.request<void>('DELETE', `/api/v1/users/me/sessions/${enc(id)}`),
  setPresence: (status: Exclude<PresenceStatus, 'offline'>) =>
    api.request<void>('PUT', '/api/v1/users/me/presence', { status }),
  presence: (userIds: Id[]) =>
    api.request<{ presence: Record<Id, PresenceStatus> }>('GET', '/api/v1/presence', undefined, {
      query: { user_ids: userIds.join(',') },
    }),
};

export const workspacesApi = {
  list: () => api.request<{ workspaces: Workspace[] }>('GET', '/api/v1/workspaces'),
  create: (name: string) => api.request<Workspace>('POST', '/api/v1/workspaces', { name }),
  members: (ws: Id) => api.request<{ members: WorkspaceMember[] }>('GET', `/api/v1/workspaces/${enc(ws)}/members`),
  createInvite: (ws: Id, body: { expires_in_hours?: number; max_uses?: number } = {}) =>
    api.request<Invite>('POST', `/api/v1/workspaces/${enc(ws)}/invites`, body),
  acceptInvite: (code: string) => api.request<Workspace>('POST', `/api/v1/invites/${enc(code)}/accept`),
  channels: (ws: Id) => api.request<{ channels: Channel[] }>('GET', `/api/v1/workspaces/${enc(ws)}/channels`),
  createChannel: (ws: Id, body: { name: string; visibility: 'public' | 'private'; topic?: string }) =>
    api.request<Channel>('POST', `/api/v1/workspaces/${enc(ws)}/channels`, body),
  openDm: (ws: Id, userIds: Id[]) => api.request<Channel>('POST', `/api/v1/workspaces/${enc(ws)}/dms`, { user_ids: userIds }),
  auditLog: (ws: Id, page: { before?: Id; action?: string } = {}) =>
    api.request<AuditPage>('GET', `/api/v1/workspaces/${enc(ws)}/audit-log`, undefined, { query: { ...page, limit: 50 } }),
  search: (ws: Id, q: string, before?: string) =>
    api.request<SearchResponse>('GET', `/api/v1/workspaces/${enc(ws)}/search`, undefined, {
      query: { q, limit: 30, before },
    }),
};

export const channelsApi = {
  get: (ch: Id) => api.request<Channel>('GET', `/api/v1/channels/${enc(ch)}`),
  update: (ch: Id, patch: { name?: string; topic?: string; archived?: boolean }) =>
    api.request<Channel>('PATCH', `/api/v1/channels/${enc(ch)}`, patch),
  join: (ch: Id) => api.request<void>('POST', `/api/v1/channels/${enc(ch)}/join`),
  leave: (ch: Id) => api.request<void>('POST', `/api/v1/channels/${enc(ch)}/leave`),
  members: (ch: Id) => api.request<{ members: Array<{ user_id: Id }> }>('GET', `/api/v1/channels/${enc(ch)}/members`),
  addMember: (ch: Id, userId: Id) => api.request<void>('POST', `/api/v1/channels/${enc(ch)}/members`, { user_id: userId }),
  messages: (ch: Id, page: { before?: Id; after?: Id; limit?: number } = {}) =>
    api.request<MessagePage>('GET', `/api/v1/channels/${enc(ch)}/messages`, undefined, { query: page }),
  send: (ch: Id, body: { text: string; thread_root_id?: Id; client_msg_id?: string; file_ids?: Id[] }) =>
    api.request<Message>('POST', `/api/v1/channels/${enc(ch)}/messages`, body),
  markRead: (ch: Id, messageId: Id) =>
    api.request<void>('POST', `/api/v1/channels/${enc(ch)}/read`, { message_id: messageId }),
  pins: (ch: Id) => api.request<PinsResponse>('GET', `/api/v1/channels/${enc(ch)}/pins`),
  pin: (ch: Id, messageId: Id) => api.request<void>('PUT', `/api/v1/channels/${enc(ch)}/pins/${enc(messageId)}`),
  unpin: (ch: Id, messageId: Id) => api.request<void>('DELETE', `/api/v1/channels/${enc(ch)}/pins/${enc(messageId)}`),
  notificationSettings: (ch: Id) =>
    api.request<ChannelNotificationSettings>('GET', `/api/v1/channels/${enc(ch)}/notification-settings`),
  setNotificationSettings: (ch: Id, body: Partial<ChannelNotificationSettings>) =>
    api.request<void>('PUT', `/api/v1/channels/${enc(ch)}/notification-settings`, body),
};

/** A channel's pins, newest first, each with who pinned it and when. */
export interface PinsResponse {
  pins: Array<{ message: Message; pinned_by: Id; pinned_at: string }>;
}

export function pinnedMessages(res: PinsResponse | undefined): Message[] {
  return (res?.pins ?? []).map((pin) => pin.message);
}

export const messagesApi = {
  get: (id: Id) => api.request<Message>('GET', `/api/v1/messages/${enc(id)}`),
  replies: (id: Id, after?: Id) =>
    api.request<MessagePage>('GET', `/api/v1/messages/${enc(id)}/replies`, undefined, { query: { after, limit: 200 } }),
  edit: (id: Id, text: string) => api.request<Message>('PATCH', `/api/v1/messages/${enc(id)}`, { text }),
  history: (id: Id) =>
    api.request<{ versions: Array<{ text: string; edited_at: string }> }>('GET', `/api/v1/messages/${enc(id)}/history`),
  remove: (id: Id) => api.request<void>('DELETE', `/api/v1/messages/${enc(id)}`),
  react: (id: Id, emoji: string) => api.request<void>('PUT', `/api/v1/messages/${enc(id)}/reactions/${enc(emoji)}`),
  unreact: (id: Id, emoji: string) =>
    api.request<void>('DELETE', `/api/v1/messages/${enc(id)}/reactions/${enc(emoji)}`),
};

export const realtimeApi = {
  ticket: () => api.request<{ ticket: string; expires_in: number }>('POST', '/api/v1/realtime/tickets'),
};

export const aiApi = {
  summarize: (channelId: Id, threadRootId?: Id) =>
    api.request<SummaryResponse>('POST', '/api/v1/ai/summaries', {
      channel_id: channelId,
      thread_root_id: threadRootId,
      since: 'last_read',
    }),
  ask: (workspaceId: Id, question: string, channelId?: Id) =>
    api.request<AskResponse>('POST', '/api/v1/ai/ask', { workspace_id: workspaceId, question, channel_id: channelId }),
};

/** A thread the caller follows, with the replies by others they have not read. */
export interface FollowedThread {
  root: Message;
  channel_id: Id;
  unread_replies: number;
}

export const threadsApi = {
  followed: (workspaceId: Id, unreadOnly = false) =>
    api.request<{ threads: FollowedThread[] }>('GET', `/api/v1/workspaces/${enc(workspaceId)}/threads`, undefined, {
      query: { unread: unreadOnly ? 'true' : undefined },
    }),
};

export const notificationsApi = {
  list: (unreadOnly = false) =>
    api.request<{ notifications: AppNotification[]; has_more: boolean }>('GET', '/api/v1/notifications', undefined, {
      query: { unread: unreadOnly ? 'true' : undefined, limit: 50 },
    }),
  markRead: (ids: Id[] | 'all') =>
    api.request<void>('POST', '/api/v1/notifications/read', ids === 'all' ? { all: true } : { ids }),
  preferences: () => api.request<NotificationPreferences>('GET', '/api/v1/notification-preferences'),
  setPreferences: (patch: Partial<NotificationPreferences>) =>
    api.request<NotificationPreferences>('PUT', '/api/v1/notification-preferences', patch),
};
