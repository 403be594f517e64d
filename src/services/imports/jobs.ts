import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { DomainError, notFound } from '../../domain/errors.js';
import type { CountryHint } from '../../domain/country-hint.js';
import type { EncodingFound } from '../../domain/formats/encoding.js';
import type { ImportCounts } from '../../domain/records.js';
import type { ImportFormat } from '../../domain/formats/index.js';
import { isUuid, uuidv7 } from '../../domain/ids.js';
import { iso, isoOrNull } from '../../domain/records.js';
import { requirePermission } from '../../domain/roles.js';
import * as imports from '../../db/repositories/imports.js';
import * as instance from '../../db/repositories/instance.js';
import type { ImportJobRow } from '../../db/repositories/imports.js';
import { BUSY_RETRY_AFTER_SECONDS } from '../../db/errors.js';
import { LeaseLost, type Leases } from '../../db/leases.js';
import type { Store } from '../../db/store.js';
import type { AccountsService } from '../accounts.js';
import type { ContactsService } from '../contacts.js';
import type { ChangeAuthor } from '../../domain/changes.js';
import type { Actor } from '../context.js';
import type { GroupsService } from '../groups.js';
import { importBatch, type BatchContext } from './batch.js';
import {
  preparedBatches,
  preparedBatchesOnThread,
  type PreparationInput,
  type PreparedBatch,
} from './preparation.js';
import { checkOptions, type ImportOptions } from './options.js';
import { rollbackImport, type RollbackReport } from './rollback.js';

/**
 * A batch's transaction, run again when the database stayed locked past its busy timeout (a
 * checkpoint holding writers off on a busy disk): a request would answer 409 and let its
 * client retry, but a long import has no client to do that, and failing it there would leave
 * the job to be resumed by hand. The batch rolled back whole, so running it again is safe.
 */
async function patiently(work: () => Promise<void>, attempts = 4): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !(error instanceof DomainError) || error.code !== 'busy') throw error;
      await sleep(BUSY_RETRY_AFTER_SECONDS * 1000 * attempt);
    }
  }
}

export interface ImportSettings {
  /** Where uploads are kept until their import ends (so an interrupted one can resume). */
  directory: string;
  maxBytes: number;
  batchSize: number;
  /** The script of the thread that reads and prepares the file (preparation-thread.js); null: the main thread does. */
  readingThread: URL | null;
}

/** Where an import is in its life; `interrupted` is a job the server stopped under, to be resumed. */
export const IMPORT_STATUSES = [
  'receiving',
  'queued',
  'running',
  'completed',
  'failed',
  'cancelled',
  'interrupted',
  'rolled_back',
  'partially_rolled_back',
] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

export interface ImportJob extends ImportCounts {
  id: string;
  status: ImportStatus;
  format: ImportFormat;
  mode: ImportOptions['mode'];
  dry_run: boolean;
  bytes: number;
  rows_read: number;
  /** Warnings by kind: what the import kept of rows but could not read as written. */
  warnings: Record<string, number>;
  /** The text encoding the file was read in, and how it was known. */
  encoding: EncodingFound | null;
  /** Set when most of the file's local numbers read better in another country than the import's. */
  country_hint: CountryHint | null;
  percent: number;
  rows_per_second: number | null;
  error: string | null;
  rollback: RollbackReport | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

class DryRun extends Error {}

/** Why a run stops before its end: cancelled here, this process shutting down, or its lease gone. */
type RunState = { stop?: 'cancel' | 'shutdown' | 'lost'; done: Promise<void> };

/**
 * Bulk imports as jobs stored in the database. The upload is spooled to disk first, then read
 * in batches; each batch is one transaction that also records the job's progress. The process
 * running a job holds its lease (db/leases.ts); when it dies, another takes the job over
 * (takeOver, from the worker) and goes on after the last committed row: no row is imported twice.
 */
export class ImportsService {
  private readonly running = new Map<number, RunState>();
  /** Rows of committed batches since the process started (the metrics' import rate). */
  rowsCommitted = 0;

  constructor(
    private readonly store: Store,
    private readonly accounts: AccountsService,
    private readonly contacts: ContactsService,
    private readonly groups: GroupsService,
    private readonly leases: Leases,
    private readonly settings: ImportSettings,
  ) {}

