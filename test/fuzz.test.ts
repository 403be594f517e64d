import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toObjectId } from '../src/domain/ids.js';
import type { Actor } from '../src/services/context.js';
import { dialects } from './support/databases.js';
import { createHarness, type Harness, type Login } from './support/harness.js';
import {
  invalidRequests,
  operationsOf,
  validRequests,
  Validators,
  type Document,
  type FuzzRequest,
  type Operation,
} from './support/openapi-fuzz.js';
import type { Hint } from './support/schema-arbitrary.js';

/**
 * Every operation of the app's own OpenAPI document, called with requests drawn from the
 * document's schemas: valid ones (with real ids of the caller's records mixed in) and invalid
 * ones (one mutation each: malformed JSON, wrong types, unknown or missing fields, oversized
 * or out-of-range values, malformed path parameters). No answer may be a 5xx or differ from
 * what the document declares; no invalid request may be accepted or change any data.
 *
 * FUZZ_RUNS sets the requests per operation and kind (default 12); FUZZ_SEED replays a run.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_201);

/** Real records of the caller's organisation, in each form a surface names them. */
interface Pools {
  orgId: string;
  contactIds: string[];
  contactKeys: number[];
  contactObjectIds: string[];
  groupIds: string[];
  groupKeys: number[];
  groupObjectIds: string[];
  userIds: string[];
  apiKeyIds: string[];
  importIds: string[];
  login: { username: string; password: string };
}

const pick = <T>(values: T[]) => (values.length > 0 ? fc.constantFrom(...values) : undefined);

/** Where a field names a record, real ones of that kind are mixed in with the schema's random values. */
function hintFor(op: Operation, pools: Pools): Hint {
  const at = (prefix: string) => op.path.startsWith(prefix);
  return (name) => {
    switch (name) {
      case 'id':
        if (at('/v1/contacts')) return pick(pools.contactIds);
        if (at('/v1/groups') || at('/api/unified-communications')) return pick(pools.groupIds);
        if (at('/v1/users')) return pick(pools.userIds);
        if (at('/v1/api-keys')) return pick(pools.apiKeyIds);
        if (at('/v1/imports')) return pick(pools.importIds);
        if (at('/contact_groups')) return pick(pools.groupObjectIds);
        if (at('/contact')) return pick(pools.contactObjectIds);
        if (at('/api/contact')) return pick(pools.contactKeys);
        if (at('/api/group')) return pick(pools.groupKeys);
        return undefined;
      case 'unique_id':
      case 'church':
        return fc.constant(pools.orgId);
      case 'group_unique_id':
        return pick(pools.groupIds);
      case 'group_id':
        if (at('/contact')) return pick(pools.groupObjectIds);
        if (at('/api/contact')) return pick(pools.groupKeys);
        return pick(pools.groupIds);
      case 'contact_ids':
        return fc.subarray(pools.contactIds, { minLength: 1 });
      case 'user_id':
        return pick(pools.userIds);
      case 'user_ids':
        return fc.subarray(pools.userIds);
      case 'username':
        return fc.constant(pools.login.username);
      case 'password':
        return fc.constant(pools.login.password);
    }
    return undefined;
  };
}

let phone = 0;
/** A few fresh records before each operation, so that deletes and moves always find some. */
async function addRecords(h: Harness, actor: Actor, pools: Pools): Promise<void> {
  const { contacts, groups } = h.services;
  for (let i = 0; i < 2; i++) {
    const contact = await contacts.create(actor, {
      name: `Fuzz ${++phone}`,
      phone: `+6141${String(phone).padStart(7, '0')}`,
    });
    const group = await groups.create(actor, { name: `Fuzz group ${phone}` });
    await groups.addMembers(actor, { id: group.id }, { ids: [contact.id] });
    pools.contactIds.push(contact.id);
    pools.contactKeys.push(contact.key);
    pools.contactObjectIds.push(toObjectId('contact', contact.key));
    pools.groupIds.push(group.id);
    pools.groupKeys.push(group.key);
    pools.groupObjectIds.push(toObjectId('group', group.key));
  }
}

