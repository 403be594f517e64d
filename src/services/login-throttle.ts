import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
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

export const THROTTLE_DEFAULTS: ThrottleOptions = {
  freeFailures: 3,
  lockAfter: 10,
  lockMs: 15 * 60_000,
  maxDelayMs: 2_000,
  windowMs: 15 * 60_000,
};

const MAX_ENTRIES = 100_000;

export interface Entry {
  failures: number;
  first: number;
  lockedUntil: number;
}

/** Where failures are counted: this process's memory, or Redis, shared by every server process. */
export interface ThrottleStore {
  /** The username's failures, unless forgotten (the window passed, or the lock ended). */
  read(username: string, now: number): Promise<Entry | undefined>;
  /** Counts a failure, and locks the username at `lockAfter`. */
  fail(username: string, now: number): Promise<void>;
  forget(username: string): Promise<void>;
}

export class MemoryThrottleStore implements ThrottleStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: ThrottleOptions = THROTTLE_DEFAULTS) {}

  async read(username: string, now: number): Promise<Entry | undefined> {
    return this.current(username, now);
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

  async fail(username: string, now: number): Promise<void> {
    const entry = this.current(username, now) ?? { failures: 0, first: now, lockedUntil: 0 };
    entry.failures += 1;
    // Bounded memory against a spray of made-up usernames: the oldest entry goes first.
    if (!this.entries.has(username) && this.entries.size >= MAX_ENTRIES)
      this.entries.delete(this.entries.keys().next().value!);
    if (entry.failures >= this.options.lockAfter) entry.lockedUntil = now + this.options.lockMs;
    this.entries.set(username, entry);
  }

  async forget(username: string): Promise<void> {
    this.entries.delete(username);
  }
}

/**
 * The same counts in Redis (REDIS_URL), so a guesser spreading attempts over several server
 * processes meets one throttle: a hash per username that expires with its window, or with its
 * lock once locked (Redis forgets it then, as the memory store does).
 */
export class RedisThrottleStore implements ThrottleStore {
  constructor(
    private readonly redis: Redis,
    private readonly options: ThrottleOptions = THROTTLE_DEFAULTS,
  ) {}

  private key(username: string): string {
    return `roster:login:${createHash('sha256').update(username).digest('hex')}`;
  }

  async read(username: string, now: number): Promise<Entry | undefined> {
    const entry = await this.redis.hgetall(this.key(username));
    if (!entry.failures) return undefined;
    const lockedUntil = Number(entry.lockedUntil ?? 0);
    if (lockedUntil !== 0 && lockedUntil <= now) return undefined;
    return { failures: Number(entry.failures), first: Number(entry.first ?? now), lockedUntil };
  }

  async fail(username: string, now: number): Promise<void> {
    const key = this.key(username);
    const result = await this.redis
      .multi()
      .hincrby(key, 'failures', 1)
      .hsetnx(key, 'first', now)
      .pexpire(key, this.options.windowMs, 'NX')
      .exec();
    const failures = Number(result?.[0]?.[1] ?? 0);
    if (failures >= this.options.lockAfter)
      await this.redis
        .multi()
        .hset(key, 'lockedUntil', now + this.options.lockMs)
        .pexpire(key, this.options.lockMs)
        .exec();
  }

  async forget(username: string): Promise<void> {
    await this.redis.del(this.key(username));
  }
}

/**
 * Brute-force protection on password checks, per username. After a few failures each
 * attempt waits longer (only that attempt: other users are not slowed); after more, the
 * username is locked for a while. A lock always ends and is forgotten after it ends, so
 * an attacker can delay a user but never lock them out for good; API keys and tokens
 * already issued keep working meanwhile.
 */
export class LoginThrottle {
  private readonly store: ThrottleStore;

  constructor(
    private readonly options: ThrottleOptions = THROTTLE_DEFAULTS,
    store?: ThrottleStore,
  ) {
    this.store = store ?? new MemoryThrottleStore(options);
  }

  /** Waits as long as this username's recent failures require, or refuses while it is locked. */
  async beforeAttempt(username: string, now = Date.now()): Promise<void> {
    const entry = await this.store.read(username, now);
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

  recordFailure(username: string, now = Date.now()): Promise<void> {
    return this.store.fail(username, now);
  }

  recordSuccess(username: string): Promise<void> {
    return this.store.forget(username);
  }
}
