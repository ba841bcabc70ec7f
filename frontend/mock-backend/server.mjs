// An in-memory stand-in for the Echo API gateway, following shared/api-contract.md closely
// enough to develop and smoke-test the web client before the real backend exists. It also
// serves dist/ with the production Content-Security-Policy, so CSP violations show up early.
// Not a reference implementation: no persistence, no rate limits, simplistic search.
//
//   node mock-backend/server.mjs [--port 8080]
import { createServer } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

const PORT = Number(process.argv[process.argv.indexOf('--port') + 1]) || Number(process.env.PORT) || 8080;
const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self' ws: wss:";

let clock = Date.now();
const now = () => new Date(Math.max(Date.now(), ++clock)).toISOString();
let idSeq = 0;
const newId = () => `${Date.now().toString(36).padStart(9, '0')}${(idSeq++).toString(36).padStart(6, '0')}${randomBytes(3).toString('hex')}`;

const db = {
  users: new Map(), // id -> user (+password, email)
  emails: new Map(),
  sessions: new Map(), // sessionId -> {id,userId,refresh,used:Set,created_at,last_used_at,user_agent,revoked}
  access: new Map(), // token -> {userId, sessionId, exp}
  prefs: new Map(),
  presence: new Map(),
  workspaces: new Map(), // id -> {id,name,created_at, members: Map(userId -> {role, joined_at})}
  invites: new Map(),
  channels: new Map(), // id -> {..., members:Set}
  messages: new Map(),
  history: new Map(),
  reads: new Map(), // `${ch}:${user}` -> messageId
  pins: new Map(), // ch -> Set
  files: new Map(),
  tickets: new Map(),
  events: [], // {seq, type, data, audience:Set<userId>}
};

const publicUser = (u) => ({ id: u.id, display_name: u.display_name, title: u.title, timezone: u.timezone, status_text: u.status_text, status_emoji: u.status_emoji, avatar_url: null, created_at: u.created_at });

