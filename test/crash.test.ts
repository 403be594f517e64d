import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImportCrashTest } from './support/crash-imports.js';
import { crashRounds, synchronousAfter } from './support/crash-run.js';
import { crashTarget, type CrashTarget } from './support/crash-target.js';
import { WriteCrashTest } from './support/crash-writes.js';
import { dialects } from './support/databases.js';

/**
 * kill -9 against the real server (bin/roster.js, built into dist/). The CI form runs a few
 * rounds; `npm run test:crash` runs the full form (see docs/security.md, "Durability").
 */
const full = process.env.CRASH_FULL === '1';
const setting = (name: string, ci: number, fullForm: number) =>
  Number(process.env[name] ?? (full ? fullForm : ci));
const rounds = setting('CRASH_ROUNDS', 3, 30);
const clients = setting('CRASH_CLIENTS', 6, 8);
const importRows = setting('CRASH_IMPORT_ROWS', 6_000, 50_000);
const importBatch = setting('CRASH_IMPORT_BATCH', 100, 100);
const minRoundMs = setting('CRASH_MIN_ROUND_MS', 500, 500);
const maxRoundMs = setting('CRASH_MAX_ROUND_MS', 2000, 3000);
const minWrites = setting('CRASH_MIN_WRITES', 40, 100);

describe.each(dialects)('kill -9 on %s', (dialect) => {
  let target: CrashTarget;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'roster-crash-csv-'));
    target = await crashTarget(dialect, { ROSTER_IMPORT_BATCH: String(importBatch) });
  });
  afterAll(async () => {
    await target?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('states its durability setting and what it guarantees in the "database ready" line', () => {
    expect(String(target.server.readyLines[0]?.durability)).toMatch(
      dialect === 'sqlite'
        ? /synchronous=NORMAL: every acknowledged write survives a process crash \(kill -9\)/
        : /^PostgreSQL fsync=\w+, synchronous_commit=\w+: (every acknowledged write is on disk|the last acknowledged writes may be lost)/,
    );
  });

  it(
    'loses no acknowledged write, half-writes nothing and leaves no partial import batch, kill after kill',
    async () => {
      const writes = await WriteCrashTest.create(target, clients);
      const imports = await ImportCrashTest.start(target, { rows: importRows, batch: importBatch, dir });
      await crashRounds(target, writes, imports, { rounds, minRoundMs, maxRoundMs, minWrites });
      const w = writes.figures;
      const i = imports.figures;
      const integrity = dialect === 'sqlite' ? target.integrity.join(',') : 'n/a (PostgreSQL)';
      console.log(
        [
          `[crash:${dialect}] ${target.kills} kill -9 rounds; integrity_check + foreign_key_check after each: ${integrity}`,
          `  writes: ${w.clients} clients, ${w.acknowledged} acknowledged writes checked ${JSON.stringify(w.byKind)}, ` +
            `${w.unanswered} unanswered (${w.unansweredCommitted} of them committed), ` +
            `lost acknowledged writes: ${w.lost}, half-written: ${w.partial}, 5xx: ${w.serverErrors}`,
          `  import: ${i.rows} rows in batches of ${i.batch}, killed ${i.kills} times (running and resumed), ` +
            `not resumable: ${i.notInterrupted}, partial batches: ${i.partialBatches}, ` +
            `rows imported twice: ${i.duplicates}, rows missing: ${i.missing}, ${i.created} contacts created`,
        ].join('\n'),
      );
      expect([...w.problems, ...i.problems]).toEqual([]);
      expect(w.serverErrors).toBe(0);
      expect(w.acknowledged).toBeGreaterThan(0);
      expect(i.kills).toBeGreaterThan(0);
      expect(target.integrity.filter((r) => r !== 'ok')).toEqual([]);
      if (dialect === 'sqlite')
        expect(
          target.server.readyLines.map((l) => /synchronous=(\w+)/.exec(String(l.durability))?.[1]),
        ).toEqual(
          target.server.readyLines.map((_, start) => (start === 0 ? 'NORMAL' : synchronousAfter(start - 1))),
        );
    },
    rounds * 60_000 + importRows * 2,
  );
});
