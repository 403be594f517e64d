// Loaded into the server with `node --import` when BENCH_MEMORY=1: every 200 ms it writes a line
// of JSON to MEMORY_PROBE_FILE with the process's RSS, V8's heap by space and, whenever RSS has
// risen to a new high (and every 5 s), what the resident memory is made of, read from
// /proc/self/smaps: files mapped in, the main thread's malloc heap, other threads' malloc arenas
// (64 MiB reservations), and the rest of the anonymous memory (V8's heap lives there).
import { openSync, readFileSync, writeSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

const MB = 2 ** 20;
const ARENA_KB = 64 * 1024;

function residentParts() {
  const maps = [];
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const range = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (range) {
      maps.push({
        start: parseInt(range[1], 16),
        end: parseInt(range[2], 16),
        perm: range[3],
        name: range[4],
        kb: 0,
      });
      continue;
    }
    const rss = /^Rss:\s+(\d+)/.exec(line);
    if (rss && maps.length > 0) maps[maps.length - 1].kb = Number(rss[1]);
  }
  const parts = { node: 0, files: 0, mallocHeap: 0, threadArenas: 0, otherAnonymous: 0 };
  maps.forEach((map, i) => {
    const next = maps[i + 1];
    // glibc gives a thread an arena by reserving 64 MiB: a mapping in use followed by its unused rest.
    const arena =
      !map.name &&
      next &&
      !next.name &&
      next.perm === '---p' &&
      next.start === map.end &&
      ((map.end - map.start + next.end - next.start) / 1024) % ARENA_KB === 0;
    if (map.name.startsWith('/')) parts[map.name === process.execPath ? 'node' : 'files'] += map.kb;
    else if (map.name === '[heap]') parts.mallocHeap += map.kb;
    else if (arena) parts.threadArenas += map.kb;
    else if (!map.name) parts.otherAnonymous += map.kb;
  });
  for (const key of Object.keys(parts)) parts[key] = Math.round(parts[key] / 1024);
  return parts;
}

const file = process.env.MEMORY_PROBE_FILE;
if (file) {
  const out = openSync(file, 'w');
  let high = 0;
  let sample = 0;
  setInterval(() => {
    const { rss, heapUsed } = process.memoryUsage();
    const line = {
      at: Date.now(),
      rssMb: Math.round(rss / MB),
      heapUsedMb: Math.round(heapUsed / MB),
      spacesMb: {},
    };
    for (const space of getHeapSpaceStatistics())
      line.spacesMb[space.space_name.replace(/_space$/, '')] = Math.round(space.space_size / MB);
    if (line.rssMb > high || ++sample % 25 === 0) line.parts = residentParts();
    high = Math.max(high, line.rssMb);
    writeSync(out, `${JSON.stringify(line)}\n`);
  }, 200).unref();
}