  /**
   * Claims one import whose process died or gave it up (a shutdown), and goes on with it after
   * its last committed batch; false when there is none. Uploads cut off by a dead process fail.
   */
  async takeOver(): Promise<boolean> {
    await instance.failAbandonedUploads(this.store.db, Date.now());
    const claimed = await this.leases.claim(imports.IMPORT_JOB_LEASES);
    if (!claimed) return false;
    const scope = this.store.scope(claimed.organisationId);
    const key = Number(claimed.id);
    const job = await imports.findImportJobByKey(scope, key);
    const actor = job && (await this.accounts.jobActor(claimed.organisationId, job.created_by));
    if (actor) this.launch(actor, key);
    else {
      await imports.updateImportJob(scope, key, {
        status: 'failed',
        error: 'the user who started the import is no longer active',
        finished_at: Date.now(),
        updated_at: Date.now(),
      });
      await this.leases.release(imports.IMPORT_JOB_LEASES, key);
    }
    return true;
  }

  /** Shutdown: running imports stop after their batch in flight and give their leases up, for another process. */
  async stop(): Promise<void> {
    for (const state of this.running.values()) state.stop ??= 'shutdown';
    await Promise.all([...this.running.values()].map((state) => state.done));
  }

  /** Imports waiting or running in every process, and the age of the oldest (metrics). */
  queue(): Promise<{ count: number; ageMs: number }> {
    return this.leases.depth({ ...imports.IMPORT_JOB_LEASES, createdAt: 'created_at' });
  }

  /** Imports this process is running now. */
  get runningCount(): number {
    return this.running.size;
  }

  /** Receives a file and starts importing it in the background; the job comes back at once. */
  async start(
    actor: Actor,
    body: AsyncIterable<Buffer>,
    options: ImportOptions,
    declaredBytes?: number,
  ): Promise<ImportJob> {
    requirePermission(actor.role, 'write');
    const checked = checkOptions(options);
    if (declaredBytes !== undefined && declaredBytes > this.settings.maxBytes)
      throw tooLarge(this.settings.maxBytes);
    await this.groupKeys(actor, checked, false);
    await mkdir(this.settings.directory, { recursive: true });
    const id = uuidv7();
    const path = join(this.settings.directory, `${id}.upload`);
    const scope = this.store.scope(actor.organisationId);
    const now = Date.now();
    const row = await imports.insertImportJob(scope, {
      id,
      status: 'receiving',
      format: checked.format,
      options: JSON.stringify(checked),
      spool_path: path,
      bytes: 0,
      rows_read: 0,
      created: 0,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      skipped_in_file: 0,
      failed: 0,
      bytes_read: 0,
      last_row: 0,
      error: null,
      rollback_report: null,
      encoding: null,
      country_hint: null,
      created_by: actor.userId,
      started_at: null,
      finished_at: null,
      created_at: now,
      updated_at: now,
      ...this.leases.held(now),
    });
    // The upload is this process's too: if it dies mid-way, the worker elsewhere fails the job.
    const receiving = this.leases.heartbeat(imports.IMPORT_JOB_LEASES, row.key, () => undefined);
    try {
      await pipeline(limitBytes(body, this.settings.maxBytes), createWriteStream(path));
    } catch (error) {
      receiving.stop();
      await rm(path, { force: true });
      await imports.updateImportJob(scope, row.key, {
        status: 'failed',
        spool_path: null,
        error: (error as Error).message,
        updated_at: Date.now(),
        lease_owner: null,
        lease_expires_at: null,
      });
      throw error instanceof DomainError
        ? error
        : new DomainError('validation', `The upload failed: ${(error as Error).message}`);
    }
    receiving.stop();
    await imports.updateImportJob(scope, row.key, {
      status: 'queued',
      bytes: (await stat(path)).size,
      updated_at: Date.now(),
      ...this.leases.held(),
    });
    this.launch(actor, row.key);
    return this.get(actor, id);
  }

  async get(actor: Actor, id: string): Promise<ImportJob> {
    requirePermission(actor.role, 'read');
    const row = await this.row(actor, id);
    return toJob(row, await imports.importWarningCounts(this.store.scope(actor.organisationId), row.key));
  }

  /** What the import kept but could not read as written: row (0 for the file), kind, field, value, reason. */
  async *warnings(actor: Actor, id: string): AsyncIterable<imports.ImportWarning> {
    const job = await this.row(actor, id);
    const scope = this.store.scope(actor.organisationId);
    yield* pages(
      (after) => imports.importWarningsPage(scope, job.key, after, REPORT_PAGE),
      (last) => ({ row: last.row_number, seq: last.seq }),
      { row: -1, seq: 0 },
    );
  }

