import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * SQLite checkpoints (copying the WAL back into the database file, with an fsync before and
 * after) on a thread of their own. Left to SQLite, the commit that takes the WAL past 1,000
 * pages does it, and better-sqlite3 is synchronous, so every request waited for the disk. The
 * writer's automatic checkpoint is turned off (connection.ts) and this thread runs a passive
 * checkpoint, which waits for no reader or writer, soon after writes and seldom when idle.
 * Checkpoints are crash-safe whoever runs them; when the server stops, closing the last
 * connection checkpoints what is left.
 */
export function startCheckpointer(path: string, synchronous: string): Worker {
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), path, synchronous },
  });
  // A checkpoint that fails now is retried on the next round; nothing a request waits for.
  worker.on('error', () => {});
  worker.unref();
  return worker;
}

const WORKER = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma('synchronous = ' + workerData.synchronous);
const BUSY_MS = 50;
const IDLE_MS = 1000;
function round() {
  let left = 0;
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    left = result.log - result.checkpointed;
  } catch {}
  setTimeout(round, left > 0 ? BUSY_MS : IDLE_MS);
}
setTimeout(round, BUSY_MS);
`;
