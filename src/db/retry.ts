import { setTimeout as sleep } from 'node:timers/promises';
import { isRetryable } from './errors.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** The first retry waits up to this long; each later one up to twice the one before. */
  baseDelayMs: number;
  maxDelayMs: number;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 10, maxDelayMs: 200 };

/**
 * Runs a whole transaction again when it lost a serialisation or lock conflict, a bounded
 * number of times with full-jitter exponential backoff, so racing retries spread out. Safe
 * because a failed transaction has rolled back and `work` starts over from its reads; the
 * last conflict is rethrown (a 409 `busy`).
 */
export async function retryConflicts<T>(
  work: () => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= policy.attempts || !isRetryable(error)) throw error;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await sleep(Math.random() * ceiling);
    }
  }
}
