// The run's table, its targets (issue 8) met or missed, and the JSON written to bench/results/.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const mb = (bytes) => Math.round(bytes / 2 ** 20);

/** One row per scenario from its rounds: medians of rate and latencies, all errors, the highest memory. */
export function summarise(scenario, rounds, limitRps) {
  const rps = median(rounds.map((r) => r.rps));
  return {
    name: scenario.name,
    title: scenario.title,
    kind: scenario.kind,
    detail: rounds[0].detail,
    rounds: rounds.length,
    rps: Math.round(rps),
    ratio: limitRps ? rps / limitRps : null,
    p50: median(rounds.map((r) => r.p50)),
    p99: median(rounds.map((r) => r.p99)),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    cpuMsPerRequest: rounds.every((r) => r.cpuMsPerRequest !== null)
      ? +median(rounds.map((r) => r.cpuMsPerRequest)).toFixed(3)
      : null,
    statuses: rounds.map((r) => r.statuses),
    bytesPerResponse: rounds[0].bytesPerResponse,
    peakRssMb: mb(Math.max(...rounds.map((r) => r.peakRss))),
  };
}

const pad = (value, width, right = false) =>
  right ? String(value).padEnd(width) : String(value).padStart(width);

const percent = (ratio) => (ratio === null || ratio === undefined ? '' : `${Math.round(ratio * 100)}%`);

export function table(rows) {
  const header = `${pad('scenario', 44, true)} ${pad('req/s', 8)} ${pad('limit', 6)} ${pad('floor', 6)} ${pad('p50 ms', 7)} ${pad('p99 ms', 7)} ${pad('errors', 7)} ${pad('RSS MB', 7)} ${pad('CPU ms', 7)}  detail`;
  const lines = rows.map(
    (r) =>
      `${pad(r.title, 44, true)} ${pad(r.rps, 8)} ${pad(percent(r.ratio), 6)} ${pad(percent(r.floorRatio), 6)} ${pad(r.p50, 7)} ${pad(r.p99, 7)} ${pad(r.errors, 7)} ${pad(r.peakRssMb, 7)} ${pad(r.cpuMsPerRequest?.toFixed(2) ?? '', 7)}  ${r.detail ?? ''}`,
  );
  return [header, '-'.repeat(header.length), ...lines].join('\n');
}

/**
 * The issues' targets, each checked against this run (2 cores, SQLite, 64 connections). Where the
 * read floor ran (SQLite), by-id and page rates are held to it (issue 21), else to the limit (issue 8).
 */
