import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { LoginThrottle, RedisThrottleStore } from '../src/services/login-throttle.js';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';

describe('the login throttle', () => {
  const options = { freeFailures: 2, lockAfter: 4, lockMs: 60_000, maxDelayMs: 50, windowMs: 60_000 };

  it('slows a username down after a few failures, then locks it for a while, then forgets', async () => {
    const throttle = new LoginThrottle(options);
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) throttle.recordFailure('eve', t0);
    const started = performance.now();
    await throttle.beforeAttempt('eve', t0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(40);
    throttle.recordFailure('eve', t0);
    await expect(throttle.beforeAttempt('eve', t0 + 1000)).rejects.toMatchObject({
      code: 'locked',
      details: { retry_after: 59 },
    });
    await expect(throttle.beforeAttempt('eve', t0 + 60_001)).resolves.toBeUndefined();
  });

  it('does not slow down other usernames', async () => {
    const throttle = new LoginThrottle(options);
    for (let i = 0; i < 10; i++) throttle.recordFailure('eve');
    const started = performance.now();
    await throttle.beforeAttempt('alice');
    expect(performance.now() - started).toBeLessThan(20);
  });

  it.runIf(process.env.REDIS_URL)(
    'is one throttle for every server process with Redis: failures on one lock the username on another',
    async () => {
      const connections = [new Redis(process.env.REDIS_URL!), new Redis(process.env.REDIS_URL!)];
      try {
        const [one, two] = connections.map(
          (redis) => new LoginThrottle(options, new RedisThrottleStore(redis, options)),
        );
        const username = `eve-${randomUUID()}`;
        const now = Date.now();
        await one!.recordFailure(username, now);
        await two!.recordFailure(username, now);
        await one!.recordFailure(username, now);
        await expect(two!.beforeAttempt(username, now)).resolves.toBeUndefined();
        await two!.recordFailure(username, now);
        await expect(one!.beforeAttempt(username, now + 1000)).rejects.toMatchObject({
          code: 'locked',
          details: { retry_after: 59 },
        });
        await expect(one!.beforeAttempt('someone-else', now)).resolves.toBeUndefined();
        await two!.recordSuccess(username);
        await expect(one!.beforeAttempt(username, now + 1000)).resolves.toBeUndefined();
      } finally {
        await Promise.all(connections.map((redis) => redis.quit()));
      }
    },
  );
});

const stores = [
  { name: 'memory', redisUrl: undefined },
  ...(process.env.REDIS_URL ? [{ name: 'redis', redisUrl: process.env.REDIS_URL }] : []),
];

describe.each(dialects)('abuse limits on %s', (dialect) => {
  describe.each(stores)('rate limits with the $name store', ({ redisUrl }) => {
    let h: Harness;
    beforeAll(async () => {
      h = await createHarness(dialect, { rateLimit: 5, redisUrl });
    });
    afterAll(() => h.close());

    it('answers 429 with Retry-After once a credential is over its limit, per credential', async () => {
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 7; i++) {
        last = await h.request({
          method: 'GET',
          url: '/v1/contacts',
          headers: { authorization: h.a.owner.apiKey },
        });
        statuses.push(last.statusCode);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
      expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
      expect(last!.headers['ratelimit-limit']).toBe('5');
      expect(last!.headers['ratelimit-remaining']).toBe('0');
      const other = await h.request({
        method: 'GET',
        url: '/v1/contacts',
        headers: { authorization: h.b.owner.apiKey },
      });
      expect(other.statusCode).toBe(200);
      expect(other.headers['ratelimit-remaining']).toBe('4');
    });
  });

  describe('credentials', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await createHarness(dialect);
    });
    afterAll(() => h.close());

    it('refuses a credential in the query string even alongside a valid header', async () => {
      const token = h.a.owner.apiKey.slice('Bearer '.length);
      const res = await h.request({
        method: 'GET',
        url: `/v1/contacts?access_token=${token}`,
        headers: { authorization: h.a.owner.apiKey },
      });
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toContain(token);
    });

    it('locks a username after repeated wrong passwords without locking out its API key', async () => {
      const user = await h.a.addUser('viewer', 'target');
      const wrong = 'Basic ' + Buffer.from(`${user.username}:wrong-password`).toString('base64');
      const statuses = [];
      for (let i = 0; i < 11; i++)
        statuses.push(
          (await h.request({ method: 'GET', url: '/v1/contacts', headers: { authorization: wrong } }))
            .statusCode,
        );
      expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
      expect(statuses[10]).toBe(429);
      const right = await h.request({
        method: 'GET',
        url: '/v1/contacts',
        headers: { authorization: user.basic },
      });
      expect(right.statusCode).toBe(429);
      // The lock lasts 15 minutes, and the answer says so.
      expect(Number(right.headers['retry-after'])).toBeGreaterThan(14 * 60);
      const key = await h.request({
        method: 'GET',
        url: '/v1/contacts',
        headers: { authorization: user.apiKey },
      });
      expect(key.statusCode).toBe(200);
    }, 60_000);
  });
});
