import type { ApiErrorBody, TokenPair } from './types';

/** An error answered by the API (or a network failure, status 0), carrying the contract's error body. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields?: Record<string, string>;
  readonly retryAfter?: number;

  constructor(status: number, code: string, message: string, fields?: Record<string, string>, retryAfter?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.retryAfter = retryAfter;
  }
}

export interface StoredTokens {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds when the access token expires. */
  expiresAt: number;
}

export interface TokenStorage {
  load(): StoredTokens | null;
  save(tokens: StoredTokens | null): void;
}

const STORAGE_KEY = 'echo.session';

export const localTokenStorage: TokenStorage = {
  load() {
    try {
      const raw = localStorage.getItem(STORAGE_KEY);
      return raw ? (JSON.parse(raw) as StoredTokens) : null;
    } catch {
      return null;
    }
  },
  save(tokens) {
    try {
      if (tokens) localStorage.setItem(STORAGE_KEY, JSON.stringify(tokens));
      else localStorage.removeItem(STORAGE_KEY);
    } catch {
      /* storage unavailable (private mode): the session lives in memory only */
    }
  },
};

export function memoryTokenStorage(initial: StoredTokens | null = null): TokenStorage {
  let value = initial;
  return { load: () => value, save: (t) => void (value = t) };
}

/** Runs `fn` under a cross-tab lock so two tabs never present the same refresh token twice. */
export type LockFn = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

const webLock: LockFn = (name, fn) => {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  return locks ? (locks.request(name, fn) as Promise<Awaited<ReturnType<typeof fn>>>) : fn();
};

export interface ApiClientOptions {
  fetch?: typeof fetch;
  storage?: TokenStorage;
  lock?: LockFn;
  now?: () => number;
  /** Refresh this long before the access token expires. */
  refreshMarginMs?: number;
  /** Schedule a timer that refreshes ahead of expiry (off in tests). */
  autoRefresh?: boolean;
}

export interface RequestOptions {
  auth?: boolean;
  signal?: AbortSignal;
  query?: Record<string, string | number | boolean | undefined | null>;
}

export class ApiClient {
  private readonly fetchImpl: typeof fetch;
  private readonly storage: TokenStorage;
  private readonly lock: LockFn;
  private readonly now: () => number;
  private readonly refreshMarginMs: number;
  private readonly autoRefresh: boolean;
  private tokens: StoredTokens | null;
  private refreshing: Promise<boolean> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;

  /** Called when the session can no longer be refreshed (revoked, expired, logged out elsewhere). */
  onSessionLost: (() => void) | null = null;

  constructor(options: ApiClientOptions = {}) {
    this.fetchImpl = options.fetch ?? ((...args) => globalThis.fetch(...args));
    this.storage = options.storage ?? localTokenStorage;
    this.lock = options.lock ?? webLock;
    this.now = options.now ?? Date.now;
    this.refreshMarginMs = options.refreshMarginMs ?? 60_000;
    this.autoRefresh = options.autoRefresh ?? true;
    this.tokens = this.storage.load();
    this.scheduleRefresh();
  }

  hasSession(): boolean {
    return this.tokens !== null;
  }

  setSession(pair: TokenPair): void {
    this.tokens = {
      accessToken: pair.access_token,
      refreshToken: pair.refresh_token,
      expiresAt: this.now() + pair.expires_in * 1000,
    };
    this.storage.save(this.tokens);
    this.scheduleRefresh();
  }