  /** The failed rows with their row numbers and reasons, for a CSV report. */
  async *errors(
    actor: Actor,
    id: string,
  ): AsyncIterable<{ row_number: number; reason: string; raw: string }> {
    const job = await this.row(actor, id);
    const scope = this.store.scope(actor.organisationId);
    yield* pages(
      (after) => imports.importErrorsPage(scope, job.key, after, REPORT_PAGE),
      (last) => last.row_number,
      0,
    );
  }

  async cancel(actor: Actor, id: string): Promise<ImportJob> {
    requirePermission(actor.role, 'write');
    const job = await this.row(actor, id);
    const run = this.running.get(job.key);
    if (run) {
      run.stop = 'cancel';
      await run.done;
    } else {
      // Running in another process: its next batch finds the job no longer its own, rolls back and stops.
      const cancelled = await imports.transitionImportJob(
        this.store.scope(actor.organisationId),
        job.key,
        ['queued', 'interrupted', 'running'],
        {
          status: 'cancelled',
          finished_at: Date.now(),
          updated_at: Date.now(),
          lease_owner: null,
          lease_expires_at: null,
        },
      );
      if (cancelled) await this.removeUpload(actor, job);
    }
    return this.get(actor, id);
  }

  /**
   * Continues an interrupted import after its last committed batch. (Imports whose process
   * died are taken over by another without being asked; `interrupted` is what servers before
   * leases left behind.)
   */
  async resume(actor: Actor, id: string): Promise<ImportJob> {
    requirePermission(actor.role, 'write');
    const job = await this.row(actor, id);
    const resumable = await imports.transitionImportJob(
      this.store.scope(actor.organisationId),
      job.key,
      ['interrupted'],
      { status: 'queued', updated_at: Date.now(), ...this.leases.held() },
    );
    if (!resumable)
      throw new DomainError(
        'conflict',
        `Only an interrupted import can be resumed; this one is ${job.status}`,
      );
    this.launch(actor, job.key);
    return this.get(actor, id);
  }

  /** Undoes a finished import as far as nothing else has changed its records since; lists what it could not undo. */
  async rollback(actor: Actor, id: string): Promise<ImportJob> {
    requirePermission(actor.role, 'write');
    const job = await this.row(actor, id);
    if (!['completed', 'cancelled', 'interrupted', 'failed'].includes(job.status))
      throw new DomainError('conflict', `An import that is ${job.status} cannot be rolled back`);
    const author = importAuthor(actor, job.id);
    const report = await rollbackImport(this.store, author, job);
    await this.removeUpload(actor, job);
    await this.store.transaction(author, (scope) =>
      imports.finishImportJob(scope, job.key, 'import.rolled_back', {
        status: report.not_rolled_back.length === 0 ? 'rolled_back' : 'partially_rolled_back',
        rollback_report: JSON.stringify(report),
        updated_at: Date.now(),
      }),
    );
    return this.get(actor, id);
  }

  /** Resolves when the job's current run has ended (for the CLI and tests). */
  async settled(actor: Actor, id: string): Promise<ImportJob> {
    const job = await this.row(actor, id);
    await this.running.get(job.key)?.done;
    return this.get(actor, id);
  }

  /** Runs a job this process holds the lease of, renewing it until the run ends, then giving it up. */
  private launch(actor: Actor, key: number): void {
    const owner = this.leases.owner;
    const state: RunState = { done: Promise.resolve() };
    const heartbeat = this.leases.heartbeat(imports.IMPORT_JOB_LEASES, key, () => (state.stop ??= 'lost'));
    state.done = this.run(actor, key, state)
      .catch(async (error: Error) => {
        if (error instanceof LeaseLost) return;
        const scope = this.store.scope(actor.organisationId);
        const failed = await imports.transitionImportJob(
          scope,
          key,
          ['queued', 'running'],
          { status: 'failed', error: error.message, finished_at: Date.now(), updated_at: Date.now() },
          owner,
        );
        const job = await imports.findImportJobByKey(scope, key);
        if (failed && job) await this.removeUpload(actor, job);
      })
      .finally(async () => {
        heartbeat.stop();
        this.running.delete(key);
        // Nobody awaits a job: a database that cannot even take the lease back must not crash the process.
        await this.leases.release(imports.IMPORT_JOB_LEASES, key).catch(() => undefined);
      });
    this.running.set(key, state);
  }