function send(res, status, body, headers = {}) {
  if (status === 204) {
    res.writeHead(204, headers);
    return res.end();
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(text);
}
const fail = (res, status, code, message, fields) => send(res, status, { error: { code, message, ...(fields ? { fields } : {}) } });

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

function issueTokens(userId, sessionId) {
  const access = randomBytes(16).toString('hex');
  const refresh = randomBytes(16).toString('hex');
  db.access.set(access, { userId, sessionId, exp: Date.now() + 900_000 });
  const s = db.sessions.get(sessionId);
  s.used.add(s.refresh);
  s.refresh = refresh;
  return { access_token: access, refresh_token: refresh, expires_in: 900 };
}

function authUser(req) {
  const h = req.headers.authorization ?? '';
  const tok = h.startsWith('Bearer ') ? h.slice(7) : null;
  const a = tok && db.access.get(tok);
  if (!a || a.exp < Date.now()) return null;
  const s = db.sessions.get(a.sessionId);
  if (!s || s.revoked) return null;
  s.last_used_at = now();
  return { user: db.users.get(a.userId), session: s };
}

// ---- events
const sockets = new Set();
function emit(type, data, audience) {
  const ev = { seq: db.events.length + 1, type, data, audience: new Set(audience) };
  db.events.push(ev);
  for (const s of sockets) if (ev.audience.has(s.userId)) s.deliver(ev);
}
const wsMembers = (wsId) => [...(db.workspaces.get(wsId)?.members.keys() ?? [])];
function channelAudience(ch) {
  return ch.kind === 'public' ? wsMembers(ch.workspace_id) : [...ch.members];
}

function channelView(ch, userId) {
  const last = db.reads.get(`${ch.id}:${userId}`) ?? null;
  const msgs = [...db.messages.values()].filter((m) => m.channel_id === ch.id && !m.thread_root_id && !m.deleted && m.author_id !== userId && (!last || m.id > last));
  const mentions = msgs.filter((m) => m.mentions.includes(userId) || /@(channel|here)/.test(m.text) || ch.kind === 'dm').length;
  const { members, ...rest } = ch;
  return { ...rest, is_member: members.has(userId), unread_count: ch.members.has(userId) ? msgs.length : 0, mention_count: ch.members.has(userId) ? mentions : 0, last_read_message_id: last };
}
const canRead = (ch, userId) => ch && db.workspaces.get(ch.workspace_id)?.members.has(userId) && (ch.kind === 'public' || ch.members.has(userId));
const msgView = (m) => (m.deleted ? { ...m, text: '', files: [], reactions: [] } : m);

function createChannel(wsId, name, kind, creator, topic = null) {
  const ch = { id: newId(), workspace_id: wsId, name, kind, topic, archived: false, created_at: now(), members: new Set(creator ? [creator] : []) };
  db.channels.set(ch.id, ch);
  return ch;
}

function postMessage(ch, user, body) {
  if (body.client_msg_id) {
    const dup = [...db.messages.values()].find((m) => m.author_id === user.id && m.client_msg_id === body.client_msg_id);
    if (dup) return [200, dup];
  }
  const files = (body.file_ids ?? []).map((id) => db.files.get(id)).filter(Boolean).map(({ data, owner, ...f }) => f);
  const mentions = [...String(body.text).matchAll(/<@([A-Za-z0-9_-]+)>/g)].map((x) => x[1]);
  const m = { id: newId(), channel_id: ch.id, author_id: user.id, text: String(body.text ?? ''), thread_root_id: body.thread_root_id ?? null, reply_count: 0, reactions: [], files, mentions, created_at: now(), edited_at: null, deleted: false, client_msg_id: body.client_msg_id ?? null };
  db.messages.set(m.id, m);
  if (m.thread_root_id) {
    const root = db.messages.get(m.thread_root_id);
    if (root) root.reply_count++;
  }
  emit('message.created', { message: m, channel_id: ch.id, workspace_id: ch.workspace_id }, channelAudience(ch));
  return [201, m];
}

function parseMultipart(buf, contentType) {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType ?? '');
  if (!boundary) return {};
  const sep = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts = {};
  let pos = buf.indexOf(sep);
  while (pos >= 0) {
    const next = buf.indexOf(sep, pos + sep.length);
    if (next < 0) break;
    const part = buf.subarray(pos + sep.length + 2, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString();
    const body = part.subarray(headerEnd + 4);
    const name = /name="([^"]*)"/.exec(headers)?.[1];
    const filename = /filename="([^"]*)"/.exec(headers)?.[1];
    const type = /Content-Type:\s*([^\r\n]+)/i.exec(headers)?.[1];
    if (name) parts[name] = filename !== undefined ? { filename, type, data: body } : body.toString();
    pos = next;
  }
  return parts;
}

// ---- routes
const routes = [];
const route = (method, pattern, handler, { auth = true } = {}) => {
  const keys = [];
  const re = new RegExp(`^${pattern.replace(/\{(\w+)\}/g, (_, k) => (keys.push(k), '([^/]+)'))}$`);
  routes.push({ method, re, keys, handler, auth });
};

route('POST', '/api/v1/auth/register', async (req, res, { body }) => {
  const fields = {};
  if (!/^[^@\s]+@[^@\s]+$/.test(body.email ?? '')) fields.email = 'Enter a valid email address.';
  if ((body.password ?? '').length < 8) fields.password = 'Use at least 8 characters.';
  if (!(body.display_name ?? '').trim()) fields.display_name = 'Required.';
  if (Object.keys(fields).length) return fail(res, 400, 'invalid_input', 'Please fix the highlighted fields.', fields);
  if (db.emails.has(body.email.toLowerCase())) return fail(res, 409, 'email_taken', 'That email is already registered.', { email: 'Already registered.' });
  const u = { id: newId(), email: body.email, password: body.password, display_name: body.display_name.trim(), title: null, timezone: null, status_text: null, status_emoji: null, created_at: now() };
  db.users.set(u.id, u);
  db.emails.set(u.email.toLowerCase(), u.id);
  const s = { id: newId(), userId: u.id, refresh: null, used: new Set(), created_at: now(), last_used_at: now(), user_agent: req.headers['user-agent'] ?? null };
  db.sessions.set(s.id, s);
  send(res, 201, { user: { ...publicUser(u), email: u.email }, ...issueTokens(u.id, s.id) });
}, { auth: false });

