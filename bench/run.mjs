// npm run bench: every hot HTTP path of Roster under load, against a bare node:http server on the
// same machine. SQLite always; PostgreSQL too when BENCH_DATABASE_URL is set. See docs/performance.md.
//
// Environment: BENCH_CONTACTS (1000000), BENCH_GROUPS (contacts / 100), BENCH_DURATION (10 s),
// BENCH_WARMUP (2 s), BENCH_CONNECTIONS (64), BENCH_ROUNDS (1; medians when more),
// BENCH_SCENARIOS (comma-separated names, default all), BENCH_PROFILE=1 (server --cpu-prof),
// BENCH_MEMORY=1 (the server's memory sampled by bench/lib/memory-probe.cjs into bench/results/),
// BENCH_SQLITE_SYNCHRONOUS (NORMAL), BENCH_DATABASE_URL (postgres://...), BENCH_SQLITE=0 (PostgreSQL only).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../dist/db/store.js';
import { encodeCursor } from '../dist/services/cursor.js';
import { datasetSize, postgresDataset, sqliteDataset } from './lib/dataset.mjs';
import { cpuTicks, jsonLines, pinning, ROOT, sampleRss, startNode, waitUntilIdle } from './lib/processes.mjs';
import { median, printSection, summarise, targets, writeResults } from './lib/report.mjs';
import { SCENARIOS } from './lib/scenarios.mjs';
import { runDirectory } from './lib/scratch.mjs';
import { checkDataset, SERVER_ENV, START_FLAGS, startFloor, startLimit, startRoster } from './lib/server.mjs';

const env = process.env;
const options = {
  duration: Number(env.BENCH_DURATION ?? 10),
  warmup: Number(env.BENCH_WARMUP ?? 2),
  connections: Number(env.BENCH_CONNECTIONS ?? 64),
  rounds: Number(env.BENCH_ROUNDS ?? 1),
  profile: env.BENCH_PROFILE === '1',
  memory: env.BENCH_MEMORY === '1',
};
const wanted = env.BENCH_SCENARIOS?.split(',');
const BASELINES = new Set(['limit', 'framework']);
const scenarios = SCENARIOS.filter(
  (s) => BASELINES.has(s.name) || !wanted || wanted.includes(s.name) || wanted.includes(s.floorOf),
);
const resultsDir = join(ROOT, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const runDir = runDirectory(resultsDir);
const log = (line) => console.log(line);

/** Cursors at 50-95% of the organisation's contacts by name, made by the service's own encoder. */
async function deepCursors(url, org) {
  const store = openStore({ url });
  const cursors = [];
  for (let depth = 0.5; depth < 0.96; depth += 0.05) {
    const row = await store.db
      .selectFrom('contacts')
      .select(['sort_name', 'key'])
      .where('organisation_id', '=', org.id)
      .where('deleted_at', 'is', null)
      .orderBy('sort_name')
      .orderBy('key')
      .offset(Math.floor(org.contacts * depth))
      .limit(1)
      .executeTakeFirstOrThrow();
    cursors.push(encodeCursor({ sort: 'name', value: row.sort_name, key: row.key }));
  }
  const durability = await store.durability();
  await store.close();
  return { cursors, durability };
}

/** Runs one scenario's load process; charges the target the CPU time it spent in the measured run. */
async function runScenario(scenario, target, job, tracked) {
  const load = startNode(
    ['bench/lib/load.mjs', JSON.stringify({ ...job, scenario: scenario.name, url: target.url })],
    {
      cpu: job.pin.pinned ? job.pin.load : undefined,
    },
  );
  const rss = sampleRss(target.child.pid);
  const lines = jsonLines(load);
  let ticks;
  let result;
  for await (const line of lines) {
    if (line.measuring) ticks = cpuTicks(target.child.pid);
    else
      result = {
        ...line,
        cpuMsPerRequest: line.requests ? ((cpuTicks(target.child.pid) - ticks) * 10) / line.requests : null,
      };
  }
  // A scenario that could not run is a row with an error, not the end of the run.
  result ??= { requests: 0, rps: 0, p50: 0, p99: 0, errors: 1, statuses: {}, cpuMsPerRequest: null };
  await waitUntilIdle(target.child.pid);
  const peakRss = rss.stop();
  if (tracked) tracked.peak = Math.max(tracked.peak, peakRss);
  return { ...result, peakRss };
}

/** Measures one database, then drops the run's copy of it (PostgreSQL), whatever happened. */
async function runDatabase(database, dataset, pin) {
  try {
    return await measureDatabase(database, dataset, pin);
  } finally {
    await dataset.drop?.();
  }
}

/** What the server's memory was made of after start and at its highest sample, from the probe's file. */
function memoryParts(file) {
  const samples = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    .filter((sample) => sample.parts);
  const highest = samples.reduce((a, b) => (b.rssMb > a.rssMb ? b : a));
  const view = ({ rssMb, heapUsedMb, spacesMb, parts }) => ({ rssMb, heapUsedMb, spacesMb, parts });
  return { file, atStart: view(samples[0]), atHighest: view(highest) };
}

async function measureDatabase(database, dataset, pin) {
  const { url, ownerUrl, meta } = dataset;
  const org = meta.largest;
  // Read as the owner: the serving role sees contacts only under an organisation's tenant.
  const { cursors, durability } = await deepCursors(ownerUrl ?? url, org);
  const memoryFile = options.memory
    ? join(resultsDir, `memory-${startedAt.replace(/[:.]/g, '-')}-${database}.jsonl`)
    : undefined;
  const server = await startRoster({
    databaseUrl: url,
    ownerUrl,
    cpu: pin.pinned ? pin.server : undefined,
    resultsDir,
    runDir,
    profile: options.profile,
    memoryFile,
  });
  const { contactBody } = await checkDataset(server.url, org);
  const limit = await startLimit({ body: contactBody, cpu: pin.pinned ? pin.server : undefined });
  const framework = await startLimit({
    body: contactBody,
    cpu: pin.pinned ? pin.server : undefined,
    framework: 'fastify',
  });
  // The read floor is node:http over better-sqlite3: on PostgreSQL its rows are left out.
  const floor = url.startsWith('sqlite:')
    ? await startFloor({ file: url.slice('sqlite:'.length), cpu: pin.pinned ? pin.server : undefined })
    : undefined;
  const targetOf = { limit, framework, floor };
  const measured = scenarios.filter((s) => s.server !== 'floor' || floor);
  const metaFile = join(runDir, `meta-${database}.json`);
  writeFileSync(metaFile, JSON.stringify({ largest: org }));
  const job = { ...options, metaFile, deepCursors: cursors, pin };
  const tracked = { peak: server.memory().peak };
  const rounds = new Map(measured.map((s) => [s.name, []]));
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const scenario of measured) {
        const baseline = targetOf[scenario.server ?? scenario.name];
        const result = await runScenario(
          scenario,
          baseline ?? server,
          { ...job, round },
          baseline ? undefined : tracked,
        );
        rounds
          .get(scenario.name)
          .push({ ...result, detail: scenario.detail?.({ org, deepCursors: cursors }) });
        log(
          `  ${database} round ${round + 1} ${scenario.name}: ${Math.round(result.rps)} req/s, p99 ${result.p99} ms, errors ${result.errors}`,
        );
      }
    }
  } finally {
    tracked.peak = Math.max(tracked.peak, server.memory().peak);
    await limit.stop();
    await framework.stop();
    await floor?.stop();
    await server.stop();
  }
  const limitRps = median(rounds.get('limit').map((r) => r.rps));
  const rows = measured.map((s) => summarise(s, rounds.get(s.name), limitRps));
  // Each round's ratio to the floor run beside it, then their median: a machine slowed for a
  // while slows a round's pair together, where the median rates would pair a slow round with a fast one.
  for (const row of rows) {
    const floorOf = measured.find((s) => s.floorOf === row.name);
    if (!floorOf) continue;
    const theirs = rounds.get(floorOf.name);
    row.floorRatio = median(rounds.get(row.name).map((r, i) => r.rps / theirs[i].rps));
  }
  const section = {
    database,
    dataset: `${org.contacts} contacts, ${org.groups} groups, ${org.memberships} memberships in the largest of 10 organisations (${dataset.cached ? 'cached' : `built in ${Math.round(dataset.buildSeconds)} s`})`,
    durability,
    coldStartMs: server.coldStartMs,
    peakRssMb: Math.round(tracked.peak / 2 ** 20),
    contactBytes: Buffer.byteLength(contactBody),
    rows,
    ...(memoryFile && { memory: memoryParts(memoryFile) }),
  };
  section.targets = targets(section, { connections: options.connections, rounds: rounds.get('get-api-key') });
  return section;
}

