import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { DomainError } from '../domain/errors.js';
import { formatOf } from '../domain/formats/index.js';
import type { ExportFormat } from '../domain/formats/writers.js';
import type { Services } from '../services/index.js';
import type { ImportJob } from '../services/imports/jobs.js';

export interface TransferIo {
  /** Data for standard output, written as is; a promise when the reader must catch up first. */
  write: (chunk: string) => void | Promise<void>;
  /** Progress for a person: a line that redraws itself on a terminal. */
  progress: (line: string, final: boolean) => void;
}

type Flags = Record<string, string | boolean | string[] | undefined>;

const list = (value: string | boolean | string[] | undefined) =>
  Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];

function describe(job: ImportJob, startedAt: number): string {
  const seconds = (Date.now() - startedAt) / 1000;
  const rate = seconds > 0 ? Math.round(job.rows_read / seconds) : 0;
  const eta =
    job.percent > 0 && job.percent < 100 ? Math.round((seconds * (100 - job.percent)) / job.percent) : 0;
  const bar = '#'.repeat(Math.floor(job.percent / 5)).padEnd(20, '.');
  return `[${bar}] ${job.percent}% ${job.rows_read} rows, ${rate} rows/s${eta ? `, ETA ${eta}s` : ''} (created ${job.created}, updated ${job.updated}, unchanged ${job.unchanged}, skipped ${job.skipped}, failed ${job.failed})`;
}

/** `roster import FILE --org ORG_ID [--group NAME ...] [--mode M] [--country CC] [--dry-run]` */
export async function importFile(
  services: Services,
  file: string,
  flags: Flags,
  io: TransferIo,
): Promise<ImportJob> {
  const org = flags.org;
  if (typeof org !== 'string') throw new DomainError('validation', '--org is required');
  const format = (typeof flags.format === 'string' ? flags.format : formatOf(undefined, file)) as
    ImportJob['format'] | undefined;
  if (format !== 'csv' && format !== 'vcf' && format !== 'jsonl')
    throw new DomainError('validation', 'name a .csv, .vcf or .jsonl file, or say --format');
  const size = (await stat(file).catch(() => undefined))?.size;
  if (size === undefined) throw new DomainError('validation', `cannot read ${file}`);
  const actor = await services.accounts.operatorActor(org);
  const mode = typeof flags.mode === 'string' ? flags.mode : 'upsert';
  if (mode !== 'create' && mode !== 'upsert' && mode !== 'skip')
    throw new DomainError('validation', '--mode must be create, upsert or skip');
  const started = Date.now();
  const job = await services.imports.start(
    actor,
    createReadStream(file),
    {
      format,
      mode,
      match: 'phone_email',
      external_key: 'import',
      group_ids: [],
      group_names: list(flags.group),
      default_country: typeof flags.country === 'string' ? flags.country : undefined,
      dry_run: flags['dry-run'] === true,
      fields: {},
      unmapped: 'custom',
    },
    size,
  );
  const timer = setInterval(() => {
    services.imports.get(actor, job.id).then(
      (j) => io.progress(describe(j, started), false),
      () => {},
    );
  }, 500);
  try {
    const done = await services.imports.settled(actor, job.id);
    io.progress(describe(done, started), true);
    return done;
  } finally {
    clearInterval(timer);
  }
}

/** `roster export --org ORG_ID [--format csv|vcf|jsonl] [--group GROUP_ID] [--bom]` to standard output. */
export async function exportContacts(services: Services, flags: Flags, io: TransferIo): Promise<number> {
  const org = flags.org;
  if (typeof org !== 'string') throw new DomainError('validation', '--org is required');
  const format = (typeof flags.format === 'string' ? flags.format : 'csv') as ExportFormat;
  if (!['csv', 'vcf', 'jsonl'].includes(format))
    throw new DomainError('validation', '--format must be csv, vcf or jsonl');
  const actor = await services.accounts.operatorActor(org);
  const group = list(flags.group)[0];
  let count = 0;
  for await (const chunk of services.contacts.export(actor, {
    group_id: group,
    format,
    bom: flags.bom === true,
  })) {
    await io.write(chunk.text);
    count += chunk.contacts;
  }
  return count;
}