route('POST', '/api/v1/auth/login', async (req, res, { body }) => {
  const u = db.users.get(db.emails.get(String(body.email ?? '').toLowerCase()));
  if (!u || u.password !== body.password) return fail(res, 401, 'invalid_credentials', 'Wrong email or password.');
  const s = { id: newId(), userId: u.id, refresh: null, used: new Set(), created_at: now(), last_used_at: now(), user_agent: req.headers['user-agent'] ?? null };
  db.sessions.set(s.id, s);
  send(res, 200, { user: { ...publicUser(u), email: u.email }, ...issueTokens(u.id, s.id) });
}, { auth: false });

route('POST', '/api/v1/auth/refresh', async (req, res, { body }) => {
  const t = body.refresh_token;
  const s = [...db.sessions.values()].find((x) => x.refresh === t || x.used.has(t));
  if (!s || s.revoked) return fail(res, 401, 'invalid_token', 'Session expired.');
  if (s.used.has(t)) {
    s.revoked = true;
    return fail(res, 401, 'token_reused', 'Refresh token reuse detected; session revoked.');
  }
  send(res, 200, issueTokens(s.userId, s.id));
}, { auth: false });

route('POST', '/api/v1/auth/logout', (req, res, { session }) => {
  session.revoked = true;
  send(res, 204);
});
route('GET', '/api/v1/users/me', (req, res, { user }) => send(res, 200, { ...publicUser(user), email: user.email }));
route('PATCH', '/api/v1/users/me', (req, res, { user, body }) => {
  for (const k of ['display_name', 'title', 'timezone', 'status_text', 'status_emoji']) if (k in body) user[k] = body[k] || null;
  if (!user.display_name) return fail(res, 400, 'invalid_input', 'Display name is required.', { display_name: 'Required.' });
  const audience = new Set([user.id]);
  for (const ws of db.workspaces.values()) if (ws.members.has(user.id)) wsMembers(ws.id).forEach((id) => audience.add(id));
  emit('user.updated', { user: publicUser(user) }, audience);
  send(res, 200, { ...publicUser(user), email: user.email });
});
route('GET', '/api/v1/users/me/preferences', (req, res, { user }) => send(res, 200, db.prefs.get(user.id) ?? {}));
route('PUT', '/api/v1/users/me/preferences', (req, res, { user, body }) => {
  db.prefs.set(user.id, body);
  send(res, 200, body);
});
route('GET', '/api/v1/users/me/sessions', (req, res, { user, session }) =>
  send(res, 200, { sessions: [...db.sessions.values()].filter((s) => s.userId === user.id && !s.revoked).map((s) => ({ id: s.id, created_at: s.created_at, last_used_at: s.last_used_at, user_agent: s.user_agent, current: s.id === session.id })) }));
route('DELETE', '/api/v1/users/me/sessions/{id}', (req, res, { user, params }) => {
  const s = db.sessions.get(params.id);
  if (!s || s.userId !== user.id) return fail(res, 404, 'not_found', 'No such session.');
  s.revoked = true;
  send(res, 204);
});
route('PUT', '/api/v1/users/me/presence', (req, res, { user, body }) => {
  db.presence.set(user.id, body.status);
  const audience = new Set([user.id]);
  for (const ws of db.workspaces.values()) if (ws.members.has(user.id)) wsMembers(ws.id).forEach((id) => audience.add(id));
  emit('presence.changed', { user_id: user.id, status: body.status === 'invisible' ? 'offline' : body.status }, audience);
  send(res, 204);
});
route('GET', '/api/v1/presence', (req, res, { query }) => {
  const presence = {};
  for (const id of (query.get('user_ids') ?? '').split(',').filter(Boolean)) {
    const p = db.presence.get(id) ?? ([...sockets].some((s) => s.userId === id) ? 'online' : 'offline');
    presence[id] = p === 'invisible' ? 'offline' : p;
  }
  send(res, 200, { presence });
});
route('GET', '/api/v1/users/{id}', (req, res, { params }) => {
  const u = db.users.get(params.id);
  return u ? send(res, 200, publicUser(u)) : fail(res, 404, 'not_found', 'No such user.');
});

