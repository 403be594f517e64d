// The server under test: bin/roster.js serve in its own process, as an operator starts it (with
// `npm start`'s Node flags), with rate limiting off and request logging at warn (both said in the output).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstJsonLine, freePort, memoryOf, startNode, stop, waitUntilServing } from './processes.mjs';

export const SERVER_ENV = {
  LOG_LEVEL: 'warn',
  ROSTER_RATE_LIMIT: '0',
  ROSTER_ACCESS_TOKEN_TTL: '3600',
};

const MEMORY_PROBE = fileURLToPath(new URL('memory-probe.mjs', import.meta.url));

/** The V8 flags `npm start` gives the server, read from package.json so the two cannot drift apart. */
export const START_FLAGS = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
  .scripts.start.split(' ')
  .filter((word) => word.startsWith('--'));

/**
 * Starts Roster on `databaseUrl`, its uploads in the run's own directory; resolves once /readyz
 * answers, with the cold-start time. `memoryFile`: the memory probe's samples go there.
 */
export async function startRoster({ databaseUrl, ownerUrl, cpu, resultsDir, runDir, profile, memoryFile }) {
  const port = await freePort();
  const args = [
    ...START_FLAGS,
    ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${join(resultsDir, 'profiles')}`] : []),
    ...(memoryFile ? ['--import', MEMORY_PROBE] : []),
  ];
  const started = performance.now();
  const child = startNode([...args, 'bin/roster.js', 'serve'], {
    cpu,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...SERVER_ENV,
      DATABASE_URL: databaseUrl,
      ...(ownerUrl && { DATABASE_OWNER_URL: ownerUrl }),
      HOST: '127.0.0.1',
      PORT: String(port),
      SQLITE_SYNCHRONOUS: process.env.BENCH_SQLITE_SYNCHRONOUS ?? 'NORMAL',
      ROSTER_IMPORT_DIR: join(runDir, 'imports'),
      ...(memoryFile && { MEMORY_PROBE_FILE: memoryFile }),
    },
  });
  const url = `http://127.0.0.1:${port}`;
  const coldStartMs = await waitUntilServing(`${url}/readyz`, child, started);
  return { url, child, coldStartMs, memory: () => memoryOf(child.pid), stop: () => stop(child) };
}

/** The limit server (or with `framework`, Fastify's floor), on the same core as the server under test. */
export async function startLimit({ body, cpu, framework }) {
  const child = startNode(['bench/lib/limit-server.mjs'], {
    cpu,
    env: { LIMIT_BODY: body, ...(framework && { LIMIT_FRAMEWORK: framework }) },
  });
  const { port } = await firstJsonLine(child);
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    memory: () => memoryOf(child.pid),
    stop: () => stop(child),
  };
}

/** The read floor (floor-server.mjs) on the run's SQLite file, on the same core as the server under test. */
export async function startFloor({ file, cpu }) {
  const child = startNode(['bench/lib/floor-server.mjs'], { cpu, env: { FLOOR_DATABASE: file } });
  const { port } = await firstJsonLine(child);
  return { url: `http://127.0.0.1:${port}`, child, stop: () => stop(child) };
}

/** Reads the dataset back through the API before anything is measured. */
export async function checkDataset(url, org) {
  const headers = { authorization: `Bearer ${org.apiKey}` };
  const get = async (path) => {
    const response = await fetch(url + path, { headers });
    if (!response.ok) throw new Error(`dataset check: GET ${path} answered ${response.status}`);
    return response;
  };
  const group = await (await get(`/v1/groups/${org.bigGroup.id}`)).json();
  if (group.member_count !== org.bigGroup.members)
    throw new Error(
      `dataset check: the largest group has member_count ${group.member_count}, expected ${org.bigGroup.members}`,
    );
  const page = await (await get(`/v1/groups/${org.typicalGroup.id}/members?limit=1000`)).json();
  if (page.items.length !== Math.min(1000, org.typicalGroup.members))
    throw new Error(
      `dataset check: the median group lists ${page.items.length} members, expected ${org.typicalGroup.members}`,
    );
  const contact = await get(`/v1/contacts/${org.contactIds[0]}`);
  const body = await contact.text();
  if (!JSON.parse(body).phone?.startsWith('+61'))
    throw new Error('dataset check: the first contact has no normalised phone');
  return { contactBody: body };
}