/** The organisation's data as the API shows it, hashed: an invalid request must leave it as it was. */
async function digest(h: Harness, auth: string): Promise<string> {
  const get = async (url: string) => {
    const res = await h.request({ method: 'GET', url, headers: { authorization: auth } });
    expect(res.statusCode, url).toBe(200);
    return res.json();
  };
  const all = async (url: string) => {
    const items: unknown[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(`${url}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return items;
  };
  const keys = (await get('/v1/api-keys')).items.map(
    ({ last_used_at: _used, ...key }: object & { last_used_at: unknown }) => key,
  );
  const data = {
    organisation: await get('/v1/organisation'),
    contacts: await all('/v1/contacts?deleted=include&limit=1000'),
    groups: await all('/v1/groups?limit=1000'),
    users: await all('/v1/users?limit=1000'),
    keys,
  };
  return createHash('sha256').update(JSON.stringify(data)).digest('hex');
}

async function send(h: Harness, op: Operation, request: FuzzRequest, auth: string | undefined) {
  const url = op.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(request.params[name]!));
  const headers: Record<string, string> = auth ? { authorization: auth } : {};
  const hasBody = op.body && (request.raw !== undefined || request.body !== undefined);
  if (hasBody) headers['content-type'] = op.body!.mediaType;
  return h.request({
    method: op.method as 'GET',
    url,
    query: request.query,
    headers,
    ...(hasBody && { payload: request.raw ?? JSON.stringify(request.body) }),
  });
}

/** A path parameter the URL cannot carry as one segment is no request of this operation. */
const addressable = (request: FuzzRequest) =>
  Object.values(request.params).every((v) => v !== '' && v !== '.' && v !== '..');

describe.each(dialects)('the OpenAPI fuzz suite on %s', (dialect) => {
  let h: Harness;
  let owner: Login;
  let actor: Actor;
  let document: Document;
  const pools: Pools = {
    orgId: '',
    contactIds: [],
    contactKeys: [],
    contactObjectIds: [],
    groupIds: [],
    groupKeys: [],
    groupObjectIds: [],
    userIds: [],
    apiKeyIds: [],
    importIds: [],
    login: { username: '', password: '' },
  };

  beforeAll(async () => {
    h = await createHarness(dialect);
    owner = h.a.owner;
    actor = {
      ...(await h.services.auth.verifyBearer(owner.apiKey.replace(/^Bearer /, ''))),
      surface: 'v1' as const,
    };
    document = (await h.request({ method: 'GET', url: '/openapi.json' })).json() as Document;
    pools.orgId = h.a.org.id;
    // Users and keys the fuzzer may change or revoke; the owner's own stay out of its reach.
    for (const role of ['editor', 'viewer'] as const) {
      const user = await h.a.addUser(role, `fuzz-${role}`);
      pools.userIds.push(user.user.id);
      pools.login = { username: user.username, password: user.password };
    }
    const keys = await h.services.accounts.listApiKeys(actor);
    pools.apiKeyIds.push(...keys.filter((k) => k.user_id !== owner.user.id).map((k) => k.id));
    const imported = await h.request({
      method: 'POST',
      url: '/v1/imports',
      headers: { authorization: owner.apiKey, 'content-type': 'text/csv' },
      payload: 'name,phone\nImported One,+61499000001\nImported Two,+61499000002\n',
    });
    expect(imported.statusCode).toBe(202);
    pools.importIds.push(imported.json().id);
    for (let i = 0; i < 100; i++) {
      const job = await h.services.imports.get(actor, imported.json().id);
      if (job.status === 'completed') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers every operation, valid or not, only as the document says, and refuses bad input writing nothing', async () => {
    const validators = new Validators(document);
    const operations = operationsOf(document);
    const problems: string[] = [];
    const figures = {
      operations: 0,
      requests: 0,
      valid: 0,
      invalid: 0,
      serverErrors: 0,
      undocumented: 0,
      acceptedInvalid: 0,
      invalidThatWrote: 0,
    };
    const problem = (kind: keyof typeof figures, op: Operation, request: FuzzRequest, what: string) => {
      figures[kind]++;
      if (problems.length < 30)
        problems.push(
          `${op.method} ${op.path} ${request.mutation ?? 'valid'}: ${what} ${JSON.stringify(request).slice(0, 300)}`,
        );
    };

    for (const [index, op] of operations.entries()) {
      await addRecords(h, actor, pools);
      const hint = hintFor(op, pools);
      const auth = op.path.startsWith('/v1/auth/') ? undefined : owner.apiKey;
      const check = async (request: FuzzRequest) => {
        const res = await send(h, op, request, auth);
        figures.requests++;
        if (res.statusCode >= 500)
          problem('serverErrors', op, request, `${res.statusCode} ${res.body.slice(0, 200)}`);
        const mismatch = validators.checkResponse(
          op,
          res.statusCode,
          res.headers['content-type'] as string,
          res.body,
        );
        if (mismatch) problem('undocumented', op, request, `${mismatch}: ${res.body.slice(0, 200)}`);
        return res.statusCode;
      };

      const seed = SEED + index;
      const valid = fc
        .sample(validRequests(op, validators.resolve, hint), { numRuns: RUNS, seed })
        .filter(addressable);
      for (const request of valid) {
        await check(request);
        figures.valid++;
      }

      const invalid = fc
        .sample(invalidRequests(op, validators, hint), { numRuns: RUNS * 2, seed })
        .filter((r): r is FuzzRequest => r !== undefined && addressable(r))
        .slice(0, RUNS);
      const before = await digest(h, owner.apiKey);
      for (const request of invalid) {
        const status = await check(request);
        figures.invalid++;
        if (status < 400 || status >= 500) problem('acceptedInvalid', op, request, `answered ${status}`);
      }
      if (invalid.length > 0 && (await digest(h, owner.apiKey)) !== before)
        problem('invalidThatWrote', op, { params: {}, query: {}, mutation: 'any' }, 'the data changed');
      // An operation that takes no input has no invalid input either.
      const takesInput = op.body || op.pathParams.length > 0 || op.queryParams.length > 0;
      if (valid.length > 0 && (invalid.length > 0 || !takesInput)) figures.operations++;
      else
        problems.push(
          `${op.method} ${op.path}: not exercised (${valid.length} valid, ${invalid.length} invalid)`,
        );
    }

    console.log(
      `OpenAPI fuzz on ${dialect} (seed ${SEED}, FUZZ_RUNS=${RUNS}): ${figures.operations} of ${operations.length} operations covered, ` +
        `${figures.requests} requests (${figures.valid} valid, ${figures.invalid} invalid); ` +
        `5xx: ${figures.serverErrors}, undocumented responses: ${figures.undocumented}, ` +
        `accepted invalid inputs: ${figures.acceptedInvalid}, invalid requests that wrote: ${figures.invalidThatWrote}`,
    );
    expect(problems).toEqual([]);
    expect(figures.operations).toBe(operations.length);
  }, 600_000);
});
