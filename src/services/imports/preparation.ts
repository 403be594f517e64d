import { createReadStream, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CountryHintSampler, type CountryHint } from '../../domain/country-hint.js';
import { DomainError } from '../../domain/errors.js';
import { GROUP_NAME_MAX } from '../../domain/group.js';
import type { EncodingFound } from '../../domain/formats/encoding.js';
import {
  readContacts,
  type ImportedContact,
  type ImportFormat,
  type ReadRow,
} from '../../domain/formats/index.js';
import type { ContactInput } from '../../domain/contact.js';
import type { Organisation } from '../../domain/records.js';
import type { FieldWarning } from '../../domain/warnings.js';
import { numbersOf, type ContactFields } from '../../db/repositories/contact-codec.js';
import { settleFields } from '../contact-reading.js';
import type { ImportOptions } from './options.js';

/*
 * An import's first half, which needs no database: its file read, each row mapped and settled
 * into contact fields (numbers read, text checked), a batch at a time. It runs on a thread of its
 * own while the main thread matches and writes the batches before (jobs.ts), so both cores work.
 */

/** A row read and settled into contact fields, ready to be matched and written. */
export interface ReadyRow {
  row: number;
  input: ContactInput;
  fields: ContactFields;
  /** The groups the row names (its group columns, vCard CATEGORIES). */
  groups: string[];
}

export interface RowError {
  row_number: number;
  reason: string;
  raw: string;
}

export type RowWarning = FieldWarning & { row_number: number; seq: number };

/** A batch of the file's rows, settled: those ready to write, and those that failed with why. */
export interface PreparedBatch {
  /** How many rows of the file the batch holds, and the number of its last. */
  read: number;
  lastRow: number;
  /** How much of the file was read once the batch was: the job's progress. */
  bytesRead: number;
  ready: ReadyRow[];
  errors: RowError[];
  warnings: RowWarning[];
  /** What the file has said so far: its encoding, and the country hint once its sample is complete. */
  found: PreparationEnd;
}

/** What the whole file said, once read: how it was decoded, and which country its numbers suggest. */
export interface PreparationEnd {
  encoding: EncodingFound | undefined;
  hint: CountryHint | undefined;
}

/** What reading an import's file needs: plain data, so that another thread can be given it. */
export interface PreparationInput {
  path: string;
  format: ImportFormat;
  /** The organisation, its country replaced by the import's when one is given. */
  org: Organisation;
  options: ImportOptions;
  batchSize: number;
  /** The last row an earlier run committed: rows up to it are read again, not prepared. */
  lastRow: number;
}

function toInput(row: ImportedContact, externalKey: string): ContactInput {
  const { external_id, groups: _groups, ...input } = row;
  return external_id
    ? { ...input, external_ids: { ...input.external_ids, [externalKey]: external_id } }
    : input;
}

/** Why a group name a row gives cannot name a group, if it cannot. */
const groupNameProblem = (name: string) =>
  name.length > GROUP_NAME_MAX
    ? `must be at most ${GROUP_NAME_MAX} characters`
    : name.includes('\0')
      ? 'must not contain a NUL character'
      : undefined;

/** A name, a company, a number read or an email: a number kept unread alone identifies nobody. */
const identifies = (f: ContactFields) =>
  numbersOf(f).length > 0 || f.email !== null || (f.display_name !== '' && f.display_name !== f.phone_raw);

/**
 * Turns rows into contact fields. A field that cannot be read is kept raw or left out, with a
 * warning; a row fails only when it cannot be read at all or holds nothing that identifies a
 * person (no name, number or email left).
 */
export function prepareRows(
  org: Organisation,
  options: ImportOptions,
  rows: ReadRow[],
): Pick<PreparedBatch, 'ready' | 'errors' | 'warnings'> {
  const prepared: Pick<PreparedBatch, 'ready' | 'errors' | 'warnings'> = {
    ready: [],
    errors: [],
    warnings: [],
  };
  for (const r of rows) {
    const failRow = (reason: string) => prepared.errors.push({ row_number: r.row, reason, raw: r.raw });
    if ('error' in r) {
      failRow(r.error);
      continue;
    }
    const warnings: FieldWarning[] = [...(r.warnings ?? [])];
    const input = toInput(r.contact, options.external_key);
    let fields: ContactFields;
    try {
      fields = settleFields(org, input, { onWarning: (w) => warnings.push(w) });
    } catch (error) {
      if (!(error instanceof DomainError) || error.code !== 'validation') throw error;
      failRow(error.message);
      continue;
    }
    if (!identifies(fields)) {
      const unread = warnings.map((w) => `${w.field}: ${w.reason}`).join('; ');
      failRow(`the row has no name, phone or email${unread ? ` it could read (${unread})` : ''}`);
      continue;
    }
    const groups = (r.contact.groups ?? []).filter((name) => {
      const problem = groupNameProblem(name);
      if (problem)
        warnings.push({
          kind: 'field_invalid',
          field: 'groups',
          value: name,
          reason: `${problem}; left out`,
        });
      return !problem;
    });
    warnings.forEach((w, seq) => prepared.warnings.push({ ...w, row_number: r.row, seq }));
    prepared.ready.push({ row: r.row, input, fields, groups });
  }
  return prepared;
}

