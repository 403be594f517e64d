import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { toObjectId, uuidv7 } from '../../src/domain/ids.js';
import { CONSOLE_PAGES } from '../../src/http/console.js';
import { seedApis, type SeedApi } from '../../src/http/seeds/index.js';
import type { Harness, Login, Tenant } from './harness.js';

/**
 * Every operation of every surface, read from the app's own OpenAPI document, and how to
 * call each one on a tenant's real records. The matrices loop over these, so an operation
 * added without a way to call it here fails them.
 */
export type Surface = 'v1' | SeedApi['name'];
export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Operation {
  method: Method;
  /** The path as the document writes it, e.g. /v1/contacts/{id}. */
  path: string;
  surface: Surface;
  /** False for routes the document hides (seed 000's 405 answers): they are sent no body. */
  documented: boolean;
}

/** One tenant's records, under the id each surface uses for them. */
export interface TenantIds {
  org: string;
  contact: string;
  group: string;
  user: string;
  apiKey: string;
  importJob: string;
  /** A second contact, for a merge into `contact`. */
  duplicate: string;
  merge: string;
  /** A job adding a group's matching contacts, on `group`. */
  memberJob: string;
  webhook: string;
  delivery: string;
  /** Seed 001's 24-hex ids. */
  contactHex: string;
  groupHex: string;
  /** Seed 003's integer ids. */
  contactInt: number;
  groupInt: number;
}

/** Operations that take no credential, and why. */
export const PUBLIC: Record<string, string> = {
  'POST /v1/auth/token': 'exchanges a username and password for tokens: it is how one gets a credential',
  'POST /v1/auth/refresh': 'exchanges a refresh token (in the body) for tokens',
  'POST /v1/console/session': "the console's sign-in: a username and password for a session cookie",
  'POST /v1/console/session/refresh': "takes the console's session cookie, not an Authorization header",
  'DELETE /v1/console/session':
    "ends the console's session named by its cookie; without one it is already over",
};
/**
 * Routes the document does not list (hidden), all public: docs, the document itself, health checks, and the
 * console's pages and assets (static files; the data they show comes from /v1 with a credential).
 */
export const HIDDEN_PUBLIC = ['/openapi.json', '/healthz', '/readyz', '/docs', '/assets', ...CONSOLE_PAGES];

export const keyOf = (op: Pick<Operation, 'method' | 'path'>) => `${op.method} ${op.path}`;

/** The surface a path belongs to, by the prefixes the seed list (src/http/seeds/index.ts) gives each. */
export function surfaceOf(path: string): Surface {
  const under = (prefix: string) => path === prefix || path.startsWith(`${prefix}/`);
  if (under('/v1')) return 'v1';
  const seed = seedApis.find((s) => s.prefixes.some(under));
  if (!seed) throw new Error(`${path} belongs to no surface: give its seed the prefix in src/http/seeds`);
  return seed.name;
}

export async function operationsOf(app: FastifyInstance): Promise<Operation[]> {
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
    paths: Record<string, Record<string, unknown>>;
  };
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map((method) => ({
        method: method.toUpperCase() as Method,
        path,
        surface: surfaceOf(path),
        documented: true,
      })),
  );
}

// printRoutes shows the tree's `/docs/*` as `/docs` with a `*` below it.
const isHiddenPublic = (path: string) =>
  HIDDEN_PUBLIC.some((prefix) => path === prefix || path === `${prefix}*` || path.startsWith(`${prefix}/`));

/**
 * The operations to test: the document's, plus any route it hides that is not one of the
 * public ones, so nothing the router serves escapes the matrices; and a HEAD for every GET,
 * which Fastify answers with the GET's route (exposeHeadRoutes) and the document leaves out.
 * The HEADs come last, after the GETs they are compared with.
 */
export async function allOperations(app: FastifyInstance): Promise<Operation[]> {
  const documented = await operationsOf(app);
  const known = new Set(documented.map(keyOf));
  const hidden = routesOf(app)
    .filter((route) => !known.has(keyOf(route)) && !isHiddenPublic(route.path))
    .map((route) => ({ ...route, surface: surfaceOf(route.path), documented: false }));
  const operations = [...documented, ...hidden];
  const heads = operations
    .filter((op) => op.method === 'GET')
    .map((op) => ({ ...op, method: 'HEAD' as const }));
  return [...operations, ...heads];
}