  private async run(actor: Actor, key: number, state: RunState): Promise<void> {
    const scope = this.store.scope(actor.organisationId);
    const owner = this.leases.owner;
    const now = Date.now();
    const held = await imports.findImportJobByKey(scope, key);
    if (
      !held ||
      !(await imports.transitionImportJob(
        scope,
        key,
        ['queued', 'running'],
        { status: 'running', started_at: held.started_at ?? now, updated_at: now },
        owner,
      ))
    )
      return;
    const job = { ...held, status: 'running' };
    const options = JSON.parse(job.options) as ImportOptions;
    const org = await this.accounts.getOrganisation(actor);
    const ctx: BatchContext = {
      actor,
      author: importAuthor(actor, job.id),
      org: { ...org, default_country: options.default_country ?? org.default_country },
      jobKey: key,
      options,
      groupKeys: options.dry_run ? [] : await this.groupKeys(actor, options, true),
      contacts: this.contacts,
      groups: this.groups,
    };
    const input: PreparationInput = {
      path: job.spool_path!,
      format: options.format,
      org: ctx.org,
      options,
      batchSize: this.settings.batchSize,
      lastRow: job.last_row,
    };
    const thread = this.settings.readingThread;
    const batches = thread ? preparedBatchesOnThread(thread, input) : preparedBatches(input);
    let batchesWritten = 0;
    let next = await batches.next();
    try {
      for (; !next.done && !state.stop; next = await batches.next()) {
        await this.commitBatch(ctx, job, next.value);
        this.rowsCommitted += next.value.read;
        // The import's own lookups plan badly on a table that grew since its statistics were taken:
        // they are taken again each time the import has doubled what it wrote.
        if (isPowerOfTwo(++batchesWritten)) await this.store.refreshStatistics();
      }
    } finally {
      // Left before the file's end (a stop, a failed batch): the reading ends too (its thread stops).
      if (!next.done) await batches.return({ encoding: undefined, hint: undefined });
    }
    // Stopped for a shutdown or a lost lease: the job stays running, for whichever process claims it next.
    if (state.stop === 'shutdown' || state.stop === 'lost') return;
    const cancelled = state.stop === 'cancel';
    // A cancelled import says what the file said as far as it was read.
    const { encoding, hint } = next.done ? next.value : next.value.found;
    await this.store.refreshStatistics();
    const end = Date.now();
    await this.store.transaction(importAuthor(actor, job.id), async (tx) => {
      const ended = await imports.finishImportJob(
        tx,
        key,
        cancelled ? 'import.cancelled' : 'import.completed',
        {
          status: cancelled ? 'cancelled' : 'completed',
          // A cancelled import read as far as its last committed batch, which its progress says.
          ...(cancelled ? {} : { bytes_read: job.bytes }),
          encoding: encoding ? JSON.stringify(encoding) : null,
          country_hint: hint ? JSON.stringify(hint) : null,
          finished_at: end,
          updated_at: end,
        },
        { from: ['running'], leaseOwner: owner },
      );
      if (!ended) throw new LeaseLost();
      if (encoding?.how === 'detected')
        await imports.insertImportWarnings(tx, [encodingWarning(key, encoding)]);
    });
    await this.removeUpload(actor, job);
  }

  /** An upload is kept while its import can resume, and removed once it has ended one way or another. */
  private async removeUpload(actor: Actor, job: ImportJobRow): Promise<void> {
    if (!job.spool_path) return;
    await rm(job.spool_path, { force: true });
    await imports.updateImportJob(this.store.scope(actor.organisationId), job.key, { spool_path: null });
  }

  /** One batch, one transaction, progress included. A dry run does the same work and rolls it back, keeping only the counts. */
  private async commitBatch(ctx: BatchContext, job: ImportJobRow, batch: PreparedBatch): Promise<void> {
    const record = async (
      scope: Parameters<typeof imports.addImportProgress>[0],
      result: Awaited<ReturnType<typeof importBatch>>,
    ) => {
      const counted = await imports.addImportProgress(scope, job.key, {
        counts: { rows_read: batch.read, ...result.counts },
        lastRow: batch.lastRow,
        bytesRead: batch.bytesRead,
        now: Date.now(),
        leaseOwner: this.leases.owner,
      });
      if (!counted) throw new LeaseLost();
      await imports.insertImportErrors(
        scope,
        result.errors.map((e) => ({ ...e, job_key: job.key })),
      );
      await imports.insertImportWarnings(
        scope,
        result.warnings.map((w) => ({ ...w, job_key: job.key })),
      );
    };
    if (!ctx.options.dry_run) {
      await patiently(() =>
        this.store.transaction(ctx.author, async (scope) =>
          record(scope, await importBatch(scope, ctx, batch, Date.now())),
        ),
      );
      return;
    }
    let result: Awaited<ReturnType<typeof importBatch>> | undefined;
    try {
      await this.store.transaction(ctx.author, async (scope) => {
        result = await importBatch(scope, ctx, batch, Date.now());
        throw new DryRun();
      });
    } catch (error) {
      if (!(error instanceof DryRun)) throw error;
    }
    await this.store.transaction(ctx.author, (scope) => record(scope, result!));
  }

