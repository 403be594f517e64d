import type { SwaggerTransform } from '@fastify/swagger';
import { Type, type TSchema } from '@sinclair/typebox';

/**
 * What every surface's OpenAPI description shares: bounded primitives, the error responses
 * a surface's handler can give, and the headers the app sets on every response.
 */

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
/** Free text of at most `maxLength` characters. */
export const Text = (maxLength: number, description?: string) => Type.String({ maxLength, description });
export const Timestamp = Type.String({ format: 'date-time', maxLength: 40 });
export const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
/** A count or other non-negative integer (JavaScript's exact integers are the bound). */
export const Count = Type.Integer({ format: 'int64', minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
/** A record's version: 1 when created, one more on every change. */
export const Version = Type.Integer({ format: 'int64', minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
/** A record's integer key, as the seeds that number their records show it. */
export const Key = Type.Integer({ format: 'int64', minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
/** An E.164 phone number. */
export const E164 = Type.String({ pattern: '^\\+[1-9][0-9]{1,14}$', maxLength: 16, description: 'E.164' });

const MEANING: Record<number, string> = {
  400: 'The request is invalid: malformed JSON, a wrong type, a missing, unknown or out-of-range field',
  401: 'No credential, or a wrong, expired or revoked one',
  403: "The caller's role does not allow this",
  404: "No such record in the caller's organisation",
  409: 'Conflicts with the current data (e.g. a phone number another contact has), or the database is busy (Retry-After)',
  412: 'If-Match does not match the current version',
  413: 'The body is larger than the limit',
  415: 'The content type of the body is not accepted',
  422: 'The Idempotency-Key was used before with another request',
  428: 'If-Match is required on this server',
  410: 'The cursor is older than the retention: read the full lists again, then follow from a new cursor',
  429: 'Too many requests for this credential, or too many failed sign-ins for this username',
  500: 'An unexpected failure; the body says no more',
};

/** Every authenticated route can refuse the credential, the role or the rate, and can fail. */
const ALWAYS = [400, 401, 403, 404, 409, 429, 500];
/** A route that reads a body can also find it too large or of a type it does not read. */
const WITH_BODY = [413, 415];

interface RouteSchema {
  body?: unknown;
  response?: Record<number, unknown>;
}

const header = (schema: TSchema, description: string) => ({ ...schema, description });
const Seconds = Type.Integer({ format: 'int32', minimum: 0, maximum: 86_400 });
const RATE_HEADERS = {
  'RateLimit-Limit': header(
    Type.Integer({ format: 'int32', minimum: 1, maximum: 2 ** 31 - 1 }),
    'Requests allowed per window for this credential (when rate limiting is on)',
  ),
  'RateLimit-Remaining': header(
    Type.Integer({ format: 'int32', minimum: 0, maximum: 2 ** 31 - 1 }),
    'Requests left in this window',
  ),
  'RateLimit-Reset': header(Seconds, 'Seconds until the window resets'),
};
const REQUEST_ID = {
  'X-Request-Id': header(
    Type.String({ pattern: '^[\\w.-]{1,100}$', maxLength: 100 }),
    "This request's id, as sent or generated; it is in the server's log lines",
  ),
};
const RETRY_AFTER = { 'Retry-After': header(Seconds, 'Seconds to wait before trying again') };
const ACCEPT = {
  Accept: header(Type.String({ maxLength: 2000 }), 'The media types this route reads its body as'),
};
const WWW_AUTHENTICATE = {
  'WWW-Authenticate': header(Type.String({ maxLength: 200 }), 'The schemes this surface accepts'),
};

/**
 * A surface's error responses: `errors(schema, extra)` adds to a route's schema every error
 * status the surface's error handler can give it, each with the surface's error body.
 * `reads` lists what the surface's body parser can refuse, `also` what any route of it can
 * give besides the common ones, `omit` what it never answers; `challenges` says whether its
 * 401 carries WWW-Authenticate.
 */
export function errorResponses(
  body: TSchema,
  options: {
    contentType?: string;
    reads?: number[];
    also?: number[];
    omit?: number[];
    challenges?: boolean;
  } = {},
) {
  const { contentType = 'application/json', reads = WITH_BODY, also = [], omit = [] } = options;
  const response = (status: number) => ({
    description: MEANING[status],
    headers: {
      ...((status === 429 || status === 409) && RETRY_AFTER),
      ...(status === 401 && options.challenges !== false && WWW_AUTHENTICATE),
      ...(status === 415 && ACCEPT),
    },
    content: { [contentType]: { schema: body } },
  });
  return <S extends RouteSchema>(schema: S, extra: number[] = []): S => {
    const statuses = [...ALWAYS, ...also, ...(schema.body ? reads : []), ...extra].filter(
      (s) => !omit.includes(s),
    );
    const errors = Object.fromEntries([...new Set(statuses)].sort().map((s) => [s, response(s)]));
    return { ...schema, response: { ...errors, ...schema.response } };
  };
}

/** The headers buildApp's hooks set on a response of this status; errors add their own (above). */
function headersOf(status: number, limited: boolean) {
  const rated = limited && (status < 300 || (status >= 400 && status < 500));
  return { ...REQUEST_ID, ...(rated && RATE_HEADERS) };
}

const operationId = (method: string, url: string) =>
  method.toLowerCase() +
  url
    .replace(/\/$/, '/slash')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');

type DescribedSchema = Record<string, unknown> & { response?: Record<string, Record<string, unknown>> };

/**
 * @fastify/swagger's transform: every operation gets an id from its method and path, and
 * every response the headers the app sets on it. Routes that take no credential say
 * `security: []`; they are not rate limited per credential either.
 */
export const describeRoute: SwaggerTransform = ({ schema: given, url, route }) => {
  const schema = given as DescribedSchema;
  if (!schema || schema.hide) return { schema, url };
  const method = Array.isArray(route.method) ? route.method[0]! : route.method;
  const limited = !(Array.isArray(schema.security) && schema.security.length === 0);
  const response = Object.fromEntries(
    Object.entries(schema.response ?? {}).map(([status, r]) => [
      status,
      { ...r, headers: { ...headersOf(Number(status), limited), ...(r.headers as object) } },
    ]),
  );
  return { schema: { operationId: operationId(method, url), ...schema, response }, url };
};
