import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../src/http/app.js';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';
import { Receiver } from './support/webhook-receiver.js';

describe.each(dialects)('metrics and request ids on %s', (dialect) => {
  let h: Harness;
  const lines: Record<string, unknown>[] = [];
  const token = 'metrics-scraper-token';
  beforeAll(async () => {
    const logStream = new PassThrough();
    logStream.on('data', (chunk: Buffer) =>
      chunk
        .toString()
        .split('\n')
        .filter(Boolean)
        .forEach((line) => lines.push(JSON.parse(line))),
    );
    const metrics = new Metrics({ token });
    h = await createHarness(dialect, {
      metrics,
      logLevel: 'info',
      logStream,
      deliveries: { retryScheduleMs: [50, 60_000], timeoutMs: 300 },
    });
    metrics.watch(h.services);
  });
  afterAll(() => h.close());

  it('answers GET /metrics only with its token, in Prometheus text: requests by route template, jobs, the process', async () => {
    const auth = { authorization: h.a.owner.apiKey };
    const contact = await h.request({
      method: 'POST',
      url: '/v1/contacts',
      headers: auth,
      payload: { name: 'Metered' },
    });
    await h.request({ method: 'GET', url: `/v1/contacts/${contact.json().id}`, headers: auth });
    expect((await h.request({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect(
      (await h.request({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong' } }))
        .statusCode,
    ).toBe(401);
    // An API key is not the scraper's token.
    expect((await h.request({ method: 'GET', url: '/metrics', headers: auth })).statusCode).toBe(401);
    const res = await h.request({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.body;
    expect(text).toMatch(
      /roster_http_request_duration_seconds_count\{method="GET",route="\/v1\/contacts\/:id",status="200"\} 1/,
    );
    expect(text).toMatch(
      /roster_http_request_duration_seconds_bucket\{le="0.1",method="POST",route="\/v1\/contacts",status="201"\}/,
    );
    expect(text).toMatch(/roster_job_queue_depth\{kind="imports"\} 0/);
    expect(text).toMatch(/roster_job_queue_oldest_age_seconds\{kind="member_jobs"\} 0/);
    expect(text).toMatch(/roster_import_rows_total \d+/);
    expect(text).toMatch(/process_resident_memory_bytes \d+/);
    expect(text).toMatch(/nodejs_eventloop_lag_seconds \d/);
    // No id of a record becomes a series of its own.
    expect(text).not.toContain(contact.json().id);
  });

  it('counts webhook attempts by outcome and shows how many deliveries wait, and for how long', async () => {
    const auth = { authorization: h.a.owner.apiKey };
    const scrape = async () =>
      (await h.request({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } }))
        .body;
    const counted = (text: string, outcome: string) =>
      Number(new RegExp(`roster_webhook_attempts_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1]);
    const receiver = new Receiver();
    await receiver.start();
    try {
      // The first attempt fails, the retry 50 ms later succeeds; the second group's delivery waits behind neither.
      receiver.answer = (n) => ({ status: n === 1 ? 500 : 204 });
      const endpoint = await h.request({
        method: 'POST',
        url: '/v1/webhooks',
        headers: auth,
        payload: { url: receiver.url, events: ['group.created'] },
      });
      expect(endpoint.statusCode).toBe(201);
      const before = await scrape();
      await h.request({ method: 'POST', url: '/v1/groups', headers: auth, payload: { name: 'Metered 1' } });
      await h.request({ method: 'POST', url: '/v1/groups', headers: auth, payload: { name: 'Metered 2' } });
      await receiver.waitFor(3);
      let text = await scrape();
      for (let i = 0; i < 200 && counted(text, 'delivered') - counted(before, 'delivered') < 2; i++) {
        await new Promise((r) => setTimeout(r, 25));
        text = await scrape();
      }
      expect(counted(text, 'delivered') - counted(before, 'delivered')).toBe(2);
      expect(counted(text, 'retry') - counted(before, 'retry')).toBe(1);
      expect(counted(text, 'gave_up')).toBe(0);
      expect(text).toMatch(/roster_webhook_pending 0/);
      expect(text).toMatch(/roster_webhook_oldest_pending_age_seconds 0/);

      // A receiver that stops answering leaves a delivery waiting for its retry: the gauges show it.
      receiver.answer = () => ({ status: 503 });
      await h.request({ method: 'POST', url: '/v1/groups', headers: auth, payload: { name: 'Metered 3' } });
      await receiver.waitFor(5);
      for (let i = 0; i < 200 && !/roster_webhook_pending 1/.test(text); i++) {
        await new Promise((r) => setTimeout(r, 25));
        text = await scrape();
      }
      expect(text).toMatch(/roster_webhook_pending 1/);
      expect(Number(/roster_webhook_oldest_pending_age_seconds ([\d.]+)/.exec(text)?.[1])).toBeGreaterThan(0);
      await h.request({ method: 'DELETE', url: `/v1/webhooks/${endpoint.json().id}`, headers: auth });
    } finally {
      await receiver.close();
    }
  });

  it('is not there at all without a token or port configured', async () => {
    const plain = await createHarness(dialect);
    try {
      expect((await plain.request({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    } finally {
      await plain.close();
    }
  });

  it('logs each request with its request id, the one the client sent when it sent one', async () => {
    await h.request({
      method: 'GET',
      url: '/v1/contacts?limit=1',
      headers: { authorization: h.a.owner.apiKey, 'x-request-id': 'trace-abc-123' },
    });
    const mine = lines.filter((line) => line.reqId === 'trace-abc-123');
    expect(mine.map((line) => line.msg)).toEqual(['incoming request', 'request completed']);
  });
});
