// The scenarios, each as the autocannon requests one connection loops over. Every request is
// fresh, realistic work: reads rotate over many records, writes never repeat themselves.
// prepare() runs in the load generator before the clock starts (logins, groups to fill, versions).
import { mobile } from './dataset.mjs';

const json = { 'content-type': 'application/json' };

/** Round-robin over a list, shared by all connections of one scenario. */
function rotation(list) {
  let next = 0;
  return () => list[next++ % list.length];
}

async function call(base, path, { method = 'GET', headers = {}, body } = {}) {
  const response = await fetch(base + path, {
    method,
    headers: { ...headers, ...(body && json) },
    body: body && JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
  return { body: text && JSON.parse(text), headers: response.headers };
}

const bearer = (token) => ({ authorization: `Bearer ${token}` });
const basic = (org) => ({
  authorization: `Basic ${Buffer.from(`${org.username}:${org.password}`).toString('base64')}`,
});

/** Contacts spread over the whole organisation, not one hot row. */
function sampleOf(list, count) {
  const step = Math.max(1, Math.floor(list.length / count));
  const sample = [];
  for (let i = step >> 1; i < list.length && sample.length < count; i += step) sample.push(list[i]);
  return sample;
}

function getEach(paths, headers) {
  const path = rotation(paths);
  return [{ method: 'GET', headers, setupRequest: (request) => ({ ...request, path: path() }) }];
}

const contactPaths = (org) => sampleOf(org.contactIds, 10_000).map((id) => `/v1/contacts/${id}`);

export const SCENARIOS = [
  {
    name: 'limit',
    title: 'bare node:http, constant body',
    kind: 'read',
    prepare: () => [{ method: 'GET', path: '/' }],
  },
  {
    name: 'framework',
    title: 'Fastify, the same constant body',
    // Not one of Roster's reads: what the framework alone costs, for the "why" of the by-id targets.
    kind: 'floor',
    prepare: () => [{ method: 'GET', path: '/' }],
  },
  {
    name: 'get-api-key',
    title: 'GET /v1/contacts/:id, API key',
    kind: 'read',
    prepare: ({ org }) => getEach(contactPaths(org), bearer(org.apiKey)),
  },
  {
    name: 'floor-get-api-key',
    title: 'floor: by id, API key (node:http, SQL)',
    // bench/lib/floor-server.mjs doing the by-id read's own work: what get-api-key is measured against.
    kind: 'floor',
    server: 'floor',
    floorOf: 'get-api-key',
    prepare: ({ org }) => getEach(contactPaths(org), bearer(org.apiKey)),
  },
  {
    name: 'get-basic',
    title: 'GET /v1/contacts/:id, Basic',
    kind: 'read',
    prepare: ({ org }) => getEach(contactPaths(org), basic(org)),
  },
  {
    name: 'get-jwt',
    title: 'GET /v1/contacts/:id, JWT',
    kind: 'read',
    prepare: async ({ base, org }) => {
      const { body } = await call(base, '/v1/auth/token', {
        method: 'POST',
        body: { username: org.username, password: org.password },
      });
      return getEach(contactPaths(org), bearer(body.access_token));
    },
  },
  {
    name: 'group-page-big',
    title: 'first group page, largest group, by name',
    kind: 'read',
    detail: ({ org }) => `${org.bigGroup.members} members`,
    prepare: ({ org }) =>
      getEach([`/v1/groups/${org.bigGroup.id}/members?sort=name&limit=50`], bearer(org.apiKey)),
  },
  {
    name: 'group-page-typical',
    title: 'first group page, median group, by name',
    kind: 'read',
    detail: ({ org }) => `${org.typicalGroup.members} members`,
    prepare: ({ org }) =>
      getEach([`/v1/groups/${org.typicalGroup.id}/members?sort=name&limit=50`], bearer(org.apiKey)),
  },
  {
    name: 'list-first-page',
    title: 'first contact page, by name',
    kind: 'read',
    prepare: ({ org }) => getEach(['/v1/contacts?sort=name&limit=50'], bearer(org.apiKey)),
  },
  ...['group-page-big', 'group-page-typical', 'list-first-page'].map((name) => ({
    name: `floor-${name}`,
    title: `floor: ${name.replace(/-/g, ' ')} (node:http, SQL)`,
    // The same 50 rows by the same index, their consent and the same JSON, in floor-server.mjs.
    kind: 'floor',
    server: 'floor',
    floorOf: name,
    prepare: (context) => SCENARIOS.find((s) => s.name === name).prepare(context),
  })),
  {
    name: 'list-deep-cursor',
    title: 'deep contact page by cursor, by name',
    kind: 'read',
    detail: ({ deepCursors }) => `${deepCursors.length} cursors, 50-95% deep`,
    prepare: ({ org, deepCursors }) =>
      getEach(
        deepCursors.map((c) => `/v1/contacts?sort=name&limit=50&cursor=${c}`),
        bearer(org.apiKey),
      ),
  },
  {
    name: 'q-search',
    title: 'q search (surname, name, phone)',
    kind: 'read',
    prepare: ({ org }) => {
      const words = org.sampleNames.flatMap((p) => [p.last_name, `${p.first_name} ${p.last_name}`, p.phone]);
      return getEach(
        words.map((q) => `/v1/contacts?limit=50&q=${encodeURIComponent(q)}`),
        bearer(org.apiKey),
      );
    },
  },
  {
    name: 'post-contact',
    title: 'POST /v1/contacts',
    kind: 'write',
    prepare: ({ org, round }) => {
      // 0420 000 000 upwards: no dataset contact has these, and each round of a run has its own range.
      let n = round * 1_000_000;
      const body = () =>
        JSON.stringify({
          first_name: 'Bench',
          last_name: `Writer ${n}`,
          phone: mobile(n++, 20_000_000),
          email: `writer.${n}@example.com`,
          consent: { sms: 'subscribed' },
        });
      return [
        {
          method: 'POST',
          path: '/v1/contacts',
          headers: { ...json, ...bearer(org.apiKey) },
          setupRequest: (request) => ({ ...request, body: body() }),
        },
      ];
    },
  },
  {
    name: 'patch-contact',
    title: 'PATCH /v1/contacts/:id, If-Match',
    kind: 'write',
    prepare: async ({ base, org, connections }) => {
      // A pool of contacts with their current version: a request takes one, sends its ETag as
      // If-Match and puts it back with the new ETag, so no two connections race for one contact.
      const ids = sampleOf(org.contactIds.slice(1), connections * 4);
      const pool = [];
      for (const id of ids) {
        const { headers } = await call(base, `/v1/contacts/${id}`, { headers: bearer(org.apiKey) });
        pool.push({ id, etag: headers.get('etag') });
      }
      let n = 0;
      return [
        {
          method: 'PATCH',
          setupRequest: (request, context) => {
            context.contact = pool.shift();
            return {
              ...request,
              path: `/v1/contacts/${context.contact.id}`,
              headers: {
                'content-type': 'application/merge-patch+json',
                'if-match': context.contact.etag,
                ...bearer(org.apiKey),
              },
              body: JSON.stringify({ company: `Company ${n++}`, custom: { visits: n } }),
            };
          },
          onResponse: (status, _body, context, headers) => {
            if (status === 200) context.contact.etag = headers.etag;
            pool.push(context.contact);
          },
        },
      ];
    },
  },
  {
    name: 'add-members',
    title: 'POST /v1/groups/:id/members, 1,000 new',
    kind: 'write',
    prepare: async ({ base, org, duration }) => {
      // Each call adds the next 1,000 contacts; a fresh group whenever every contact is in the last one.
      const perGroup = Math.floor(org.contactIds.length / 1000);
      const groups = [];
      const expectedCalls = 400 * duration;
      for (let g = 0; g <= expectedCalls / perGroup; g++) {
        const { body } = await call(base, '/v1/groups', {
          method: 'POST',
          headers: bearer(org.apiKey),
          body: { name: `Bench fill ${Date.now()} ${g}` },
        });
        groups.push(body.id);
      }
      let n = 0;
      return [
        {
          method: 'POST',
          headers: { ...json, ...bearer(org.apiKey) },
          setupRequest: (request) => {
            const call = n++;
            const from = (call % perGroup) * 1000;
            const group = groups[Math.floor(call / perGroup) % groups.length];
            return {
              ...request,
              path: `/v1/groups/${group}/members`,
              body: JSON.stringify({ contact_ids: org.contactIds.slice(from, from + 1000) }),
            };
          },
        },
      ];
    },
  },
  {
    name: 'seed002-group-list',
    title: 'seed 002 group list page',
    kind: 'read',
    // Groups are listed oldest first, and the oldest are the biggest: page 1 holds the largest group
    // (a tenth of everyone, embedded member by member) and pages 2-21 hold 9,500-44,000 members
    // each (8-20 MB). 20 pages spread over the whole list are the typical page a client reads.
    detail: ({ org }) =>
      `20 pages across the list, 20 groups of ~${Math.round((3 * org.contacts) / org.groups)} members embedded`,
    prepare: ({ org }) => {
      const pages = Math.ceil(org.groups / 20);
      return getEach(
        Array.from(
          { length: 20 },
          (_, i) =>
            `/api/unified-communications/contact-groups?page=${2 + Math.floor((i * (pages - 1)) / 20)}`,
        ),
        bearer(org.apiKey),
      );
    },
  },
  {
    name: 'seed003-contact-detail',
    title: 'seed 003 contact detail',
    kind: 'read',
    prepare: ({ org }) => {
      const key = rotation(sampleOf(org.contactKeys, 10_000));
      return [
        {
          method: 'POST',
          path: '/api/contact/detail',
          headers: { ...json, ...bearer(org.apiKey) },
          setupRequest: (request) => ({ ...request, body: JSON.stringify({ id: key() }) }),
        },
      ];
    },
  },
];
