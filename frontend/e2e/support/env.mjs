// Shared set-up for the end-to-end suite: where Echo runs, how Chromium starts, and a tiny
// HTTP client for seeding data through the public API.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

export const BASE_URL = (process.env.ECHO_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

/** Fails loudly (never skips) when the server is not there: a green run must mean a tested run. */
export async function requireServer() {
  try {
    const res = await fetch(`${BASE_URL}/healthz`, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) throw new Error(`GET /healthz answered ${res.status}`);
  } catch (err) {
    throw new Error(
      `Echo is not reachable at ${BASE_URL} (${err.message}). Start it (e.g. \`echo-server up\`) and build the web app, or set ECHO_URL.`,
    );
  }
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

export const unique = (prefix) => `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** Minimal API client used to seed data quickly; retries politely when rate limited. */
export class Api {
  constructor(token = null) {
    this.token = token;
  }
  async call(method, path, body) {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${BASE_URL}${path}`, {
        method,
        headers: { 'Content-Type': 'application/json', ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (res.status === 429 && attempt < 20) {
        const wait = Number(res.headers.get('Retry-After')) || 1;
        await new Promise((r) => setTimeout(r, wait * 1000));
        continue;
      }
      const text = await res.text();
      const json = text ? JSON.parse(text) : undefined;
      if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
      return json;
    }
  }
  static async register(displayName) {
    const email = `${unique('e2e')}@example.com`;
    const password = 'correct-horse-battery';
    const res = await new Api().call('POST', '/api/v1/auth/register', { email, password, display_name: displayName });
    const api = new Api(res.access_token);
    return { api, user: res.user, email, password };
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool(items, limit, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(workers);
}

// A small valid PNG (solid colour), so uploads exercise real image previews.
export function makePng(width, height, [r, g, b]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = y * (width * 3 + 1) + 1 + x * 3;
      rows[o] = r;
      rows[o + 1] = g;
      rows[o + 2] = b;
    }
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

/** Records any dialog (alert/confirm/prompt) a page opens, which would mean injected script ran. */
export function watchDialogs(page, sink) {
  page.on('dialog', async (d) => {
    sink.push(`${d.type()}: ${d.message()}`);
    await d.dismiss().catch(() => undefined);
  });
}
