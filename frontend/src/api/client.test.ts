import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, memoryTokenStorage, type StoredTokens } from './client';

const json = (status: number, body: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

function setup(tokens: Partial<StoredTokens> = {}) {
  const now = 1_000_000;
  const storage = memoryTokenStorage({ accessToken: 'a0', refreshToken: 'r0', expiresAt: now + 600_000, ...tokens });
  const calls: Array<{ url: string; auth?: string; body?: string }> = [];
  let refreshCount = 0;
  let valid = 'a0';
  const fetchImpl = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const headers = (init?.headers ?? {}) as Record<string, string>;
    calls.push({ url, auth: headers.Authorization, body: init?.body as string | undefined });
    if (url === '/api/v1/auth/refresh') {
      refreshCount++;
      const { refresh_token } = JSON.parse(String(init?.body));
      if (refresh_token !== `r${refreshCount - 1}`) return json(401, { error: { code: 'invalid_token', message: 'reused' } });
      await new Promise((r) => setTimeout(r, 5));
      valid = `a${refreshCount}`;
      return json(200, { access_token: valid, refresh_token: `r${refreshCount}`, expires_in: 900 });
    }
    if (headers.Authorization !== `Bearer ${valid}`) return json(401, { error: { code: 'unauthorized', message: 'expired' } });
    if (url.startsWith('/api/v1/fail')) return json(400, { error: { code: 'invalid', message: 'Name is taken', fields: { name: 'taken' } } });
    return json(200, { ok: url });
  });
  const client = new ApiClient({ fetch: fetchImpl as typeof fetch, storage, now: () => now, autoRefresh: false, lock: (_n, fn) => fn() });
  return { client, calls, storage, refreshes: () => refreshCount, expire: () => (valid = 'nobody-has-this') };
}

describe('ApiClient', () => {
  it('sends the bearer token', async () => {
    const { client, calls } = setup();
    await expect(client.request('GET', '/api/v1/users/me')).resolves.toEqual({ ok: '/api/v1/users/me' });
    expect(calls[0].auth).toBe('Bearer a0');
  });

  it('refreshes once for many concurrent 401s and retries each request', async () => {
    const { client, calls, refreshes, storage } = setup();
    // The server considers a0 expired already; five requests race into the 401.
    const clientAny = client as unknown as { tokens: StoredTokens };
    clientAny.tokens = { ...clientAny.tokens, accessToken: 'stale' };
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => client.request('GET', `/api/v1/x${i}`)));
    expect(results.map((r) => (r as { ok: string }).ok)).toEqual([1, 2, 3, 4, 5].map((i) => `/api/v1/x${i}`));
    expect(refreshes()).toBe(1);
    expect(calls.filter((c) => c.url === '/api/v1/auth/refresh')).toHaveLength(1);
    expect(storage.load()).toMatchObject({ accessToken: 'a1', refreshToken: 'r1' });
  });

  it('refreshes proactively when the token is about to expire', async () => {
    const { client, calls, refreshes } = setup({ expiresAt: 1_000_000 + 1_000 });
    await Promise.all([client.request('GET', '/api/v1/a'), client.request('GET', '/api/v1/b')]);
    expect(refreshes()).toBe(1);
    expect(calls.filter((c) => c.url !== '/api/v1/auth/refresh').every((c) => c.auth === 'Bearer a1')).toBe(true);
  });

  it('ends the session when the refresh token is rejected', async () => {
    const { client, storage } = setup({ refreshToken: 'revoked' });
    const lost = vi.fn();
    client.onSessionLost = lost;
    (client as unknown as { tokens: StoredTokens }).tokens.accessToken = 'stale';
    await expect(client.request('GET', '/api/v1/me')).rejects.toMatchObject({ status: 401 });
    expect(lost).toHaveBeenCalledTimes(1);
    expect(storage.load()).toBeNull();
    expect(client.hasSession()).toBe(false);
  });

  it('adopts tokens another tab already rotated instead of reusing the old refresh token', async () => {
    const { client, storage, refreshes } = setup();
    (client as unknown as { tokens: StoredTokens }).tokens.accessToken = 'stale';
    // Simulate the other tab: it rotated r0 → r1 and stored the result.
    storage.save({ accessToken: 'a1', refreshToken: 'r1', expiresAt: 1_000_000 + 900_000 });
    expect(await client.refresh()).toBe(true);
    expect(refreshes()).toBe(0);
  });

  it('surfaces the contract error body', async () => {
    const { client } = setup();
    const err = await client.request('POST', '/api/v1/fail', {}).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, code: 'invalid', message: 'Name is taken', fields: { name: 'taken' } });
  });

  it('reports network failures as status 0', async () => {
    const client = new ApiClient({
      fetch: (async () => {
        throw new TypeError('Failed to fetch');
      }) as typeof fetch,
      storage: memoryTokenStorage(null),
      autoRefresh: false,
    });
    await expect(client.request('GET', '/api/v1/x', undefined, { auth: false })).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });
});