route('POST', '/api/v1/workspaces', (req, res, { user, body }) => {
  if (!(body.name ?? '').trim()) return fail(res, 400, 'invalid_input', 'Name is required.', { name: 'Required.' });
  const ws = { id: newId(), name: body.name.trim(), created_at: now(), members: new Map([[user.id, { role: 'owner', joined_at: now() }]]) };
  db.workspaces.set(ws.id, ws);
  createChannel(ws.id, 'general', 'public', user.id);
  send(res, 201, { id: ws.id, name: ws.name, created_at: ws.created_at, role: 'owner' });
});
route('GET', '/api/v1/workspaces', (req, res, { user }) =>
  send(res, 200, { workspaces: [...db.workspaces.values()].filter((w) => w.members.has(user.id)).map((w) => ({ id: w.id, name: w.name, created_at: w.created_at, role: w.members.get(user.id).role })) }));

const wsOf = (id, user) => {
  const ws = db.workspaces.get(id);
  return ws && ws.members.has(user.id) ? ws : null;
};
route('GET', '/api/v1/workspaces/{ws}/members', (req, res, { user, params }) => {
  const ws = wsOf(params.ws, user);
  if (!ws) return fail(res, 404, 'not_found', 'No such workspace.');
  send(res, 200, { members: [...ws.members].map(([user_id, m]) => ({ user_id, ...m })) });
});
route('POST', '/api/v1/workspaces/{ws}/invites', (req, res, { user, params }) => {
  if (!wsOf(params.ws, user)) return fail(res, 404, 'not_found', 'No such workspace.');
  const code = randomBytes(6).toString('hex');
  db.invites.set(code, params.ws);
  send(res, 201, { code, expires_at: new Date(Date.now() + 7 * 86400_000).toISOString() });
});
route('POST', '/api/v1/invites/{code}/accept', (req, res, { user, params }) => {
  const ws = db.workspaces.get(db.invites.get(params.code));
  if (!ws) return fail(res, 404, 'not_found', 'This invite does not exist or has expired.');
  if (!ws.members.has(user.id)) {
    ws.members.set(user.id, { role: 'member', joined_at: now() });
    const general = [...db.channels.values()].find((c) => c.workspace_id === ws.id && c.name === 'general');
    if (general) general.members.add(user.id);
    emit('workspace.member_joined', { workspace_id: ws.id, user_id: user.id, user: publicUser(user) }, wsMembers(ws.id));
    if (general) emit('channel.member_joined', { channel_id: general.id, workspace_id: ws.id, user_id: user.id }, wsMembers(ws.id));
  }
  send(res, 200, { id: ws.id, name: ws.name, created_at: ws.created_at, role: ws.members.get(user.id).role });
});
route('POST', '/api/v1/workspaces/{ws}/channels', (req, res, { user, params, body }) => {
  if (!wsOf(params.ws, user)) return fail(res, 404, 'not_found', 'No such workspace.');
  const name = String(body.name ?? '').trim();
  if (!/^[a-z0-9][a-z0-9_-]{0,79}$/.test(name)) return fail(res, 400, 'invalid_input', 'Invalid channel name.', { name: 'Use lowercase letters, numbers, - and _.' });
  if ([...db.channels.values()].some((c) => c.workspace_id === params.ws && c.name === name)) return fail(res, 409, 'name_taken', 'A channel with that name exists.', { name: 'Already taken.' });
  const ch = createChannel(params.ws, name, body.visibility === 'private' ? 'private' : 'public', user.id, body.topic ?? null);
  emit('channel.created', { channel: channelView(ch, user.id), workspace_id: ch.workspace_id }, channelAudience(ch));
  send(res, 201, channelView(ch, user.id));
});
route('GET', '/api/v1/workspaces/{ws}/channels', (req, res, { user, params }) => {
  if (!wsOf(params.ws, user)) return fail(res, 404, 'not_found', 'No such workspace.');
  send(res, 200, { channels: [...db.channels.values()].filter((c) => c.workspace_id === params.ws && canRead(c, user.id)).map((c) => channelView(c, user.id)) });
});
route('POST', '/api/v1/workspaces/{ws}/dms', (req, res, { user, params, body }) => {
  if (!wsOf(params.ws, user)) return fail(res, 404, 'not_found', 'No such workspace.');
  const set = new Set([user.id, ...(body.user_ids ?? [])]);
  const key = [...set].sort().join(',');
  let ch = [...db.channels.values()].find((c) => c.workspace_id === params.ws && (c.kind === 'dm' || c.kind === 'group_dm') && [...c.members].sort().join(',') === key);
  if (ch) return send(res, 200, channelView(ch, user.id));
  ch = createChannel(params.ws, '', set.size > 2 ? 'group_dm' : 'dm', null);
  set.forEach((id) => ch.members.add(id));
  for (const id of set) emit('channel.created', { channel: channelView(ch, id), workspace_id: ch.workspace_id }, [id]);
  send(res, 201, channelView(ch, user.id));
});
route('GET', '/api/v1/workspaces/{ws}/search', (req, res, { user, params, query }) => {
  if (!wsOf(params.ws, user)) return fail(res, 404, 'not_found', 'No such workspace.');
  const words = (query.get('q') ?? '').split(/\s+/).filter((w) => w && !w.includes(':') && !w.startsWith('-')).map((w) => w.replace(/"/g, '').toLowerCase());
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const results = [...db.messages.values()]
    .filter((m) => !m.deleted && canRead(db.channels.get(m.channel_id), user.id) && db.channels.get(m.channel_id).workspace_id === params.ws)
    .filter((m) => words.length && words.every((w) => m.text.toLowerCase().includes(w)))
    .sort((a, b) => (a.id < b.id ? 1 : -1))
    .slice(0, Number(query.get('limit')) || 20)
    .map((m) => ({ message: m, channel_id: m.channel_id, highlight: m.text.replace(new RegExp(`(${words.map(esc).join('|')})`, 'gi'), '<mark>$1</mark>') }));
  send(res, 200, { results, has_more: false });
});

const chOf = (id, user) => {
  const ch = db.channels.get(id);
  return canRead(ch, user.id) ? ch : null;
};
route('GET', '/api/v1/channels/{ch}', (req, res, { user, params }) => {
  const ch = chOf(params.ch, user);
  return ch ? send(res, 200, channelView(ch, user.id)) : fail(res, 404, 'not_found', 'No such channel.');
});
route('PATCH', '/api/v1/channels/{ch}', (req, res, { user, params, body }) => {
  const ch = chOf(params.ch, user);
  if (!ch) return fail(res, 404, 'not_found', 'No such channel.');
  for (const k of ['name', 'topic', 'archived']) if (k in body) ch[k] = body[k];
  emit('channel.updated', { channel: channelView(ch, user.id), workspace_id: ch.workspace_id }, channelAudience(ch));
  send(res, 200, channelView(ch, user.id));
});
route('POST', '/api/v1/channels/{ch}/join', (req, res, { user, params }) => {
  const ch = chOf(params.ch, user);
  if (!ch || ch.kind !== 'public') return fail(res, 404, 'not_found', 'No such channel.');
  ch.members.add(user.id);
  emit('channel.member_joined', { channel_id: ch.id, workspace_id: ch.workspace_id, user_id: user.id }, channelAudience(ch));
  send(res, 204);
});
route('POST', '/api/v1/channels/{ch}/leave', (req, res, { user, params }) => {
  const ch = chOf(params.ch, user);
  if (!ch) return fail(res, 404, 'not_found', 'No such channel.');
  const audience = channelAudience(ch);
  ch.members.delete(user.id);
  emit('channel.member_left', { channel_id: ch.id, workspace_id: ch.workspace_id, user_id: user.id }, audience);
  send(res, 204);
});
route('GET', '/api/v1/channels/{ch}/members', (req, res, { user, params }) => {
  const ch = chOf(params.ch, user);
  return ch ? send(res, 200, { members: [...ch.members].map((user_id) => ({ user_id })) }) : fail(res, 404, 'not_found', 'No such channel.');
});
route('POST', '/api/v1/channels/{ch}/messages', (req, res, { user, params, body }) => {
  const ch = chOf(params.ch, user);
  if (!ch) return fail(res, 404, 'not_found', 'No such channel.');
  if (!ch.members.has(user.id)) return fail(res, 403, 'not_member', 'Join the channel to post.');
  if (!String(body.text ?? '').trim() && !(body.file_ids ?? []).length) return fail(res, 400, 'invalid_input', 'Message is empty.');
  const [status, m] = postMessage(ch, user, body);
  send(res, status, m);
});
route('GET', '/api/v1/channels/{ch}/messages', (req, res, { user, params, query }) => {
  const ch = chOf(params.ch, user);
  if (!ch) return fail(res, 404, 'not_found', 'No such channel.');
  const limit = Math.min(200, Number(query.get('limit')) || 50);
  const before = query.get('before');
  const after = query.get('after');
  let list = [...db.messages.values()].filter((m) => m.channel_id === ch.id && !m.thread_root_id && (!m.deleted || m.reply_count > 0));
  list.sort((a, b) => (a.id < b.id ? -1 : 1));
  if (before) list = list.filter((m) => m.id < before);
  if (after) {
    list = list.filter((m) => m.id > after);
    const page = list.slice(0, limit);
    return send(res, 200, { messages: page.reverse().map(msgView), has_more: list.length > limit });
  }
  const page = list.slice(-limit);
  send(res, 200, { messages: page.reverse().map(msgView), has_more: list.length > limit });
});
route('POST', '/api/v1/channels/{ch}/read', (req, res, { user, params, body }) => {
  const ch = chOf(params.ch, user);
  if (!ch) return fail(res, 404, 'not_found', 'No such channel.');
  db.reads.set(`${ch.id}:${user.id}`, body.message_id);
  emit('read_marker.updated', { channel_id: ch.id, message_id: body.message_id, user_id: user.id }, [user.id]);
  send(res, 204);
});
route('GET', '/api/v1/channels/{ch}/pins', (req, res, { user, params }) => {
  const ch = chOf(params.ch, user);
  if (!ch) return fail(res, 404, 'not_found', 'No such channel.');
  send(res, 200, { pins: [...(db.pins.get(ch.id) ?? [])].map((id) => msgView(db.messages.get(id))).filter(Boolean) });
});
for (const method of ['PUT', 'DELETE']) {
  route(method, '/api/v1/channels/{ch}/pins/{id}', (req, res, { user, params }) => {
    const ch = chOf(params.ch, user);
    if (!ch) return fail(res, 404, 'not_found', 'No such channel.');
    const set = db.pins.get(ch.id) ?? new Set();
    db.pins.set(ch.id, set);
    if (method === 'PUT') set.add(params.id);
    else set.delete(params.id);
    emit(method === 'PUT' ? 'pin.added' : 'pin.removed', { channel_id: ch.id, message_id: params.id }, channelAudience(ch));
    send(res, 204);
  });
}
const msgOf = (id, user) => {
  const m = db.messages.get(id);
  return m && canRead(db.channels.get(m.channel_id), user.id) ? m : null;
};
route('GET', '/api/v1/messages/{id}', (req, res, { user, params }) => {
  const m = msgOf(params.id, user);
  return m ? send(res, 200, msgView(m)) : fail(res, 404, 'not_found', 'No such message.');
});
route('GET', '/api/v1/messages/{id}/replies', (req, res, { user, params, query }) => {
  const m = msgOf(params.id, user);
  if (!m) return fail(res, 404, 'not_found', 'No such message.');
  const after = query.get('after');
  const list = [...db.messages.values()].filter((r) => r.thread_root_id === m.id && !r.deleted && (!after || r.id > after)).sort((a, b) => (a.id < b.id ? -1 : 1));
  send(res, 200, { messages: list, has_more: false });
});
route('PATCH', '/api/v1/messages/{id}', (req, res, { user, params, body }) => {
  const m = msgOf(params.id, user);
  if (!m || m.deleted) return fail(res, 404, 'not_found', 'No such message.');
  if (m.author_id !== user.id) return fail(res, 403, 'forbidden', 'Only the author can edit.');
  const h = db.history.get(m.id) ?? [];
  h.push({ text: m.text, edited_at: m.edited_at ?? m.created_at });
  db.history.set(m.id, h);
  m.text = String(body.text);
  m.edited_at = now();
  const ch = db.channels.get(m.channel_id);
  emit('message.updated', { message: m, channel_id: ch.id, workspace_id: ch.workspace_id }, channelAudience(ch));
  send(res, 200, m);
});
route('GET', '/api/v1/messages/{id}/history', (req, res, { user, params }) => {
  const m = msgOf(params.id, user);
  return m ? send(res, 200, { versions: db.history.get(m.id) ?? [] }) : fail(res, 404, 'not_found', 'No such message.');
});
route('DELETE', '/api/v1/messages/{id}', (req, res, { user, params }) => {
  const m = msgOf(params.id, user);
  if (!m) return fail(res, 404, 'not_found', 'No such message.');
  m.deleted = true;
  const ch = db.channels.get(m.channel_id);
  emit('message.deleted', { message: msgView(m), message_id: m.id, channel_id: ch.id, workspace_id: ch.workspace_id }, channelAudience(ch));
  send(res, 204);
});
for (const method of ['PUT', 'DELETE']) {
  route(method, '/api/v1/messages/{id}/reactions/{emoji}', (req, res, { user, params }) => {
    const m = msgOf(params.id, user);
    if (!m) return fail(res, 404, 'not_found', 'No such message.');
    const emoji = decodeURIComponent(params.emoji);
    let r = m.reactions.find((x) => x.emoji === emoji);
    const had = !!r?.user_ids.includes(user.id);
    if (method === 'PUT' && !had) {
      if (!r) m.reactions.push((r = { emoji, count: 0, user_ids: [] }));
      r.user_ids.push(user.id);
      r.count = r.user_ids.length;
    } else if (method === 'DELETE' && had) {
      r.user_ids = r.user_ids.filter((u) => u !== user.id);
      r.count = r.user_ids.length;
      m.reactions = m.reactions.filter((x) => x.count > 0);
    } else return send(res, 204);
    const ch = db.channels.get(m.channel_id);
    emit(method === 'PUT' ? 'reaction.added' : 'reaction.removed', { message_id: m.id, channel_id: ch.id, emoji, user_id: user.id }, channelAudience(ch));
    send(res, 204);
  });
}
route('POST', '/api/v1/files', async (req, res, { user, raw }) => {
  const parts = parseMultipart(raw, req.headers['content-type']);
  if (!parts.file?.data || !parts.workspace_id) return fail(res, 400, 'invalid_input', 'file and workspace_id are required.');
  const id = newId();
  const f = { id, name: parts.file.filename, size: parts.file.data.length, content_type: parts.file.type ?? 'application/octet-stream', url: `/api/v1/files/${id}/content`, thumbnail_url: null, data: parts.file.data, owner: user.id };
  db.files.set(id, f);
  const { data, owner, ...meta } = f;
  send(res, 201, meta);
});
route('GET', '/api/v1/files/{id}/content', (req, res, { params }) => {
  const f = db.files.get(params.id);
  if (!f) return fail(res, 404, 'not_found', 'No such file.');
  res.writeHead(200, { 'Content-Type': f.content_type, 'Content-Length': f.data.length });
  res.end(f.data);
});
route('POST', '/api/v1/realtime/tickets', (req, res, { user }) => {
  const ticket = randomBytes(16).toString('hex');
  db.tickets.set(ticket, { userId: user.id, exp: Date.now() + 30_000 });
  send(res, 200, { ticket, expires_in: 30 });
});
route('GET', '/api/v1/notifications', (req, res) => send(res, 200, { notifications: [], has_more: false }));
route('POST', '/api/v1/notifications/read', (req, res) => send(res, 204));
route('POST', '/api/v1/ai/summaries', (req, res) => fail(res, 503, 'ai_unavailable', 'The assistant is not configured on this server.'));
route('POST', '/api/v1/ai/ask', (req, res) => fail(res, 503, 'ai_unavailable', 'The assistant is not configured on this server.'));
route('GET', '/healthz', (req, res) => send(res, 200, { status: 'ok' }), { auth: false });

const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };

async function serveStatic(req, res, pathname) {
  let file = normalize(join(DIST, decodeURIComponent(pathname)));
  if (!file.startsWith(DIST)) file = join(DIST, 'index.html');
  try {
    if (!(await stat(file)).isFile()) throw new Error('dir');
  } catch {
    file = join(DIST, 'index.html'); // SPA fallback
  }
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end('build the app first: npm run build');
  }
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (!url.pathname.startsWith('/api/') && url.pathname !== '/healthz') return serveStatic(req, res, url.pathname);
  for (const r of routes) {
    const m = r.re.exec(url.pathname);
    if (!m || r.method !== req.method) continue;
    const params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])]));
    const raw = await readBody(req);
    let body = {};
    if ((req.headers['content-type'] ?? '').includes('json') && raw.length) {
      try {
        body = JSON.parse(raw.toString());
      } catch {
        return fail(res, 400, 'bad_json', 'Malformed JSON.');
      }
    }
    let ctx = { params, body, raw, query: url.searchParams };
    if (r.auth) {
      const a = authUser(req);
      if (!a) return fail(res, 401, 'unauthorized', 'Missing or expired token.');
      ctx = { ...ctx, ...a };
    }
    try {
      return await r.handler(req, res, ctx);
    } catch (err) {
      console.error(err);
      return fail(res, 500, 'internal', 'Internal error.');
    }
  }
  fail(res, 404, 'not_found', 'No such endpoint.');
});

