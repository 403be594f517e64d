import type { CrashTarget } from './crash-target.js';
import type { ImportCrashTest } from './crash-imports.js';
import { randomInt, type WriteCrashTest } from './crash-writes.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * SQLite's synchronous setting for the restart after a round: it alternates in pairs, so each
 * setting sees rounds with the import running and rounds without.
 */
export const synchronousAfter = (round: number) => (Math.floor(round / 2) % 2 === 0 ? 'FULL' : 'NORMAL');

/**
 * Rounds of writers streaming (with the import running in every other round: on SQLite an
 * import batch holds the one connection, and writes barely get through meanwhile), kill -9 at
 * a random moment (while the import runs, at a random row of it; between minRoundMs and
 * maxRoundMs), restart on the same data, check the writes and the import's committed
 * batches. Then the import runs to its end and is checked whole.
 */
export async function crashRounds(
  target: CrashTarget,
  writes: WriteCrashTest,
  imports: ImportCrashTest,
  options: { rounds: number; minRoundMs: number; maxRoundMs: number },
): Promise<void> {
  for (let round = 0; round < options.rounds; round++) {
    const importing = round % 2 === 0 && (round === 0 || (await imports.resume()));
    const writers = writes.run();
    let over = false;
    const importPoint = importing
      ? imports.killPoint(Math.ceil((options.rounds - round) / 2), () => over)
      : new Promise<void>(() => {});
    const deadline = sleep(randomInt(options.minRoundMs, options.maxRoundMs));
    await sleep(options.minRoundMs);
    await Promise.race([deadline, importPoint]);
    over = true;
    await target.crash();
    await Promise.all([writers, importing && importPoint]);
    await target.restart({ SQLITE_SYNCHRONOUS: synchronousAfter(round) });
    // One read of every contact serves both checks.
    const contacts = await target.client.all('/v1/contacts?deleted=include');
    await writes.verify(contacts);
    if (importing) await imports.afterRestart(contacts);
  }
  await imports.resume();
  await imports.finish(() => target.client.all('/v1/contacts?deleted=include'));
}
