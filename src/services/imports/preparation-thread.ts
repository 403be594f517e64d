import { parentPort, workerData } from 'node:worker_threads';
import { preparedBatches, type PreparationInput, type ThreadMessage } from './preparation.js';

/*
 * The reading thread of an import (preparation.ts, preparedBatchesOnThread): it reads and
 * prepares the file's batches and posts each, at most AHEAD batches before the main thread has
 * taken them, so that a file is never held whole in memory.
 */
const AHEAD = 2;
const port = parentPort!;
let credit = AHEAD;
let wake: (() => void) | undefined;
port.on('message', () => {
  credit += 1;
  wake?.();
});
const post = (message: ThreadMessage) => port.postMessage(message);

try {
  const batches = preparedBatches(workerData as PreparationInput);
  for (;;) {
    const next = await batches.next();
    if (next.done) {
      post({ end: next.value });
      break;
    }
    while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
    credit -= 1;
    post({ batch: next.value });
  }
} catch (error) {
  post({ error: (error as Error).message });
}
// The main thread ends this thread once it has what it needs; until then the port keeps it alive.
