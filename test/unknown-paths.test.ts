import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';

type Shape = 'problem' | 'drf' | 'seed 001' | 'seed 003';

/** Is this a 404 in the surface's own error style? Returns what is wrong, or undefined. */
function wrong404(shape: Shape, res: LightMyRequestResponse): string | undefined {
  if (res.statusCode !== 404) return `status ${res.statusCode}: ${res.body.slice(0, 200)}`;
  const type = String(res.headers['content-type']);
  const body = res.json();
  const shaped = {
    problem: () =>
      type.startsWith('application/problem+json') &&
      body.type === 'https://roster.dev/problems/not_found' &&
      body.status === 404 &&
      body.code === 'not_found' &&
      body.request_id === res.headers['x-request-id'],
    drf: () => type.startsWith('application/json') && JSON.stringify(body) === '{"detail":"Not found."}',
    'seed 001': () =>
      type.startsWith('application/json') &&
      Object.keys(body).join() === 'status,message' &&
      body.status === false &&
      typeof body.message === 'string',
    'seed 003': () =>
      type.startsWith('application/json') && body.status === 'error' && body.error?.code === 'not_found',
  }[shape];
  return shaped() ? undefined : `not the ${shape} style: ${type} ${res.body}`;
}

describe.each(dialects)('paths no route serves, on %s', (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(() => h.close());

  it('answer 404 in the style of the surface whose prefix they are under, else as problem+json, whatever the method, credential or body', async () => {
    const org = h.a.org.id;
    const paths: [string, Shape][] = [
      ['/v1', 'problem'],
      ['/v1/nope', 'problem'],
      ['/v1/contacts/a/b/c', 'problem'],
      ['/api/v1.0/organisation/nope', 'drf'],
      [`/api/v1.0/organisation/${org}/contact-groups/a/b`, 'drf'],
      ['/contact/a/b', 'seed 001'],
      ['/contact_groups/a/b', 'seed 001'],
      ['/api/unified-communications/nope', 'drf'],
      ['/api/unified-communications/contact-groups/a/b', 'drf'],
      ['/api/contact/nope', 'seed 003'],
      ['/api/group/nope', 'seed 003'],
      ['/nope', 'problem'],
      ['/api/nope', 'problem'],
      ['/people', 'problem'],
      ['/v1x', 'problem'],
      ['/docs/no-such-file.js', 'problem'],
      ['/healthz/deeper', 'problem'],
    ];
    const requests = (url: string): InjectOptions[] => [
      { method: 'GET', url },
      { method: 'GET', url: `${url}?q=1`, headers: { authorization: h.a.owner.apiKey } },
      { method: 'DELETE', url, headers: { authorization: h.a.owner.basic } },
      // No route would read the body: a malformed one is no reason for a 400.
      { method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: '{"truncated": ' },
      { method: 'PUT', url, headers: { 'content-type': 'application/x-unknown' }, payload: 'whatever' },
    ];
    const failures: string[] = [];
    for (const [url, shape] of paths) {
      for (const request of requests(url)) {
        const res = await h.request(request);
        const wrong = wrong404(shape, res);
        if (wrong) failures.push(`${request.method} ${request.url}: ${wrong}`);
      }
      const [get, head] = [await h.request({ method: 'GET', url }), await h.request({ method: 'HEAD', url })];
      if (
        head.statusCode !== 404 ||
        head.body !== '' ||
        head.headers['content-type'] !== get.headers['content-type']
      )
        failures.push(`HEAD ${url}: ${head.statusCode} ${head.headers['content-type']} ${head.body}`);
    }
    expect(failures).toEqual([]);
    // Seed 003 serves POST only: another method on its paths is its 404 too.
    const get = await h.request({
      method: 'GET',
      url: '/api/contact/new',
      headers: { authorization: h.a.owner.apiKey },
    });
    expect(wrong404('seed 003', get)).toBeUndefined();
  });

  it('answers the routes of no surface (health checks, docs) as problem+json when refused, 4xx not 5xx', async () => {
    const health = await h.request({
      method: 'POST',
      url: '/healthz',
      headers: { 'content-type': 'application/json' },
      payload: '{',
    });
    expect(wrong404('problem', health)).toBeUndefined();
    for (const url of ['/healthz?x=%00', '/openapi.json?x=%00', '/nope?x=%00']) {
      const res = await h.request({ method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
      expect(res.headers['content-type'], url).toMatch(/^application\/problem\+json/);
      expect(res.json(), url).toMatchObject({
        status: 400,
        code: 'validation',
        errors: [{ field: 'querystring.x' }],
      });
    }
    const malformed = await h.request({
      method: 'POST',
      url: '/nope',
      headers: { 'content-type': 'no media type' },
      payload: 'x',
    });
    expect(malformed.statusCode).toBe(415);
    // No route serves it, so the 415 names no media type to send instead.
    expect(malformed.json()).toMatchObject({
      status: 415,
      code: 'unsupported_media_type',
      detail: 'The Content-Type header is not a media type',
    });
    expect(malformed.headers.accept).toBeUndefined();
    // The surfaces' own routes are untouched: a known route still answers, and seed 000 its 405.
    expect((await h.request({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const notAllowed = await h.request({
      method: 'DELETE',
      url: `/api/v1.0/organisation/${h.a.org.id}/contact-groups/create`,
      headers: { authorization: h.a.owner.basic },
    });
    expect(notAllowed.statusCode).toBe(405);
  });
});
