import type { Redis } from 'ioredis';
import type { Actor } from './context.js';

export interface RateState {
  limit: number;
  /** Requests left in this window; negative once over the limit. */
  remaining: number;
  /** Seconds until the window resets. */
  reset: number;
}

/** Counts hits per key in fixed windows; shared by all server processes when it is Redis. */
export interface RateStore {
  hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }>;
  close(): Promise<void>;
}

export class MemoryRateStore implements RateStore {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  async hit(key: string, windowMs: number) {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      if (this.windows.size > 100_000) this.sweep(now);
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count += 1;
    return { count: window.count, resetMs: window.resetAt - now };
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }

  async close(): Promise<void> {}
}

export class RedisRateStore implements RateStore {
  /** The connection, which the login throttle shares (login-throttle.ts); closed with this store. */
  private constructor(readonly redis: Redis) {}

  /** ioredis is loaded only by a server configured for Redis (~50 ms of start-up otherwise). */
  static async connect(url: string): Promise<RedisRateStore> {
    const { Redis } = await import('ioredis');
    return new RedisRateStore(new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: true }));
  }

  async hit(key: string, windowMs: number) {
    const redisKey = `roster:rate:${key}`;
    const result = await this.redis
      .multi()
      .incr(redisKey)
      .pexpire(redisKey, windowMs, 'NX')
      .pttl(redisKey)
      .exec();
    const count = Number(result?.[0]?.[1] ?? 1);
    const ttl = Number(result?.[2]?.[1] ?? windowMs);
    return { count, resetMs: ttl > 0 ? ttl : windowMs };
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}

/**
 * Request limits per credential in its organisation: not per IP address, since behind a
 * proxy, or on one machine, every caller shares one. A limit of 0 turns limiting off.
 */
export class RateLimiter {
  constructor(
    private readonly store: RateStore,
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one request; `remaining` below zero means the credential is over its limit. */
  async hit(actor: Actor): Promise<RateState | undefined> {
    if (this.limit === 0) return undefined;
    const { count, resetMs } = await this.store.hit(
      `${actor.organisationId}:${actor.userId}:${actor.credential}`,
      this.windowMs,
    );
    return { limit: this.limit, remaining: this.limit - count, reset: Math.ceil(resetMs / 1000) };
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
