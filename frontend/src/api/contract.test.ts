// @vitest-environment node
// The client against the server's own API document (openapi.json, kept current by a Rust test):
// every request it makes is a documented route, and schema.d.ts is generated from that document.
import openapiTS, { astToString } from 'openapi-typescript';
import { describe, expect, it } from 'vitest';
import client from './client.ts?raw';
import endpoints from './endpoints.ts?raw';
import document from './openapi.json';
import schemaTypes from './schema.d.ts?raw';
import upload from './upload.ts?raw';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** `(METHOD, '/api/…')` and `` (METHOD, `/api/…/${x}`) `` as the client's sources spell requests. */
const REQUEST = /\(\s*'(GET|POST|PUT|PATCH|DELETE)',\s*[`']((?:\/api|\/hooks)[^`']*)[`']/g;

function requestsIn(source: string): Array<[Method, string]> {
  return [...source.matchAll(REQUEST)].map((m) => [m[1] as Method, m[2]]);
}

/** A path with its parameters blanked, so `/channels/${enc(ch)}` meets `/channels/{channel_id}`. */
const shape = (path: string) => path.replace(/\$\{[^}]*\}|\{[^}]*\}/g, '{}');

const documented = new Set(
  Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item as object).map((method) => `${method.toUpperCase()} ${shape(path)}`),
  ),
);

describe('the typed client', () => {
  const requests = [...requestsIn(endpoints), ...requestsIn(upload)];

  it('finds the requests it checks', () => {
    expect(requests.length).toBeGreaterThan(40);
  });

  it.each(requests)('%s %s is a documented route', (method, path) => {
    expect(documented.has(`${method} ${shape(path)}`)).toBe(true);
  });

  it('refreshes its session on a documented route', () => {
    expect(client).toContain("'/api/v1/auth/refresh'");
    expect(documented.has('POST /api/v1/auth/refresh')).toBe(true);
  });

  it('has the types generated from the current document (`make openapi` regenerates them)', async () => {
    const generated = astToString(await openapiTS(document as never));
    expect(schemaTypes.endsWith(generated)).toBe(true);
  });
});
