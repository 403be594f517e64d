import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crashTarget, type CrashTarget } from './support/crash-target.js';
import { dialects } from './support/databases.js';
import { Receiver, verify } from './support/webhook-receiver.js';

/** Deliveries are rows, written with their changes: a kill -9 loses none of them. */
describe.each(dialects)('webhook deliveries across kill -9 on %s', (dialect) => {
  let target: CrashTarget;
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
    target = await crashTarget(dialect, {
      ROSTER_SECRET_KEY: 'crash test key',
      ROSTER_WEBHOOK_ALLOW_PRIVATE: 'true',
      ROSTER_WEBHOOK_RETRY_MS: Array(12).fill('250').join(','),
      ROSTER_WEBHOOK_TIMEOUT_MS: '500',
    });
  });
  afterAll(async () => {
    await target?.close();
    await receiver.close();
  });

  it('sends after a restart what was pending when the server was killed, in order', async () => {
    const endpoint = await target.client.request('POST', '/v1/webhooks', {
      body: { url: receiver.url, events: ['contact.created'] },
    });
    expect(endpoint.status).toBe(201);
    // The receiver is down (it answers 503, then leaves requests hanging) while the writes go on.
    receiver.answer = (n) => (n % 2 ? { status: 503 } : { status: 200, delayMs: 60_000 });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++)
      ids.push(
        (await target.client.request('POST', '/v1/contacts', { body: { name: `Pending ${i}` } })).body.id,
      );
    await receiver.waitFor(2);
    await target.crash();
    receiver.answer = () => ({ status: 204 });
    const before = receiver.received.length;
    await target.restart();

    for (let i = 0; i < 1200 && receiver.received.length < before + 20; i++)
      await new Promise((r) => setTimeout(r, 25));
    const after = receiver.received.slice(before).map((r) => verify(endpoint.body.secret, r));
    expect(after.map((e) => e.data.resource)).toEqual(ids.map((id) => ({ type: 'contact', id })));
    // The worker records an answer after the receiver has sent it: the last may still be being written.
    const statuses = async () =>
      (
        await target.client.request('GET', `/v1/webhooks/${endpoint.body.id}/deliveries?limit=100`)
      ).body.items.map((d: { status: string }) => d.status);
    for (let i = 0; i < 200 && (await statuses()).some((s: string) => s !== 'delivered'); i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(await statuses()).toEqual(Array(20).fill('delivered'));
  }, 90_000);
});