  clearSession(): void {
    this.tokens = null;
    this.storage.save(null);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  /** A valid access token, refreshing first when it is about to expire. */
  async accessToken(): Promise<string | null> {
    this.adoptStoredTokens();
    if (!this.tokens) return null;
    if (this.tokens.expiresAt - this.now() < 5_000) {
      await this.refresh();
    }
    return this.tokens?.accessToken ?? null;
  }

  /**
   * Rotates the refresh token. Concurrent callers share one request: presenting a rotated
   * refresh token twice would make the server revoke the whole session.
   */
  refresh(): Promise<boolean> {
    if (!this.refreshing) {
      this.refreshing = this.lock('echo-token-refresh', () => this.doRefresh()).finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    const before = this.tokens?.refreshToken;
    // Another tab may have rotated the token while we waited for the lock.
    const stored = this.storage.load();
    if (stored && stored.refreshToken !== before && stored.expiresAt - this.now() > 5_000) {
      this.tokens = stored;
      this.scheduleRefresh();
      return true;
    }
    if (!this.tokens) return false;
    let response: Response;
    try {
      response = await this.fetchImpl('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: this.tokens.refreshToken }),
      });
    } catch {
      // Offline: keep the session and try again later.
      this.scheduleRefresh(10_000);
      return false;
    }
    if (response.ok) {
      const pair = (await response.json()) as TokenPair;
      this.setSession(pair);
      return true;
    }
    if (response.status === 401 || response.status === 403 || response.status === 400) {
      this.clearSession();
      this.onSessionLost?.();
      return false;
    }
    this.scheduleRefresh(10_000);
    return false;
  }

  private adoptStoredTokens(): void {
    const stored = this.storage.load();
    if (!stored) return;
    if (!this.tokens || (stored.refreshToken !== this.tokens.refreshToken && stored.expiresAt >= this.tokens.expiresAt)) {
      this.tokens = stored;
    }
  }

  private scheduleRefresh(delayOverrideMs?: number): void {
    if (!this.autoRefresh || typeof window === 'undefined') return;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    if (!this.tokens) return;
    const delay = delayOverrideMs ?? Math.max(1_000, this.tokens.expiresAt - this.now() - this.refreshMarginMs);
    this.refreshTimer = setTimeout(() => void this.refresh(), delay);
  }

  async request<T>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    const auth = options.auth ?? true;
    const url = withQuery(path, options.query);
    const send = async (token: string | null) => {
      const headers: Record<string, string> = { Accept: 'application/json' };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      if (auth && token) headers.Authorization = `Bearer ${token}`;
      try {
        return await this.fetchImpl(url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: options.signal,
        });
      } catch (err) {
        if ((err as Error)?.name === 'AbortError') throw err;
        throw new ApiError(0, 'network_error', 'Cannot reach the server. Check your connection.');
      }
    };

    const token = auth ? await this.accessToken() : null;
    let response = await send(token);
    if (response.status === 401 && auth && this.tokens) {
      // Someone else may already have refreshed while this request was in flight.
      const refreshed = this.tokens.accessToken !== token ? true : await this.refresh();
      if (refreshed && this.tokens) response = await send(this.tokens.accessToken);
    }
    return parseResponse<T>(response);
  }

  /** Fetches an authenticated binary resource (file contents for `<img>` via blob URLs). */
  async fetchBlob(url: string, signal?: AbortSignal): Promise<Blob> {
    const send = async () => {
      const token = await this.accessToken();
      return this.fetchImpl(url, { headers: token ? { Authorization: `Bearer ${token}` } : {}, signal });
    };
    let response = await send();
    if (response.status === 401 && (await this.refresh())) response = await send();
    if (!response.ok) await parseResponse(response);
    return response.blob();
  }
}

export function withQuery(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path;
}

export async function parseResponse<T>(response: Response): Promise<T> {
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown = undefined;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  if (response.ok) return json as T;
  const body = (json as ApiErrorBody | undefined)?.error;
  const retryAfter = Number(response.headers.get('Retry-After')) || undefined;
  throw new ApiError(
    response.status,
    body?.code ?? `http_${response.status}`,
    body?.message ?? defaultMessage(response.status),
    body?.fields,
    retryAfter,
  );
}

function defaultMessage(status: number): string {
  if (status === 401) return 'Your session has expired. Please log in again.';
  if (status === 403) return 'You are not allowed to do that.';
  if (status === 404) return 'Not found.';
  if (status === 413) return 'That is too large.';
  if (status === 429) return 'Too many requests. Please slow down.';
  if (status >= 500) return 'The server had a problem. Please try again.';
  return `Request failed (${status}).`;
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export const api = new ApiClient();
