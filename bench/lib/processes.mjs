// The processes of a run: the server under test and the limit server on one core, the load
// generator on another (taskset, where the machine has two cores and allows it).
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Which cores the server and the load generator get, or why they are not pinned. */
export function pinning() {
  const count = cpus().length;
  if (count < 2) return { pinned: false, note: `not pinned: ${count} core` };
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
  } catch {
    return { pinned: false, note: 'not pinned: taskset is missing or not allowed' };
  }
  const server = String(count - 1);
  const load = count > 2 ? `0-${count - 2}` : '0';
  return {
    pinned: true,
    server,
    load,
    note: `server on CPU ${server}, load generator on CPU ${load} (taskset)`,
  };
}

/** Starts `node args` (pinned to `cpu` when given) and resolves with the child. */
export function startNode(args, { cpu, env = {}, stdio = ['ignore', 'pipe', 'inherit'] } = {}) {
  const [command, argv] = cpu
    ? ['taskset', ['-c', cpu, process.execPath, ...args]]
    : [process.execPath, args];
  return spawn(command, argv, { cwd: ROOT, env: { ...process.env, ...env }, stdio });
}

export async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await once(child, 'exit');
  clearTimeout(timer);
}

export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** Polls `url` until it answers 200; resolves with the milliseconds since `since`. */
export async function waitUntilServing(url, child, since, timeoutMs = 60_000) {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) before serving`);
    try {
      const response = await fetch(url);
      if (response.ok) return performance.now() - since;
    } catch {
      // not listening yet
    }
    if (performance.now() - since > timeoutMs)
      throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resident memory of a process in bytes, from /proc: now (VmRSS) and its peak so far (VmHWM). */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return { rss: 0, peak: 0 };
  }
}

/** Samples a process's RSS every 100 ms; `stop()` returns the highest seen. */
export function sampleRss(pid) {
  let peak = memoryOf(pid).rss;
  const timer = setInterval(() => (peak = Math.max(peak, memoryOf(pid).rss)), 100);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, memoryOf(pid).rss);
    },
  };
}

/** CPU time a process has used, in clock ticks (1/100 s). */
export const cpuTicks = (pid) => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
};

/**
 * Waits until a process has gone quiet (under 10% of a core for a quarter of a second): a load
 * generator that stops leaves requests in flight, and the next scenario must not pay for them.
 */
export async function waitUntilIdle(pid, timeoutMs = 120_000) {
  const until = performance.now() + timeoutMs;
  for (let before = cpuTicks(pid); performance.now() < until;) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = cpuTicks(pid);
    if (now - before <= 2) return;
    before = now;
  }
}

/** The JSON lines a child prints, one at a time. */
export async function* jsonLines(child) {
  let buffered = '';
  for await (const chunk of child.stdout) {
    buffered += chunk;
    for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
      yield JSON.parse(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
  }
}

export async function firstJsonLine(child) {
  for await (const line of jsonLines(child)) return line;
  throw new Error('the process ended without printing its result');
}