async function* countBytes(body: AsyncIterable<Buffer>, count: (n: number) => void): AsyncIterable<Buffer> {
  for await (const chunk of body) {
    count(chunk.length);
    yield chunk;
  }
}

/**
 * A batch ends at this much text of the file as well as at its number of rows: rows of long notes
 * make smaller batches, so that what a batch holds, and the reading thread's heap, stay bounded.
 */
const BATCH_TEXT_MAX = 2 * 1024 * 1024;

/** An import's file read and prepared a batch at a time, on the calling thread. */
export async function* preparedBatches(
  input: PreparationInput,
): AsyncGenerator<PreparedBatch, PreparationEnd> {
  const { org, options } = input;
  let bytesRead = 0;
  const source = countBytes(createReadStream(input.path), (n) => (bytesRead += n));
  const countries = new CountryHintSampler(org.default_country);
  let encoding: EncodingFound | undefined;
  let rows: ReadRow[] = [];
  let text = 0;
  // The hint costs a reading of its sample in every country: made once, when the sample is complete.
  let hint: { of: CountryHint | undefined } | undefined;
  const found = (): PreparationEnd => {
    if (!hint && countries.complete) hint = { of: countries.hint() };
    return { encoding, hint: hint?.of };
  };
  const batch = (): PreparedBatch => ({
    read: rows.length,
    lastRow: rows[rows.length - 1]!.row,
    bytesRead,
    ...prepareRows(org, options, rows),
    found: found(),
  });
  for await (const row of readContacts(source, input.format, {
    mapping: options.mapping,
    unmapped: options.unmapped,
    encoding: options.encoding,
    onEncoding: (decoded) => (encoding = decoded),
  })) {
    if ('contact' in row) countries.add(row.contact.phone ?? row.contact.phones?.[0]?.number);
    if (row.row <= input.lastRow) continue;
    rows.push(row);
    text += row.raw.length;
    if (rows.length >= input.batchSize || text >= BATCH_TEXT_MAX) {
      yield batch();
      rows = [];
      text = 0;
    }
  }
  if (rows.length > 0) yield batch();
  return { encoding, hint: hint ? hint.of : countries.hint() };
}

/** What the reading thread posts: a batch, the end of the file, or why it stopped. */
export type ThreadMessage = { batch: PreparedBatch } | { end: PreparationEnd } | { error: string };

/** The reading thread's script, compiled beside this module (none when running from sources). */
const THREAD_SCRIPT = new URL('./preparation-thread.js', import.meta.url);
export const defaultReadingThread = (): URL | null =>
  existsSync(fileURLToPath(THREAD_SCRIPT)) ? THREAD_SCRIPT : null;

/**
 * The same batches, prepared on a thread of its own (`script`, preparation-thread.ts) a batch or
 * two ahead of the caller; leaving the loop early stops the thread.
 */
export async function* preparedBatchesOnThread(
  script: URL,
  input: PreparationInput,
): AsyncGenerator<PreparedBatch, PreparationEnd> {
  // Held small: with V8's default limits the thread's heap grew by some 100 MB it did not need.
  const worker = new Worker(script, {
    workerData: input,
    resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 128 },
  });
  const inbox: ThreadMessage[] = [];
  let wake: (() => void) | undefined;
  const receive = (message: ThreadMessage) => {
    inbox.push(message);
    wake?.();
  };
  worker.on('message', receive);
  worker.on('error', (error) => receive({ error: error.message }));
  worker.on('exit', (code) => receive({ error: `the import's reading thread stopped (exit code ${code})` }));
  try {
    for (;;) {
      while (inbox.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const message = inbox.shift()!;
      if ('error' in message) throw new Error(message.error);
      if ('end' in message) return message.end;
      worker.postMessage('next');
      yield message.batch;
    }
  } finally {
    worker.removeAllListeners();
    await worker.terminate();
  }
}