const pin = pinning();
const startedAt = new Date().toISOString();
const load = loadavg();
log(`Roster HTTP benchmark, ${startedAt}; node ${process.version}; ${cpus().length} x ${cpus()[0]?.model}`);
log(`load average at start ${load.map((l) => l.toFixed(2)).join(' ')}; ${pin.note}`);
log(
  `${options.connections} connections, ${options.warmup} s warm-up + ${options.duration} s per scenario, ${options.rounds} round(s)${options.rounds > 1 ? ' (medians)' : ''}`,
);
log(
  `server: node ${START_FLAGS.join(' ')} (as npm start), rate limiting off (ROSTER_RATE_LIMIT=${SERVER_ENV.ROSTER_RATE_LIMIT}), LOG_LEVEL=${SERVER_ENV.LOG_LEVEL}${options.profile ? ', --cpu-prof into bench/results/profiles' : ''}`,
);
log(`dataset: ${JSON.stringify(datasetSize())}`);

const sections = [];
if (env.BENCH_SQLITE !== '0') {
  sections.push(await runDatabase('sqlite', await sqliteDataset(resultsDir, runDir, log), pin));
  printSection(sections.at(-1), log);
}
if (env.BENCH_DATABASE_URL) {
  const dataset = await postgresDataset(env.BENCH_DATABASE_URL, resultsDir, log);
  sections.push(await runDatabase('postgres', dataset, pin));
  printSection(sections.at(-1), log);
}
const file = writeResults(resultsDir, {
  startedAt,
  finishedAt: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  loadAverage: { start: load, end: loadavg() },
  pinning: pin.note,
  options,
  server: SERVER_ENV,
  sections,
});
log(
  `\nload average at end ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}; results: ${file}`,
);