/** The GET a HEAD asks for without its body. */
export const getOf = (op: Operation): Operation => (op.method === 'HEAD' ? { ...op, method: 'GET' } : op);

/** Headers that differ between two answers to the same request: they say when and which, not what. */
const PER_ANSWER = new Set(['x-request-id', 'date', 'connection', 'keep-alive', 'transfer-encoding']);

/**
 * Is this HEAD's answer its GET's without the body? The same status and headers (ETag,
 * Content-Type, WWW-Authenticate, Content-Length when the GET's has one), and no body.
 * Returns what differs, or undefined.
 */
export function unlikeGet(head: LightMyRequestResponse, get: LightMyRequestResponse): string | undefined {
  const shown = (res: LightMyRequestResponse) =>
    JSON.stringify({
      status: res.statusCode,
      headers: Object.entries(res.headers)
        .filter(([name]) => !PER_ANSWER.has(name) && !name.startsWith('ratelimit-'))
        .sort(([a], [b]) => a.localeCompare(b)),
    });
  if (head.body !== '') return `HEAD answered a body: ${head.body.slice(0, 200)}`;
  return shown(head) === shown(get) ? undefined : `HEAD ${shown(head)} unlike GET ${shown(get)}`;
}

/**
 * Every route the router serves (HEAD aside: Fastify answers it with the GET handler and its
 * hooks, and allOperations adds it), in the document's {param} notation, parsed from printRoutes' tree.
 */
export function routesOf(app: FastifyInstance): Pick<Operation, 'method' | 'path'>[] {
  const parents: string[] = [];
  const routes: Pick<Operation, 'method' | 'path'>[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^(.*?)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const path = (parents[depth - 1] ?? '') + match[2]!;
    parents[depth] = path;
    parents.length = depth + 1;
    for (const method of (match[3] ?? '').split(', ').filter((m) => m && m !== 'HEAD'))
      routes.push({ method: method as Method, path: path.replace(/:(\w+)/g, '{$1}') });
  }
  return routes;
}

/** The record a path parameter names, on the path it is in. */
function parameter(path: string, name: string, ids: TenantIds): string {
  if (name === 'unique_id') return ids.org;
  if (name === 'group_unique_id') return ids.group;
  if (name === 'job_id') return ids.memberJob;
  if (name === 'delivery_id') return ids.delivery;
  if (name !== 'id') throw new Error(`${path}: unknown path parameter {${name}}`);
  const byPrefix: [string, string][] = [
    ['/v1/contacts/', ids.contact],
    ['/v1/groups/', ids.group],
    ['/v1/users/', ids.user],
    ['/v1/api-keys/', ids.apiKey],
    ['/v1/imports/', ids.importJob],
    ['/v1/merges/', ids.merge],
    ['/v1/webhooks/', ids.webhook],
    ['/contact/', ids.contactHex],
    ['/contact_groups/', ids.groupHex],
    ['/api/unified-communications/contact-groups/', ids.group],
  ];
  const found = byPrefix.find(([prefix]) => path.startsWith(prefix));
  if (!found) throw new Error(`${path}: no record for {id}`);
  return found[1];
}

let unique = 0;
const next = () => `${process.pid}-${++unique}`;
const CSV = { 'content-type': 'text/csv' };

