import { DomainError } from '../domain/errors.js';

/** Optimistic concurrency: a caller that read version N may only write over version N. */
export function checkVersion(current: number, expected: number | undefined): void {
  if (expected !== undefined && expected !== current) {
    throw new DomainError(
      'precondition_failed',
      'The resource changed since you read it (ETag mismatch); fetch it and retry',
      { current_version: current },
    );
  }
}
