import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type ErrorCode, type FieldIssue } from '../domain/errors.js';

/** Any error a request can meet, reduced to what every surface needs to answer it. */
export interface Classified {
  status: number;
  code: ErrorCode | 'malformed' | 'unsupported_media_type' | 'internal';
  message: string;
  fields: FieldIssue[];
  details: Record<string, unknown>;
  /** The domain error behind it, when there is one. */
  cause?: DomainError;
}

const STATUS: Record<ErrorCode, number> = {
  validation: 400,
  not_found: 404,
  conflict: 409,
  busy: 409,
  duplicate_phone: 409,
  precondition_failed: 412,
  precondition_required: 428,
  unauthenticated: 401,
  forbidden: 403,
  idempotency_mismatch: 422,
  idempotency_in_progress: 409,
  payload_too_large: 413,
  rate_limited: 429,
  locked: 429,
  cursor_expired: 410,
};

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message: string;
  validation?: {
    instancePath: string;
    message?: string;
    params?: Record<string, unknown>;
    keyword: string;
  }[];
  validationContext?: string;
}

/**
 * A refusal names at most this many fields, each cut to this length: however large the
 * request (10,001 bad ids, a megabyte-long unknown key), the answer stays small.
 */
export const MAX_FIELD_ISSUES = 20;
const MAX_FIELD_NAME = 200;

const PATTERN_RULES = new Map<string, string>();

/** A schema's pattern with the words its 400 gives instead of Ajv's "must match pattern". */
export function ruled(pattern: string, rule: string): string {
  PATTERN_RULES.set(pattern, rule);
  return pattern;
}

type AjvIssue = NonNullable<FastifyLikeError['validation']>[number];

/** A union's own errors: "must match a schema in anyOf", and a nullable field's "must be null". */
const ofUnion = (v: AjvIssue) => v.keyword === 'anyOf' || (v.keyword === 'type' && v.params?.type === 'null');

/** Ajv's errors less a union's own where another error, at that place or inside it, says what is wrong. */
const meaningful = (issues: AjvIssue[]) =>
  issues.filter(
    (v) =>
      !ofUnion(v) ||
      !issues.some((o) => !ofUnion(o) && `${o.instancePath}/`.startsWith(`${v.instancePath}/`)),
  );

/** Ajv's errors as {field, message}: the field is a dotted path, named even when the error is about a missing or extra property. */
function fieldsOfValidation(error: FastifyLikeError): FieldIssue[] {
  return meaningful(error.validation ?? [])
    .slice(0, MAX_FIELD_ISSUES)
    .map((v) => {
      // The domain's spelling of a place in a list, dates[1].date, for both kinds of error.
      const base = v.instancePath
        .split('/')
        .slice(1)
        .reduce(
          (path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part),
          '',
        );
      const extra = (v.params?.missingProperty ?? v.params?.additionalProperty) as string | undefined;
      const field =
        [error.validationContext === 'body' ? '' : error.validationContext, base, extra]
          .filter(Boolean)
          .join('.') ||
        (error.validationContext ?? 'body');
      const message =
        v.keyword === 'additionalProperties'
          ? 'is not a known field'
          : v.keyword === 'required'
            ? 'is required'
            : (v.keyword === 'pattern' && PATTERN_RULES.get(String(v.params?.pattern))) ||
              (v.message ?? 'is invalid');
      return { field: field.slice(0, MAX_FIELD_NAME), message };
    });
}

/**
 * The media types the route a request reached reads its body as: its body's `content` keys,
 * else JSON, the rule @fastify/swagger writes the route's requestBody by, so that a 415 names
 * what the OpenAPI document declares. Undefined when no route serves the request.
 */
function mediaTypesOf(request: FastifyRequest): string[] | undefined {
  if (request.is404) return undefined;
  const body = (request.routeOptions.schema as { body?: { content?: object } } | undefined)?.body;
  if (!body) return [];
  return body.content ? Object.keys(body.content) : ['application/json'];
}

const either = (types: string[]) =>
  types.length > 1 ? `${types.slice(0, -1).join(', ')} or ${types.at(-1)}` : types.join('');

/** Why a body's media type was refused, and what the route would have read instead. */
function unsupportedMediaType(request: FastifyRequest): Pick<Classified, 'message' | 'details'> {
  const types = mediaTypesOf(request);
  const said = [
    // Fastify refuses a Content-Type that does not parse as a media type before it looks for a route's parser.
    request.headers['content-type'] !== undefined &&
      request.mediaType === undefined &&
      'the Content-Type header is not a media type',
    types?.length === 0 && 'this route reads no body',
    types?.length && `send the body as ${either(types)}`,
  ].filter((part): part is string => typeof part === 'string');
  const message = said.join('; ') || 'the content type of the body is not accepted';
  return {
    message: message[0]!.toUpperCase() + message.slice(1),
    details: types?.length ? { accepts: types } : {},
  };
}

function classify(error: unknown, request: FastifyRequest): Classified {
  if (error instanceof DomainError) {
    const { fields = [], ...details } = error.details;
    return {
      status: STATUS[error.code],
      code: error.code,
      message: error.message,
      fields,
      details,
      cause: error,
    };
  }
  const e = error as FastifyLikeError;
  if (e.validation) {
    const fields = fieldsOfValidation(e);
    return {
      status: 400,
      code: 'validation',
      message: 'The request is invalid: ' + fields.map((f) => `${f.field} ${f.message}`).join('; '),
      fields,
      details: {},
    };
  }
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        status: 400,
        code: 'malformed',
        message: 'The body is not valid JSON',
        fields: [],
        details: {},
      };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        code: 'payload_too_large',
        message: 'The body is larger than the configured limit',
        fields: [],
        details: {},
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: 'unsupported_media_type', fields: [], ...unsupportedMediaType(request) };
  }
  // Fastify's own 4xx (a bad header, an aborted body): passed on, never turned into a 5xx.
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, code: 'malformed', message: e.message, fields: [], details: {} };
  }
  return { status: 500, code: 'internal', message: 'Internal server error', fields: [], details: {} };
}

/**
 * classify(), plus what every surface does alike: a 5xx is logged (its body never says more
 * than "internal"), a caller turned away by a busy database is told when to retry, and one
 * whose body's media type was refused which the route reads (in Accept, as RFC 9110 has a 415 do).
 */
export function classifyReply(error: unknown, request: FastifyRequest, reply: FastifyReply): Classified {
  const problem = classify(error, request);
  if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
  const { retry_after, accepts } = problem.details;
  if (typeof retry_after === 'number') reply.header('retry-after', String(retry_after));
  if (Array.isArray(accepts)) reply.header('accept', accepts.join(', '));
  return problem;
}