/** A valid body (and headers) for each operation, keyed by method and path without a trailing slash. */
const BODIES: Record<string, (ids: TenantIds) => { payload?: object | string; headers?: object }> = {
  'POST /v1/auth/logout': () => ({ payload: {} }),
  'POST /v1/contacts': () => ({ payload: { name: `Matrix ${next()}` } }),
  'PUT /v1/contacts/{id}': () => ({ payload: { name: 'Replaced' } }),
  'PATCH /v1/contacts/{id}': () => ({ payload: { company: 'Patched' } }),
  'POST /v1/contacts/{id}/merge': (ids) => ({ payload: { ids: [ids.duplicate] } }),
  'POST /v1/groups': () => ({ payload: { name: `Matrix group ${next()}` } }),
  'PUT /v1/groups/{id}': () => ({ payload: { name: `Replaced group ${next()}` } }),
  'PATCH /v1/groups/{id}': () => ({ payload: { description: 'Patched' } }),
  'POST /v1/groups/{id}/members/matching': () => ({ payload: { q: `nobody-${next()}` } }),
  'POST /v1/groups/{id}/members': (ids) => ({ payload: { contact_ids: [ids.contact] } }),
  'DELETE /v1/groups/{id}/members': (ids) => ({ payload: { contact_ids: [ids.contact] } }),
  'PATCH /v1/organisation': () => ({ payload: { default_language: 'en' } }),
  'POST /v1/users': () => ({
    payload: { username: `matrix-${next()}`, password: 'long enough pw', role: 'viewer' },
  }),
  'PATCH /v1/users/{id}': () => ({ payload: { display_name: 'Renamed' } }),
  'POST /v1/api-keys': () => ({ payload: { name: 'matrix key' } }),
  'POST /v1/imports': () => ({ payload: `name,phone\nImported ${next()},\n`, headers: CSV }),
  'POST /v1/webhooks': () => ({ payload: { url: 'http://127.0.0.1:9/matrix', events: ['*'] } }),
  'PATCH /v1/webhooks/{id}': () => ({ payload: { description: 'Patched' } }),
  'POST /api/v1.0/organisation/{unique_id}/contact-groups/create': () => ({
    payload: { translations: `Matrix ${next()}` },
  }),
  'PUT /api/v1.0/organisation/{unique_id}/contact-groups/{group_unique_id}': () => ({
    payload: { translations: `Replaced ${next()}` },
  }),
  'PATCH /api/v1.0/organisation/{unique_id}/contact-groups/{group_unique_id}': () => ({
    payload: { is_active: true },
  }),
  'POST /contact': () => ({ payload: { name: `Matrix ${next()}`, number: '+14155550100' } }),
  'PUT /contact/{id}': () => ({ payload: { name: 'Replaced' } }),
  'POST /contact_groups': () => ({ payload: { title: `Matrix ${next()}` } }),
  'PUT /contact_groups/{id}': () => ({ payload: { title: `Replaced ${next()}` } }),
  'POST /api/unified-communications/contact-groups': (ids) => ({
    payload: { name: `Matrix ${next()}`, church: ids.org },
  }),
  'PUT /api/unified-communications/contact-groups/{id}': (ids) => ({
    payload: { name: `Replaced ${next()}`, church: ids.org },
  }),
  'PATCH /api/unified-communications/contact-groups/{id}': () => ({ payload: { name: `Patched ${next()}` } }),
  'POST /api/contact/new': (ids) => ({ payload: { group_id: ids.groupInt, phone_number: '0400 000 999' } }),
  'POST /api/contact/detail': (ids) => ({ payload: { id: ids.contactInt } }),
  'POST /api/contact/edit': (ids) => ({ payload: { id: ids.contactInt, first_name: 'Edited' } }),
  'POST /api/contact/delete': (ids) => ({ payload: { id: ids.contactInt } }),
  'POST /api/group/new': () => ({ payload: { name: `Matrix ${next()}` } }),
  'POST /api/group/list': () => ({ payload: {} }),
  'POST /api/group/detail': (ids) => ({ payload: { id: ids.groupInt } }),
  'POST /api/group/edit': (ids) => ({ payload: { id: ids.groupInt, name: `Edited ${next()}` } }),
  'POST /api/group/delete': (ids) => ({ payload: { id: ids.groupInt } }),
};
/** Operations that need no body (beyond seed 001's session fields). */
const BODILESS = new Set([
  'GET /v1/contacts',
  'GET /v1/contacts/{id}',
  'DELETE /v1/contacts/{id}',
  'POST /v1/contacts/{id}/restore',
  'GET /v1/contacts/export',
  'GET /v1/groups',
  'GET /v1/groups/{id}',
  'DELETE /v1/groups/{id}',
  'GET /v1/groups/{id}/members',
  'GET /v1/groups/{id}/members/matching/{job_id}',
  'GET /v1/contacts/{id}/groups',
  'GET /v1/organisation',
  'GET /v1/users',
  'GET /v1/users/{id}',
  'GET /v1/api-keys',
  'DELETE /v1/api-keys/{id}',
  'GET /v1/imports/{id}',
  'GET /v1/imports/{id}/errors',
  'GET /v1/imports/{id}/warnings',
  'POST /v1/imports/{id}/cancel',
  'POST /v1/imports/{id}/resume',
  'POST /v1/imports/{id}/rollback',
  'GET /v1/duplicates',
  'GET /v1/merges/{id}',
  'POST /v1/merges/{id}/undo',
  'GET /v1/changes',
  'GET /v1/webhooks',
  'GET /v1/webhooks/{id}',
  'DELETE /v1/webhooks/{id}',
  'POST /v1/webhooks/{id}/rotate',
  'POST /v1/webhooks/{id}/test',
  'GET /v1/webhooks/{id}/deliveries',
  'POST /v1/webhooks/{id}/deliveries/{delivery_id}/redeliver',
  'GET /v1/contacts/{id}/history',
  'GET /v1/groups/{id}/history',
  'GET /api/v1.0/organisation/{unique_id}/contact-groups',
  'GET /api/v1.0/organisation/{unique_id}/contact-groups/{group_unique_id}',
  'DELETE /api/v1.0/organisation/{unique_id}/contact-groups/{group_unique_id}',
  'GET /contact',
  'GET /contact/{id}',
  'DELETE /contact/{id}',
  'GET /contact_groups',
  'GET /contact_groups/{id}',
  'DELETE /contact_groups/{id}',
  'GET /api/unified-communications/contact-groups',
  'GET /api/unified-communications/contact-groups/{id}',
  'DELETE /api/unified-communications/contact-groups/{id}',
]);

