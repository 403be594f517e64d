import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';
import { importer } from './support/imports.js';
import { snapshot } from './support/snapshot.js';
import { Receiver, verify } from './support/webhook-receiver.js';

const waitUntil = async (done: () => Promise<boolean>) => {
  for (let i = 0; i < 600; i++) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('timed out');
};

describe.each(dialects)('webhooks on %s', (dialect) => {
  let h: Harness;
  let receiver: Receiver;
  let auth: { authorization: string };
  const request = (method: string, url: string, payload?: object) =>
    h.request({ method: method as 'GET', url, headers: auth, ...(payload && { payload }) });
  const json = async (method: string, url: string, payload?: object) => {
    const res = await request(method, url, payload);
    expect(res.statusCode, res.body).toBeLessThan(300);
    return res.json();
  };
  const subscribe = (events: string[] = ['*']) =>
    json('POST', '/v1/webhooks', { url: receiver.url, events, description: 'test receiver' });

  beforeAll(async () => {
    h = await createHarness(dialect, { deliveries: { retryScheduleMs: [50, 50, 50], timeoutMs: 300 } });
    auth = { authorization: h.a.owner.apiKey };
  });
  afterAll(() => h.close());

  let endpoints: string[] = [];
  beforeEach(async () => {
    receiver = new Receiver();
    await receiver.start();
  });
  afterEach(async () => {
    for (const id of endpoints) await request('DELETE', `/v1/webhooks/${id}`);
    endpoints = [];
    await receiver.close();
  });
  const added = async (events?: string[]) => {
    const endpoint = await subscribe(events);
    endpoints.push(endpoint.id);
    return endpoint;
  };

  it('signs each change as Standard Webhooks says, in order, naming the credential that made it', async () => {
    const endpoint = await added();
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(endpoint.secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    // Shown once: neither read back nor stored as it is.
    expect(JSON.stringify(await json('GET', `/v1/webhooks/${endpoint.id}`))).not.toContain(endpoint.secret);
    expect(JSON.stringify(await snapshot(h))).not.toContain(endpoint.secret.slice(6));

    const ids: string[] = [];
    for (let i = 0; i < 15; i++) ids.push((await json('POST', '/v1/contacts', { name: `Hooked ${i}` })).id);
    const got = await receiver.waitFor(15);
    const events = got.map((r) => verify(endpoint.secret, r));
    expect(events.map((e) => e.data.resource)).toEqual(ids.map((id) => ({ type: 'contact', id })));
    expect(events.map((e) => e.data.seq)).toEqual([...events.map((e) => e.data.seq)].sort((a, b) => a - b));
    const keyId = (await json('GET', '/v1/api-keys')).items[0].id;
    expect(events[0]).toMatchObject({
      type: 'contact.created',
      data: {
        surface: 'v1',
        actor: { user_id: h.a.owner.user.id, credential: { kind: 'api_key', id: keyId } },
      },
    });
    expect(got[0]!.headers['content-type']).toBe('application/json');
    // A forged or altered body fails the same verification.
    expect(() =>
      verify(endpoint.secret, {
        ...got[0]!,
        body: got[0]!.body.replace('contact.created', 'contact.deleted'),
      }),
    ).toThrow();
  });

  it('retries a receiver that fails or times out, with the same webhook-id, until it answers 2xx', async () => {
    const endpoint = await added(['group.created']);
    receiver.answer = (n) =>
      n === 1 ? { status: 500, body: 'down' } : n === 2 ? { status: 200, delayMs: 1000 } : { status: 200 };
    await json('POST', '/v1/groups', { name: 'Retried' });
    const got = await receiver.waitFor(3);
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const r of got) expect(verify(endpoint.secret, r).type).toBe('group.created');
    let delivery: Record<string, unknown> = {};
    await waitUntil(async () => {
      [delivery] = (await json('GET', `/v1/webhooks/${endpoint.id}/deliveries`)).items;
      return delivery!.status === 'delivered';
    });
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 3, type: 'group.created' });
  });

  it('gives up after the schedule, disables the endpoint saying why, keeps a short excerpt, and redelivers on demand', async () => {
    const endpoint = await added(['group.created']);
    receiver.answer = () => ({ status: 503, body: 'x'.repeat(5000) });
    await json('POST', '/v1/groups', { name: 'Never delivered' });
    await waitUntil(async () => !(await json('GET', `/v1/webhooks/${endpoint.id}`)).enabled);
    const disabled = await json('GET', `/v1/webhooks/${endpoint.id}`);
    expect(disabled.disabled_reason).toMatch(/4 failed attempts.*HTTP 503/);
    const [failed] = (await json('GET', `/v1/webhooks/${endpoint.id}/deliveries`)).items;
    expect(failed).toMatchObject({ status: 'failed', attempts: 4, last_status: 503, next_attempt_at: null });
    expect(failed.response_excerpt.length).toBe(1024);
    expect(receiver.received).toHaveLength(4);

    receiver.answer = () => ({ status: 200 });
    await json('PATCH', `/v1/webhooks/${endpoint.id}`, { enabled: true });
    expect((await json('GET', `/v1/webhooks/${endpoint.id}`)).disabled_reason).toBeNull();
    await json('POST', `/v1/webhooks/${endpoint.id}/deliveries/${failed.id}/redeliver`);
    const got = await receiver.waitFor(5);
    expect(got[4]!.headers['webhook-id']).toBe(failed.id);
  });

  it('signs with the old and the new secret for a day after a rotation, and sends test events', async () => {
    const endpoint = await added();
    const rotated = await json('POST', `/v1/webhooks/${endpoint.id}/rotate`);
    expect(rotated.secret).not.toBe(endpoint.secret);
    expect(Date.parse(rotated.previous_secret_expires_at) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
    await json('POST', `/v1/webhooks/${endpoint.id}/test`);
    const [got] = await receiver.waitFor(1);
    expect(got!.headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
    expect(verify(rotated.secret, got!).type).toBe('webhook.test');
    expect(verify(endpoint.secret, got!).type).toBe('webhook.test');
  });

  it('sends an import as one summary, and a bulk membership as one event with its ids', async () => {
    const endpoint = await added();
    const { importFile } = importer(h);
    const job = await importFile('name\nOne\nTwo\nThree\n', 'mode=create');
    const group = await json('POST', '/v1/groups', { name: 'Bulk' });
    const contacts = await json('GET', '/v1/contacts?limit=3');
    await json('POST', `/v1/groups/${group.id}/members`, {
      contact_ids: contacts.items.map((c: { id: string }) => c.id),
    });
    const got = (await receiver.waitFor(3)).map((r) => verify(endpoint.secret, r));
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.received).toHaveLength(3);
    expect(got.map((e) => e.type)).toEqual(['import.completed', 'group.created', 'group.members_added']);
    expect(got[0]!.data).toMatchObject({
      resource: { id: job.id },
      summary: { created: 3 },
      surface: 'import',
    });
    expect(got[2]!.data.contact_ids).toHaveLength(3);
    // The feed still has every contact the import made.
    const feed = await json('GET', '/v1/changes?types=contact.created&limit=1000');
    expect(feed.items.filter((e: { surface: string }) => e.surface === 'import')).toHaveLength(3);
  });

  it('is for admins and owners, and keeps organisations apart', async () => {
    const editor = await h.a.addUser('editor', 'hook-editor');
    const endpoint = await added();
    const asEditor = { authorization: editor.apiKey };
    expect((await h.request({ method: 'GET', url: '/v1/webhooks', headers: asEditor })).statusCode).toBe(403);
    const other = { authorization: h.b.owner.apiKey };
    for (const url of [`/v1/webhooks/${endpoint.id}`, `/v1/webhooks/${endpoint.id}/deliveries`])
      expect((await h.request({ method: 'GET', url, headers: other })).statusCode).toBe(404);
    expect((await h.request({ method: 'GET', url: '/v1/webhooks', headers: other })).json().items).toEqual(
      [],
    );
    // Their changes never reach this organisation's endpoint.
    await h.request({ method: 'POST', url: '/v1/contacts', headers: other, payload: { name: 'Elsewhere' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received).toEqual([]);
  });

  it('refuses URLs that are not http(s) or name cloud metadata, whatever the configuration', async () => {
    for (const url of [
      'ftp://example.com/x',
      'http://169.254.169.254/latest',
      'http://[fd00:ec2::254]/',
      'not a url',
    ])
      expect((await request('POST', '/v1/webhooks', { url, events: ['*'] })).statusCode, url).toBe(400);
  });
});

describe.each(dialects)('webhook targets on %s without ROSTER_WEBHOOK_ALLOW_PRIVATE', (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect, {
      webhookAllowPrivate: false,
      deliveries: { retryScheduleMs: [30], timeoutMs: 300 },
    });
  });
  afterAll(() => h.close());

  it('refuses loopback, private and link-local addresses when saved, and again when sending', async () => {
    const auth = { authorization: h.a.owner.apiKey };
    for (const url of [
      'http://127.0.0.1/x',
      'http://localhost:8080/x',
      'http://10.1.2.3/x',
      'http://192.168.0.1/x',
      'http://[::1]/x',
      'http://169.254.10.10/x',
      'http://[::ffff:127.0.0.1]/x',
    ]) {
      const res = await h.request({
        method: 'POST',
        url: '/v1/webhooks',
        headers: auth,
        payload: { url, events: ['*'] },
      });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().errors[0].field).toBe('url');
    }
    // A name that resolved to a public address when saved and to a private one when sent (DNS
    // rebinding) is refused at connection time: simulated by pointing a saved endpoint inward.
    const receiver = new Receiver();
    await receiver.start();
    try {
      const saved = await h.request({
        method: 'POST',
        url: '/v1/webhooks',
        headers: auth,
        payload: { url: 'http://93.184.215.14/hook', events: ['*'] },
      });
      expect(saved.statusCode, saved.body).toBe(201);
      await h.store.db.updateTable('webhook_endpoints').set({ url: receiver.url }).execute();
      await h.request({ method: 'POST', url: '/v1/contacts', headers: auth, payload: { name: 'Rebound' } });
      const deliveries = `/v1/webhooks/${saved.json().id}/deliveries`;
      await waitUntil(
        async () =>
          (await h.request({ method: 'GET', url: deliveries, headers: auth })).json().items[0]?.attempts > 0,
      );
      const [delivery] = (await h.request({ method: 'GET', url: deliveries, headers: auth })).json().items;
      expect(delivery.last_error).toMatch(/refused: .*loopback/);
      expect(receiver.received).toEqual([]);
    } finally {
      await receiver.close();
    }
  });
});
