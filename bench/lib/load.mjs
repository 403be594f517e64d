// The load generator, a process of its own: runs one scenario with autocannon (a warm-up, then the
// measured run) and prints its figures as one JSON line. Usage: node bench/lib/load.mjs '<job JSON>'
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { SCENARIOS } from './scenarios.mjs';

const job = JSON.parse(process.argv[2]);
const scenario = SCENARIOS.find((s) => s.name === job.scenario);
const { largest: org } = JSON.parse(readFileSync(job.metaFile, 'utf8'));
const context = { ...job, org, base: job.url };
const requests = await scenario.prepare(context);

const run = (duration) =>
  autocannon({ url: job.url, connections: job.connections, duration, requests, timeout: 30 });

if (job.warmup > 0) await run(job.warmup);
console.log(JSON.stringify({ measuring: true }));
const result = await run(job.duration);
const statuses = Object.fromEntries(
  Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]),
);
console.log(
  JSON.stringify({
    requests: result.requests.total,
    seconds: result.duration,
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors + result.timeouts + result.non2xx + result.mismatches,
    statuses,
    bytesPerResponse: result.requests.total ? Math.round(result.throughput.total / result.requests.total) : 0,
  }),
);
