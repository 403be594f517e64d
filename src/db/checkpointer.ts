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
 *
 * A writer starts the WAL afresh only when it begins after a complete checkpoint with no reader
 * still on the WAL. Under writes that never pause, with reads beside them, that moment did not
 * come: the benchmark's 30 s of writes left a WAL file of 3 GB. Past `walLimitBytes` a RESTART
 * checkpoint waits here for the writer and readers of the moment to finish (new writers wait
 * meanwhile, on their busy timeout), so that the next writer starts the WAL from its
 * beginning, and cuts the file back to the limit. It runs only once a passive checkpoint has
 * copied all but a few MB of the WAL: a RESTART holds the writers off while it copies, and
 * copying 64 MB on a busy disk outlasted their 5 s busy timeout (a 200,000-row import failed).
 */
export function startCheckpointer(path: string, synchronous: string, walLimitBytes: number): Worker {
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      module: createRequire(import.meta.url).resolve('better-sqlite3'),
      path,
      synchronous,
      walLimitBytes,
    },
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
db.pragma('busy_timeout = 200');
db.pragma('journal_size_limit = ' + workerData.walLimitBytes);
const pageSize = db.pragma('page_size', { simple: true });
const limitPages = workerData.walLimitBytes / pageSize;
const restartBacklogPages = (4 * 1024 * 1024) / pageSize;
const BUSY_MS = 50;
const IDLE_MS = 1000;
function round() {
  let busy = false;
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    busy = result.log > result.checkpointed;
    if (result.log > limitPages && result.log - result.checkpointed <= restartBacklogPages) {
      db.pragma('wal_checkpoint(RESTART)');
      busy = true;
    }
  } catch {}
  setTimeout(round, busy ? BUSY_MS : IDLE_MS);
}
setTimeout(round, BUSY_MS);
`;
