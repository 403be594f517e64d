import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { changesBySeq, toChange } from '../../db/repositories/changes.js';
import { endpointsToServe, pendingDeliveries } from '../../db/repositories/instance.js';
import * as webhooks from '../../db/repositories/webhooks.js';
import type { TenantScope } from '../../db/scope.js';
import type { Store } from '../../db/store.js';
import type { SecretBox } from '../secrets.js';
import { guardedLookup, refusal } from './addresses.js';
import { signatures } from './signing.js';

/** About 5 s, 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h: then the endpoint is disabled. */
export const RETRY_SCHEDULE_MS = [5e3, 60e3, 300e3, 1800e3, 7200e3, 21600e3, 43200e3, 86400e3];
/** How long the worker lets commits gather before a round. */
const COALESCE_MS = 20;
/** What is kept of a receiver's answer. */
const EXCERPT_BYTES = 1024;

export interface DeliveryOptions {
  box: SecretBox;
  allowPrivate: boolean;
  /** The waits before each retry (jittered by up to a fifth either way); injectable so tests take milliseconds. */
  retryScheduleMs?: number[];
  /** A receiver that has not answered 2xx within this is a failed attempt. */
  timeoutMs?: number;
  /** Deliveries sent to one endpoint per round. */
  batch?: number;
  /** How often the worker looks for due deliveries when nothing wakes it. */
  pollMs?: number;
}

/** What became of each attempt: sent (2xx), to be tried again, or the last of the schedule. */
export type AttemptOutcome = 'delivered' | 'retry' | 'gave_up';

interface Attempt {
  ok: boolean;
  status: number | null;
  error: string | null;
  excerpt: string | null;
}

/**
 * Sends queued webhook deliveries (rows of webhook_deliveries, written with their changes), so
 * they survive a restart or a kill -9. One endpoint's deliveries go out one after the other in
 * order: a worker takes the head of its queue (a lease, so several processes on one PostgreSQL
 * database do not send to one endpoint at once) and the due ones behind it, and stops at the
 * first failure, which is retried with backoff before anything behind it is sent.
 */
