import { DomainError } from '../domain/errors.js';

export interface ThrottleOptions {
  /** Failures before each further attempt is slowed down. */
  freeFailures: number;
  /** Failures before the username is locked. */
  lockAfter: number;
  lockMs: number;
  maxDelayMs: number;
  /** Failures older than this are forgotten. */
  windowMs: number;
}

const DEFAULTS: ThrottleOptions = {
  freeFailures: 3,
  lockAfter: 10,
  lockMs: 15 * 60_000,
  maxDelayMs: 2_000,
  windowMs: 15 * 60_000,
};

const MAX_ENTRIES = 100_000;

interface Entry {
  failures: number;
  first: number;
  lockedUntil: number;
}

/**
 * Brute-force protection on password checks, per username. After a few failures each
 * attempt waits longer (only that attempt: other users are not slowed); after more, the
 * username is locked for a while. A lock always ends and is forgotten after it ends, so
 * an attacker can delay a user but never lock them out for good; API keys and tokens
 * already issued keep working meanwhile.
 */
export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: ThrottleOptions = DEFAULTS) {}

  /** Waits as long as this username's recent failures require, or refuses while it is locked. */
  async beforeAttempt(username: string, now = Date.now()): Promise<void> {
    const entry = this.current(username, now);
    if (!entry) return;
    if (entry.lockedUntil > now) {
      const retryAfter = Math.ceil((entry.lockedUntil - now) / 1000);
      throw new DomainError('locked', 'Too many failed sign-ins for this username; try again later', {
        retry_after: retryAfter,
      });
    }
    const excess = entry.failures - this.options.freeFailures;
    if (excess > 0)
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(100 * 2 ** (excess - 1), this.options.maxDelayMs)),
      );
  }

  recordFailure(username: string, now = Date.now()): void {
    const entry = this.current(username, now) ?? { failures: 0, first: now, lockedUntil: 0 };
    entry.failures += 1;
    // Bounded memory against a spray of made-up usernames: the oldest entry goes first.
    if (!this.entries.has(username) && this.entries.size >= MAX_ENTRIES)
      this.entries.delete(this.entries.keys().next().value!);
    if (entry.failures >= this.options.lockAfter) entry.lockedUntil = now + this.options.lockMs;
    this.entries.set(username, entry);
  }

  recordSuccess(username: string): void {
    this.entries.delete(username);
  }

  private current(username: string, now: number): Entry | undefined {
    const entry = this.entries.get(username);
    if (!entry) return undefined;
    const lockOver = entry.lockedUntil !== 0 && entry.lockedUntil <= now;
    if (lockOver || (entry.lockedUntil === 0 && now - entry.first > this.options.windowMs)) {
      this.entries.delete(username);
      return undefined;
    }
    return entry;
  }
}