export function targets(section, { connections, rounds = [] }) {
  const row = Object.fromEntries(section.rows.map((r) => [r.name, r]));
  const valid = (...names) => names.every((n) => row[n] && row[n].errors === 0 && row[n].rps > 0);
  const checks = [];
  const check = (label, ok, figure, names) =>
    checks.push({
      label,
      ok: valid(...names) ? ok : false,
      figure: valid(...names) ? figure : 'errors or no responses: not a valid figure',
    });
  const pct = (r) => `${Math.round(r.ratio * 100)}%`;
  if (row['get-api-key']?.floorRatio !== undefined)
    check(
      'GET by id, API key >= 60% of its floor',
      row['get-api-key'].floorRatio >= 0.6,
      percent(row['get-api-key'].floorRatio),
      ['get-api-key', 'floor-get-api-key'],
    );
  else if (row['get-api-key'])
    check('GET by id, API key >= 50% of limit', row['get-api-key'].ratio >= 0.5, pct(row['get-api-key']), [
      'get-api-key',
    ]);
  if (row['get-basic'])
    check('GET by id, Basic >= 45% of limit', row['get-basic'].ratio >= 0.45, pct(row['get-basic']), [
      'get-basic',
    ]);
  const reads = section.rows.filter((r) => r.kind === 'read' && r.name !== 'limit');
  const slow = reads.filter((r) => r.p99 >= 10);
  check(
    'p99 < 10 ms for every read',
    slow.length === 0,
    slow.length ? `over: ${slow.map((r) => `${r.name} ${r.p99} ms`).join(', ')}` : 'all under',
    reads.map((r) => r.name),
  );
  if (rounds.length) {
    // Little's law: at `connections` in flight, the mean latency is connections / rate.
    const within = rounds.filter((r) => r.rps > 0 && r.p99 < (4 * connections * 1000) / r.rps).length;
    const needed = Math.ceil((rounds.length * 3) / 5);
    check(
      `by-id p99 < 4x the mean the rate implies, in ${needed} of ${rounds.length} rounds`,
      within >= needed,
      rounds.map((r) => `${r.p99} ms / ${((connections * 1000) / r.rps).toFixed(1)} ms`).join(', '),
      ['get-api-key'],
    );
  }
  for (const name of ['group-page-big', 'group-page-typical', 'list-first-page'])
    if (row[name]?.floorRatio !== undefined)
      check(
        `${row[name].title} >= 60% of its floor`,
        row[name].floorRatio >= 0.6,
        percent(row[name].floorRatio),
        [name, `floor-${name}`],
      );
  for (const name of ['group-page-big', 'group-page-typical'])
    if (row[name] && row[name].floorRatio === undefined)
      check(
        `first group page (${row[name].detail}) >= 25% of limit`,
        row[name].ratio >= 0.25,
        pct(row[name]),
        [name],
      );
  if (row['list-deep-cursor'] && row['list-first-page']) {
    const ratio = row['list-deep-cursor'].rps / row['list-first-page'].rps;
    check(
      'deep cursor page within 20% of the first page',
      ratio >= 0.8,
      `${Math.round(ratio * 100)}% of the first page's rate`,
      ['list-deep-cursor', 'list-first-page'],
    );
  }
  if (row['q-search'])
    check('q search p99 < 20 ms', row['q-search'].p99 < 20, `${row['q-search'].p99} ms`, ['q-search']);
  for (const name of ['post-contact', 'patch-contact'])
    if (row[name])
      check(
        `${row[name].title} >= 3,000/s (${section.durability.split(':')[0]})`,
        row[name].rps >= 3000,
        `${row[name].rps}/s`,
        [name],
      );
  checks.push({
    label: 'server memory < 150 MB through the run',
    ok: section.peakRssMb < 150,
    figure: `${section.peakRssMb} MB peak`,
  });
  checks.push({
    label: 'cold start to serving < 1 s',
    ok: section.coldStartMs < 1000,
    figure: `${Math.round(section.coldStartMs)} ms`,
  });
  return checks;
}

export function printSection(section, log) {
  log(`\n== ${section.database}: ${section.dataset}`);
  log(`   ${section.durability}`);
  log(
    `   cold start to first /readyz: ${Math.round(section.coldStartMs)} ms; server peak RSS over the run: ${section.peakRssMb} MB`,
  );
  if (section.memory) {
    const { atStart, atHighest } = section.memory;
    const parts = ({ rssMb, heapUsedMb, spacesMb, parts: p }) =>
      `${rssMb} MB: node binary ${p.node}, other files ${p.files}, malloc heap ${p.mallocHeap}, thread arenas ${p.threadArenas}, other anonymous ${p.otherAnonymous} (V8 heap ${Object.values(spacesMb).reduce((a, b) => a + b, 0)} MB, ${heapUsedMb} live; new ${spacesMb.new}, old ${spacesMb.old})`;
    log(`   memory after start ${parts(atStart)}`);
    log(`   memory at its highest ${parts(atHighest)}; samples in ${section.memory.file}`);
  }
  log(table(section.rows));
  log('\ntargets:');
  for (const t of section.targets) log(`  ${t.ok ? 'met   ' : 'MISSED'} ${t.label}: ${t.figure}`);
}

/** The section as Markdown, for docs/performance.md. */
function markdown(section) {
  const lines = [
    `| ${section.database} | req/s | of limit | of floor | p50 ms | p99 ms | errors | server CPU ms/req | peak RSS MB |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...section.rows.map(
      (r) =>
        `| ${r.title}${r.detail ? ` (${r.detail})` : ''} | ${r.rps} | ${percent(r.ratio)} | ${percent(r.floorRatio)} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.cpuMsPerRequest?.toFixed(3) ?? ''} | ${r.peakRssMb} |`,
    ),
    '',
    ...section.targets.map((t) => `- ${t.ok ? 'met' : '**missed**'}: ${t.label}: ${t.figure}`),
  ];
  return lines.join('\n');
}

export function writeResults(dir, run) {
  const file = join(dir, `http-${run.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(run, null, 2));
  writeFileSync(file.replace(/\.json$/, '.md'), run.sections.map(markdown).join('\n\n') + '\n');
  return file;
}
