/**
 * Errors the core raises, free of any transport: each API surface maps a code
 * onto its own status and body (see http/v1/problem.ts and each seed adapter).
 */
export type ErrorCode =
  | 'validation'
  | 'not_found'
  | 'conflict'
  | 'busy'
  | 'duplicate_phone'
  | 'precondition_failed'
  | 'precondition_required'
  | 'unauthenticated'
  | 'forbidden'
  | 'idempotency_mismatch'
  | 'idempotency_in_progress'
  | 'payload_too_large'
  | 'rate_limited'
  | 'locked'
  | 'cursor_expired';

export interface FieldIssue {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { fields?: FieldIssue[]; [key: string]: unknown } = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string) => new DomainError('not_found', `${what} not found`);

export const invalid = (field: string, message: string) =>
  new DomainError('validation', `${field}: ${message}`, { fields: [{ field, message }] });

export const forbidden = (message = 'Your role does not allow this action') =>
  new DomainError('forbidden', message);