const normalised = (op: Operation) => keyOf({ method: getOf(op).method, path: op.path.replace(/\/$/, '') });

/** Ids of the same shapes as real ones, naming nothing. */
export const missingIds = (): TenantIds => ({
  org: uuidv7(),
  contact: uuidv7(),
  group: uuidv7(),
  user: uuidv7(),
  apiKey: uuidv7(),
  importJob: uuidv7(),
  duplicate: uuidv7(),
  merge: uuidv7(),
  memberJob: uuidv7(),
  webhook: uuidv7(),
  delivery: uuidv7(),
  contactHex: toObjectId('contact', 9_999_999),
  groupHex: toObjectId('group', 9_999_999),
  contactInt: 9_999_999,
  groupInt: 9_999_999,
});

/** True when the suite knows how to call the operation (else the matrices fail, naming it). */
export const covered = (op: Operation) =>
  !op.documented || BODIES[normalised(op)] !== undefined || BODILESS.has(normalised(op));

/**
 * A valid request for the operation on the given records. `authorization` is the header
 * (none when undefined); `bodyToken` goes into seed 001's body as its document sends it.
 */
export function requestFor(
  op: Operation,
  ids: TenantIds,
  authorization: string | undefined,
  options: { bodyToken?: string; query?: string } = {},
): InjectOptions {
  const key = normalised(op);
  if (!covered(op)) throw new Error(`${key}: no request is defined for this operation`);
  const url = op.path.replace(/\{(\w+)\}/g, (_, name: string) => parameter(op.path, name, ids));
  const { payload, headers = {} } = (op.documented && BODIES[key]?.(ids)) || {};
  const seed001 = op.surface === 'seed 001';
  const body =
    seed001 && options.bodyToken !== undefined
      ? { session_id: '', access_token: options.bodyToken, ...(payload as object | undefined) }
      : payload;
  return {
    method: op.method,
    url: options.query ? `${url}?${options.query}` : url,
    headers: { ...headers, ...(authorization !== undefined && { authorization }) },
    ...(body !== undefined && { payload: body }),
  };
}