export class DeliveryWorker {
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
  };
  private readonly lookup;
  private readonly schedule: number[];
  private readonly timeoutMs: number;
  private readonly batch: number;
  private readonly pollMs: number;
  private wakeUp?: () => void;
  private woken = false;
  private stopped = true;
  private loop?: Promise<void>;
  private onError: (error: unknown) => void = () => undefined;
  /** Attempts this process made, by outcome (metrics). */
  readonly attempts: Record<AttemptOutcome, number> = { delivered: 0, retry: 0, gave_up: 0 };

  constructor(
    private readonly store: Store,
    private readonly options: DeliveryOptions,
  ) {
    this.lookup = guardedLookup(options.allowPrivate);
    this.schedule = options.retryScheduleMs ?? RETRY_SCHEDULE_MS;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.batch = options.batch ?? 100;
    this.pollMs = options.pollMs ?? 1000;
    store.onDeliveriesQueued(() => this.wake());
  }

  start(onError?: (error: unknown) => void): void {
    if (onError) this.onError = onError;
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
    for (const agent of Object.values(this.agents)) agent.destroy();
  }

  /** Deliveries waiting in every organisation, and the oldest one's age (metrics). */
  queue(): Promise<{ count: number; ageMs: number }> {
    return pendingDeliveries(this.store.db);
  }

  private wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.woken = false;
      let busy = false;
      try {
        busy = await this.round();
      } catch (error) {
        this.onError(error);
      }
      if (this.stopped || busy) continue;
      // Woken by commits: let a few more come first, so a burst of writes is one round, not one each.
      if (this.woken) {
        await new Promise((resolve) => setTimeout(resolve, COALESCE_MS));
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.pollMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }

  /** One pass over the enabled endpoints, side by side; whether any sent something. */
  private async round(): Promise<boolean> {
    const endpoints = await endpointsToServe(this.store.db);
    const sent = await Promise.all(
      endpoints.map((e) => this.serve(this.store.scope(e.organisation_id), e.id).catch(this.failed)),
    );
    return sent.some(Boolean);
  }

  private readonly failed = (error: unknown) => {
    this.onError(error);
    return false;
  };

  /** Sends an endpoint's due deliveries in order, up to the first failure; whether it sent any. */
  private async serve(scope: TenantScope, endpointId: string): Promise<boolean> {
    const now = Date.now();
    const next = await webhooks.nextDeliveries(scope, endpointId, this.batch);
    const due = [];
    for (const delivery of next) {
      if ((delivery.next_attempt_at ?? 0) > now) break;
      due.push(delivery);
    }
    if (due.length === 0) return false;
    // Held past the batch's one possible timeout (a failure ends the batch); a worker killed mid-batch
    // leaves its lease to lapse, then another (or it, restarted) takes over.
    const until = now + 2 * this.timeoutMs + 10_000;
    // The head alone first: whoever takes it is the one worker sending to this endpoint now.
    if ((await webhooks.leaseDeliveries(scope, [due[0]!.id], now, until)).length === 0) return false;
    const rest = new Set(
      await webhooks.leaseDeliveries(
        scope,
        due.slice(1).map((d) => d.id),
        now,
        until,
      ),
    );
    const taken = [due[0]!];
    for (const delivery of due.slice(1)) {
      if (!rest.has(delivery.id)) break;
      taken.push(delivery);
    }
    const endpoint = await webhooks.findEndpoint(scope, endpointId);
    if (!endpoint || endpoint.enabled !== 1) {
      await webhooks.settleDeliveries(scope, [...rest], {});
      return false;
    }
    const secrets = [this.options.box.open(endpoint.secret)];
    if (endpoint.previous_secret && (endpoint.previous_secret_until ?? 0) > now)
      secrets.push(this.options.box.open(endpoint.previous_secret));
    const bodies = await bodiesOf(scope, taken);
    const delivered: string[] = [];
    for (const [i, delivery] of taken.entries()) {
      const body = bodies.get(delivery.id);
      const attempt: Attempt = body
        ? await this.send(endpoint.url, secrets, delivery.id, body)
        : {
            ok: false,
            status: null,
            error: 'the change was pruned from the log before it could be sent',
            excerpt: null,
          };
      if (attempt.ok) {
        delivered.push(delivery.id);
        continue;
      }
      await this.settleDelivered(scope, delivered);
      await webhooks.settleDeliveries(
        scope,
        taken.slice(i + 1).map((d) => d.id),
        {},
      );
      await this.retryOrGiveUp(scope, endpointId, delivery, attempt, body === undefined);
      return delivered.length > 0;
    }
    await this.settleDelivered(scope, delivered);
    return true;
  }

  private settleDelivered(scope: TenantScope, ids: string[]) {
    this.attempts.delivered += ids.length;
    return webhooks.settleDeliveries(scope, ids, { status: 'delivered', finished_at: Date.now() }, true);
  }

  private async retryOrGiveUp(
    scope: TenantScope,
    endpointId: string,
    delivery: webhooks.DeliveryRow,
    attempt: Attempt,
    hopeless: boolean,
  ): Promise<void> {
    const attempts = delivery.attempts + 1;
    const outcome = {
      last_status: attempt.status,
      last_error: attempt.error,
      response_excerpt: attempt.excerpt,
    };
    const wait = this.schedule[attempts - 1];
    if (wait !== undefined && !hopeless) {
      this.attempts.retry += 1;
      const jittered = wait * (0.8 + Math.random() * 0.4);
      await webhooks.settleDeliveries(scope, [delivery.id], {
        ...outcome,
        attempts,
        next_attempt_at: Math.round(Date.now() + jittered),
      });
      return;
    }
    this.attempts.gave_up += 1;
    await webhooks.settleDeliveries(scope, [delivery.id], {
      ...outcome,
      attempts,
      status: 'failed',
      finished_at: Date.now(),
    });
    if (hopeless) return;
    const why = attempt.status === null ? attempt.error : `HTTP ${attempt.status}`;
    await webhooks.disableEndpoint(
      scope,
      endpointId,
      `disabled after ${attempts} failed attempts to deliver ${delivery.id} (last: ${why}); fix the receiver, then PATCH enabled=true`,
    );
  }

  /** One POST: 2xx within the timeout is success; what the receiver said is kept, cut short. */
  private async send(url: string, secrets: string[], id: string, body: string): Promise<Attempt> {
    const timestamp = Math.floor(Date.now() / 1000);
    const target = new URL(url);
    // A literal address is connected to without a lookup: checked here instead.
    const literal = target.hostname.replace(/^\[|\]$/g, '');
    const refused = isIP(literal) ? refusal(literal, this.options.allowPrivate) : undefined;
    if (refused) return failure(new Error(`refused: ${refused}`));
    const transport = target.protocol === 'https:' ? https : http;
    return new Promise<Attempt>((resolve) => {
      const request = transport.request(
        target,
        {
          method: 'POST',
          agent: this.agents[target.protocol as 'http:' | 'https:'],
          lookup: this.lookup,
          timeout: this.timeoutMs,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'user-agent': 'Roster-Webhooks/1',
            'webhook-id': id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signatures(secrets, id, timestamp, body),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          response.on('data', (chunk: Buffer) => {
            if (kept < EXCERPT_BYTES) chunks.push(chunk.subarray(0, EXCERPT_BYTES - kept));
            kept += chunk.length;
          });
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            resolve({
              ok: status >= 200 && status < 300,
              status,
              error: null,
              excerpt: Buffer.concat(chunks).toString('utf8') || null,
            });
          });
          response.on('error', (error) => resolve(failure(error)));
        },
      );
      const deadline = setTimeout(
        () => request.destroy(new Error(`no answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      request.on('timeout', () => request.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      request.on('error', (error) => resolve(failure(error)));
      request.on('close', () => clearTimeout(deadline));
      request.end(body);
    });
  }
}

const failure = (error: Error): Attempt => ({
  ok: false,
  status: null,
  error: error.message.slice(0, 500),
  excerpt: null,
});

/** The bodies of deliveries: `{type, timestamp, data}`, data the log entry as the feed shows it, read now (so an erasure reaches it). */
async function bodiesOf(
  scope: TenantScope,
  deliveries: webhooks.DeliveryRow[],
): Promise<Map<string, string>> {
  const seqs = deliveries.filter((d) => d.seq !== null).map((d) => Number(d.seq));
  const changes = new Map((await changesBySeq(scope, seqs)).map((row) => [Number(row.seq), toChange(row)]));
  const bodies = new Map<string, string>();
  for (const delivery of deliveries) {
    if (delivery.payload !== null) {
      bodies.set(delivery.id, delivery.payload);
      continue;
    }
    const change = changes.get(Number(delivery.seq));
    if (change)
      bodies.set(
        delivery.id,
        JSON.stringify({ type: change.type, timestamp: change.occurred_at, data: change }),
      );
  }
  return bodies;
}