  /** The target groups' keys; groups named but missing are created when the import runs (not for a dry run). */
  private async groupKeys(actor: Actor, options: ImportOptions, create: boolean): Promise<number[]> {
    const keys: number[] = [];
    for (const id of options.group_ids) keys.push((await this.groups.get(actor, { id })).key);
    for (const name of options.group_names) {
      const existing = (await this.groups.list(actor, { q: name, limit: 100 })).items.find(
        (g) => g.name === name,
      );
      if (existing) keys.push(existing.key);
      else if (create) keys.push((await this.groups.create(actor, { name })).key);
    }
    return keys;
  }

  private async row(actor: Actor, id: string): Promise<ImportJobRow> {
    const row = isUuid(id)
      ? await imports.findImportJob(this.store.scope(actor.organisationId), id)
      : undefined;
    if (!row) throw notFound('Import');
    return row;
  }
}

const REPORT_PAGE = 1000;

/** A report's rows a page at a time, each page after the last row of the one before. */
async function* pages<T, C>(
  page: (after: C) => Promise<T[]>,
  cursorOf: (last: T) => C,
  first: C,
): AsyncIterable<T> {
  for (let after = first; ;) {
    const rows = await page(after);
    yield* rows;
    if (rows.length < REPORT_PAGE) return;
    after = cursorOf(rows[rows.length - 1]!);
  }
}

const isPowerOfTwo = (n: number) => (n & (n - 1)) === 0;

const tooLarge = (max: number) =>
  new DomainError('payload_too_large', `The file is larger than the import limit of ${max} bytes`);

async function* limitBytes(body: AsyncIterable<Buffer>, max: number): AsyncIterable<Buffer> {
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > max) throw tooLarge(max);
    yield chunk;
  }
}

/** The file-level warning (row 0) of a file whose encoding was guessed. */
const encodingWarning = (jobKey: number, found: EncodingFound) => ({
  job_key: jobKey,
  row_number: 0,
  seq: 0,
  kind: 'encoding_guessed',
  field: 'file',
  value: found.name,
  reason: `the file is not UTF-8 and was read as ${found.name} (confidence ${found.confidence ?? 0}%); if names read wrong, import again with encoding=`,
});

function toJob(row: ImportJobRow, warnings: Record<string, number>): ImportJob {
  const options = JSON.parse(row.options) as ImportOptions;
  const seconds = row.started_at ? ((row.finished_at ?? Date.now()) - row.started_at) / 1000 : 0;
  return {
    id: row.id,
    status: row.status as ImportStatus,
    format: row.format as ImportFormat,
    mode: options.mode,
    dry_run: options.dry_run,
    bytes: row.bytes,
    rows_read: row.rows_read,
    created: row.created,
    updated: row.updated,
    unchanged: row.unchanged,
    skipped: row.skipped,
    skipped_in_file: row.skipped_in_file,
    failed: row.failed,
    warnings,
    encoding: row.encoding ? JSON.parse(row.encoding) : null,
    country_hint: row.country_hint ? JSON.parse(row.country_hint) : null,
    percent:
      row.status === 'completed'
        ? 100
        : row.bytes > 0
          ? Math.min(99, Math.floor((row.bytes_read / row.bytes) * 100))
          : 0,
    rows_per_second: seconds > 0 ? Math.round(row.rows_read / seconds) : null,
    error: row.error,
    rollback: row.rollback_report ? JSON.parse(row.rollback_report) : null,
    created_at: iso(row.created_at),
    started_at: isoOrNull(row.started_at),
    finished_at: isoOrNull(row.finished_at),
  };
}

/**
 * An import writes as itself: its changes name the import (and the user who started it), under
 * the surface `import`, so webhooks get its one summary rather than an event a contact.
 */
export const importAuthor = (actor: Actor, importId: string): ChangeAuthor => ({
  organisationId: actor.organisationId,
  userId: actor.userId,
  credential: 'import',
  credentialId: importId,
  surface: 'import',
});
