// What one benchmark run writes and throws away (its copy of the database, the server's import
// uploads, the scenarios' metadata) lives in a directory of its own under bench/results/, so two
// runs at once neither share nor delete each other's. It is removed when the run ends, also when
// it fails or is interrupted (Ctrl-C, SIGTERM); only a SIGKILL leaves it behind.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const beforeExit = [];

/** Work an interrupted run still does before it exits, such as dropping a database of its own. */
export function onInterrupt(work) {
  beforeExit.push(work);
}

/** This run's scratch directory, created now and removed when the process exits. */
export function runDirectory(resultsDir) {
  const dir = join(resultsDir, `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  // A signal's default action would end the process without its exit handlers.
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ])
    process.once(signal, async () => {
      await Promise.allSettled(beforeExit.map((work) => work()));
      process.exit(code);
    });
  return dir;
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
};

/**
 * Runs `work` while holding `${path}.lock`: of runs started together, one builds or updates a
 * cached file (a dataset, say) and copies what it needs, the others wait and then find it ready.
 * A lock left by a process that is gone is taken over.
 */
export async function exclusively(path, work, log) {
  const lock = `${path}.lock`;
  for (let told = false; ;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      let holder;
      try {
        holder = Number(readFileSync(lock, 'utf8'));
      } catch {
        continue; // released meanwhile
      }
      if (holder && !alive(holder)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (!told) log(`waiting for run ${holder || '(starting)'} to finish with ${path}`);
      told = true;
      await sleep(500);
    }
  }
  const release = () => rmSync(lock, { force: true });
  process.on('exit', release);
  try {
    return await work();
  } finally {
    release();
    process.off('exit', release);
  }
}