const wss = new WebSocketServer({ noServer: true });
server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://x');
  const t = db.tickets.get(url.searchParams.get('ticket') ?? '');
  if (url.pathname !== '/api/v1/realtime' || !t || t.exp < Date.now()) {
    socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
    return socket.destroy();
  }
  db.tickets.delete(url.searchParams.get('ticket'));
  wss.handleUpgrade(req, socket, head, (ws) => {
    const cursor = url.searchParams.get('cursor');
    const client = {
      userId: t.userId,
      deliver: (ev) => ws.readyState === 1 && ws.send(JSON.stringify({ type: ev.type, cursor: String(ev.seq), data: ev.data })),
    };
    const head = db.events.length;
    const resumed = cursor !== null && Number(cursor) <= head;
    ws.send(JSON.stringify({ type: 'hello', cursor: String(resumed ? Number(cursor) : head), data: { resumed } }));
    if (resumed) for (const ev of db.events.slice(Number(cursor))) if (ev.audience.has(client.userId)) client.deliver(ev);
    sockets.add(client);
    ws.on('message', (raw) => {
      let f;
      try {
        f = JSON.parse(raw.toString());
      } catch {
        return;
      }
      if (f.type === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
      if (f.type === 'typing') {
        const ch = db.channels.get(f.channel_id);
        if (canRead(ch, client.userId)) emit('typing', { channel_id: ch.id, user_id: client.userId }, channelAudience(ch).filter((id) => id !== client.userId));
      }
    });
    ws.on('close', () => sockets.delete(client));
  });
});

server.listen(PORT, '127.0.0.1', () => console.log(`mock Echo backend on http://127.0.0.1:${PORT}`));
