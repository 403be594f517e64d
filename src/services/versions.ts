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

/** A conditional update found the row at another version: someone wrote in between. */
export const changedMeanwhile = (what: string) =>
  new DomainError('precondition_failed', `The ${what} changed meanwhile; fetch it and retry`);