/** Does the response have this surface's 401 shape, with a challenge? Returns what is wrong, or undefined. */
export function wrong401(surface: Surface, res: LightMyRequestResponse): string | undefined {
  if (res.statusCode !== 401) return `status ${res.statusCode}: ${res.body.slice(0, 200)}`;
  if (!res.headers['www-authenticate']) return 'no WWW-Authenticate';
  const body = res.json();
  const shapes: Record<string, () => boolean> = {
    v1: () =>
      String(res.headers['content-type']).startsWith('application/problem+json') &&
      body.status === 401 &&
      body.code === 'unauthenticated',
    'seed 000': () => Object.keys(body).join() === 'detail' && typeof body.detail === 'string',
    'seed 002': () => Object.keys(body).join() === 'detail' && typeof body.detail === 'string',
    'seed 001': () => body.status === false && typeof body.message === 'string',
    'seed 003': () => body.status === 'error' && body.error?.code === 'unauthorized',
  };
  const shaped = shapes[surface];
  if (!shaped) return `no 401 shape is known for ${surface}: add its documented one here`;
  return shaped() ? undefined : `not ${surface}'s error style: ${res.body}`;
}

const bearer = (login: Login) => ({ authorization: login.apiKey });

/** Creates one of each record for a tenant, through the surfaces that name them, and returns their ids. */
export async function recordsOf(h: Harness, tenant: Tenant, label: string): Promise<TenantIds> {
  const auth = bearer(tenant.owner);
  const post = async (url: string, payload: object | string, headers: object = {}) => {
    const res = await h.request({ method: 'POST', url, headers: { ...auth, ...headers }, payload });
    if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    return res.json();
  };
  const phone = (n: number) => `+1415555${String(n).padStart(4, '0')}`;
  const serial = ++unique;
  const contact = await post('/v1/contacts', {
    name: `${label} Person`,
    phone: phone(serial),
    email: `${label.toLowerCase()}@example.com`,
  });
  const group = await post('/v1/groups', { name: `${label} Group` });
  await post(`/v1/groups/${group.id}/members`, { contact_ids: [contact.id] });
  const user = await tenant.addUser('viewer', `${label}-member`);
  const apiKey = await post('/v1/api-keys', { name: `${label} key` });
  const importJob = await post(
    '/v1/imports',
    `name,phone,email\n${label} Imported,${phone(serial + 5000)},${label.toLowerCase()}.imported@example.com\n`,
    CSV,
  );
  // Imports run in the background: wait for this one, so it does not change records while a matrix watches them.
  for (let tries = 0; ['receiving', 'queued', 'running'].includes(importJob.status) && tries < 200; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    importJob.status = (
      await h.request({ method: 'GET', url: `/v1/imports/${importJob.id}`, headers: auth })
    ).json().status;
  }
  const duplicate = await post('/v1/contacts', { name: `${label} Duplicate` });
  const twin = await post('/v1/contacts', { name: `${label} Twin` });
  const twinOfTwin = await post('/v1/contacts', { name: `${label} Twin` });
  const merge = await post(`/v1/contacts/${twin.id}/merge`, { ids: [twinOfTwin.id] });
  const memberJob = await post(`/v1/groups/${group.id}/members/matching`, { q: `${label} Person` });
  await h.services.memberJobs.idle();
  const hexGroup = await post('/contact_groups', { title: `${label} Hex Group` });
  const hexContact = await post('/contact', {
    name: `${label} Hex Person`,
    number: phone(serial + 6000),
    group_id: hexGroup.data._id,
  });
  // Nothing sends to it in the matrices (no delivery worker): its test delivery stays queued.
  const webhook = await post('/v1/webhooks', {
    url: `http://127.0.0.1:9/${label}`,
    events: ['contact.created'],
  });
  const delivery = await post(`/v1/webhooks/${webhook.id}/test`, {});
  const intGroup = await post('/api/group/new', { name: `${label} Book` });
  const intContact = await post('/api/contact/new', {
    group_id: intGroup.result.id,
    phone_number: phone(serial + 7000),
    first_name: `${label}Int`,
  });
  return {
    org: tenant.org.id,
    contact: contact.id,
    group: group.id,
    user: user.user.id,
    apiKey: apiKey.id,
    importJob: importJob.id,
    duplicate: duplicate.id,
    merge: merge.id,
    memberJob: memberJob.id,
    webhook: webhook.id,
    delivery: delivery.id,
    contactHex: hexContact.data._id,
    groupHex: hexGroup.data._id,
    contactInt: intContact.result.id,
    groupInt: intGroup.result.id,
  };
}
