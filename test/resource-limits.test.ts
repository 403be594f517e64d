import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';

/** One request over a real socket, headers as given: the status Node's HTTP server answers. */
function rawStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a socket, sends `text` and never finishes the request: what the server answers before it closes the socket. */
function abandoned(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(Number(port), hostname, () => socket.write(text));
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

describe.each(dialects)('resource limits on %s', (dialect) => {
  let h: Harness;
  let base: string;
  const figures: string[] = [];
  const record = (limit: string, status: number | string) => figures.push(`${limit}: ${status}`);

  beforeAll(async () => {
    h = await createHarness(dialect, { seedListMax: 3, requestTimeoutMs: 500, keepAliveTimeoutMs: 1000 });
    base = await h.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    console.log(`[${dialect}] limits through HTTP:\n  ${figures.join('\n  ')}`);
    await h.close();
  });

  it('answers a request head over 16 KiB with 431, over a real socket', async () => {
    const status = await rawStatus(`${base}/healthz`, { 'x-padding': 'x'.repeat(17 * 1024) });
    record('header of 17 KiB', status);
    expect(status).toBe(431);
    expect(await rawStatus(`${base}/healthz`, { 'x-padding': 'x'.repeat(8 * 1024) })).toBe(200);
  });

  it('answers a request whose head never ends with 408 once the request time-out passes', async () => {
    const answer = await abandoned(base, 'GET /healthz HTTP/1.1\r\nHost: roster\r\nx-slow: ');
    record('head never finished (request time-out)', answer.split('\r\n')[0]!);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes a kept-alive connection left idle after the keep-alive time-out', async () => {
    const answer = await abandoned(
      base,
      'GET /healthz HTTP/1.1\r\nHost: roster\r\nConnection: keep-alive\r\n\r\n',
    );
    record('kept-alive socket left idle (keep-alive time-out)', `${answer.split('\r\n')[0]}, then closed`);
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toMatch(/keep-alive/i);
  });

  it('caps page sizes on /v1 and on each seed surface', async () => {
    const v1 = await h.a.send('GET', '/v1/contacts?limit=1001');
    record('/v1 limit=1001', v1.statusCode);
    expect(v1.statusCode).toBe(400);
    expect(v1.json().errors.map((e: { field: string }) => e.field)).toContain('querystring.limit');
    for (const url of ['/v1/groups?limit=1001', '/v1/users?limit=1001'])
      expect((await h.a.send('GET', url)).statusCode, url).toBe(400);
    const s001 = await h.a.send('GET', '/contact?limit=1001');
    record('seed 001 limit=1001', s001.statusCode);
    expect(s001.statusCode).toBe(400);
    const s003 = await h.a.send('POST', '/api/group/list', { limit: 1001 });
    record('seed 003 limit=1001', s003.statusCode);
    expect(s003.statusCode).toBe(400);
    const s002 = await h.request({
      method: 'GET',
      url: '/api/unified-communications/contact-groups?page_size=5000',
      headers: { authorization: h.a.owner.jwt },
    });
    record('seed 002 page_size=5000', `${s002.statusCode}, capped to 100`);
    expect(s002.statusCode).toBe(200);
  });

  it('cuts the seed lists that have no pagination at the configured maximum, and says so', async () => {
    for (let i = 0; i < 5; i++) await h.a.send('POST', '/v1/groups', { name: `Listed ${i}` });
    const s000 = await h.request({
      method: 'GET',
      url: `/api/v1.0/organisation/${h.a.org.id}/contact-groups/`,
      headers: { authorization: h.a.owner.basic },
    });
    record('seed 000 list of 5 groups, ROSTER_SEED_LIST_MAX=3', `${s000.json().length} items`);
    expect(s000.json()).toHaveLength(3);
    expect(s000.headers['x-roster-truncated']).toBe('true');
    const s001 = await h.a.send('GET', '/contact_groups');
    expect(s001.json().data).toHaveLength(3);
    expect(s001.headers['x-roster-truncated']).toBe('true');
  });

  it('caps the contacts of one membership call at 10,000', async () => {
    const group = (await h.a.send('POST', '/v1/groups', { name: 'Big' })).json();
    const ids = Array.from({ length: 10_001 }, () => crypto.randomUUID());
    const res = await h.a.send('POST', `/v1/groups/${group.id}/members`, { contact_ids: ids });
    record('members per call: 10,001', res.statusCode);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { field: string }) => e.field)).toContain('contact_ids');
  });

  it('caps the search: 200 characters and 10 words', async () => {
    const long = await h.a.send('GET', `/v1/contacts?q=${'a'.repeat(201)}`);
    record('q of 201 characters', long.statusCode);
    expect(long.statusCode).toBe(400);
    const wordy = await h.a.send('GET', `/v1/contacts?q=${encodeURIComponent('a b c d e f g h i j k')}`);
    record('q of 11 words', wordy.statusCode);
    expect(wordy.statusCode).toBe(400);
    expect(wordy.json().errors).toEqual([{ field: 'q', message: 'may have at most 10 words' }]);
    expect(
      (await h.a.send('GET', `/v1/contacts?q=${encodeURIComponent('a b c d e f g h i j')}`)).statusCode,
    ).toBe(200);
  });

  it('caps custom attributes at 50 keys, and writes nothing over it', async () => {
    const custom = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    const res = await h.a.send('POST', '/v1/contacts', { name: 'Too custom', custom });
    record('custom attributes: 51 keys', res.statusCode);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { field: string }) => e.field)).toContain('custom');
    expect((await h.a.send('GET', '/v1/contacts?q=custom')).json().items).toEqual([]);
  });
});
