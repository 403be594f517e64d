import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import { putSettingOnce } from '../db/repositories/instance.js';
import { Leases } from '../db/leases.js';
import type { Store } from '../db/store.js';
import { AccountsService } from './accounts.js';
import { AuthService } from './auth.js';
import { ChangesService } from './changes.js';
import { secretBoxFor } from './secrets.js';
import { WebhooksService } from './webhooks/service.js';
import { DeliveryWorker } from './webhooks/worker.js';
import { ContactsService } from './contacts.js';
import { DuplicatesService } from './duplicates.js';
import { GroupMembersService } from './group-members.js';
import { GroupsService } from './groups.js';
import { IdempotencyService } from './idempotency.js';
import { ImportsService } from './imports/jobs.js';
import { defaultReadingThread } from './imports/preparation.js';
import { MemberJobsService } from './member-jobs.js';
import { MergesService } from './merges.js';
import { RedisThrottleStore } from './login-throttle.js';
import { MemoryRateStore, RateLimiter, RedisRateStore } from './rate-limit.js';

export interface Services {
  store: Store;
  accounts: AccountsService;
  auth: AuthService;
  contacts: ContactsService;
  duplicates: DuplicatesService;
  merges: MergesService;
  groups: GroupsService;
  groupMembers: GroupMembersService;
  imports: ImportsService;
  memberJobs: MemberJobsService;
  idempotency: IdempotencyService;
  rateLimiter: RateLimiter;
  changes: ChangesService;
  webhooks: WebhooksService;
  /** Sends webhook deliveries once started (the server starts it; tests that need it do). */
  deliveries?: DeliveryWorker;
}

/** Wires the services over one store. The JWT key comes from the config or, once generated, from the database. */
export async function createServices(
  store: Store,
  config: Pick<Config, 'jwtSecret' | 'accessTokenTtlSeconds' | 'refreshTokenTtlSeconds'> &
    Partial<
      Pick<
        Config,
        | 'rateLimit'
        | 'rateWindowSeconds'
        | 'redisUrl'
        | 'importDirectory'
        | 'importMaxBytes'
        | 'importBatchSize'
        | 'changesRetentionDays'
        | 'databaseUrl'
        | 'secretKey'
        | 'webhookAllowPrivate'
        | 'webhookRetryScheduleMs'
        | 'webhookTimeoutMs'
        | 'jobLeaseSeconds'
      >
    > & {
      /** Where an import's file is read and prepared (preparation.ts): by default on a thread of its own, where the compiled script is. */
      importReadingThread?: URL | null;
    },
): Promise<Services> {
  const rateStore = config.redisUrl ? await RedisRateStore.connect(config.redisUrl) : new MemoryRateStore();
  const jwtSecret =
    config.jwtSecret ?? (await putSettingOnce(store.db, 'jwt_secret', randomBytes(48).toString('base64url')));
  const accounts = new AccountsService(store);
  const contacts = new ContactsService(store, accounts);
  const groups = new GroupsService(store, accounts, contacts);
  const box = secretBoxFor(config);
  const allowPrivate = config.webhookAllowPrivate ?? false;
  const leases = new Leases(store, { ttlMs: (config.jobLeaseSeconds ?? 30) * 1000 });
  const memberJobs = new MemberJobsService(store, accounts, contacts, groups, leases);
  const imports = new ImportsService(store, accounts, contacts, groups, leases, {
    directory: config.importDirectory ?? './data/imports',
    maxBytes: config.importMaxBytes ?? 512 * 1024 * 1024,
    batchSize: config.importBatchSize ?? 1000,
    readingThread:
      config.importReadingThread === undefined ? defaultReadingThread() : config.importReadingThread,
  });
  return {
    store,
    accounts,
    auth: new AuthService(store, {
      jwtSecret,
      accessTokenTtlSeconds: config.accessTokenTtlSeconds,
      refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
      throttle: rateStore instanceof RedisRateStore ? new RedisThrottleStore(rateStore.redis) : undefined,
    }),
    contacts,
    duplicates: new DuplicatesService(store),
    merges: new MergesService(store, accounts, contacts),
    groups,
    groupMembers: new GroupMembersService(store, accounts, contacts, groups),
    memberJobs,
    imports,

    idempotency: new IdempotencyService(store),
    changes: new ChangesService(store, { retentionDays: config.changesRetentionDays ?? 30 }),
    webhooks: new WebhooksService(store, { box, allowPrivate }),
    deliveries:
      box &&
      new DeliveryWorker(store, {
        box,
        allowPrivate,
        retryScheduleMs: config.webhookRetryScheduleMs,
        timeoutMs: config.webhookTimeoutMs,
      }),
    rateLimiter: new RateLimiter(rateStore, config.rateLimit ?? 0, (config.rateWindowSeconds ?? 60) * 1000),
  };
}
