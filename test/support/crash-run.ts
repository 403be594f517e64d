import type { CrashTarget } from './crash-target.js';
import type { ImportCrashTest } from './crash-imports.js';
import { randomInt, type WriteCrashTest } from './crash-writes.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * SQLite's synchronous setting for the restart after a round: it alternates in pairs, so each
 * setting sees rounds with the import running and rounds without.
 */
export const synchronousAfter = (round: number) => (Math.floor(round / 2) % 2 === 0 ? 'FULL' : 'NORMAL');

/** Resolves once `done` holds, or after `ms`. */
async function until(done: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await sleep(20);
}

/**
 * Rounds of writers streaming, with the import running in every other round (writes get few
 * answers while it runs), then kill -9 at a random moment: while the import runs, at a random
 * row of it between minRoundMs and maxRoundMs; otherwise once the writers have had minWrites
 * answers (however slow the machine), and up to maxRoundMs later. Then restart on the same
 * data, check the writes and the import's committed batches. At the end the import runs to
 * completion and is checked whole.
 */
export async function crashRounds(
  target: CrashTarget,
  writes: WriteCrashTest,
  imports: ImportCrashTest,
  options: { rounds: number; minRoundMs: number; maxRoundMs: number; minWrites: number },
): Promise<void> {
  for (let round = 0; round < options.rounds; round++) {
    const importing = round % 2 === 0 && (round === 0 || (await imports.resume()));
    const acknowledged = writes.figures.acknowledged;
    const writers = writes.run();
    let over = false;
    let importPoint: Promise<void> | undefined;
    if (importing) {
      importPoint = imports.killPoint(Math.ceil((options.rounds - round) / 2), () => over);
      const deadline = sleep(randomInt(options.minRoundMs, options.maxRoundMs));
      await sleep(options.minRoundMs);
      await Promise.race([deadline, importPoint]);
    } else {
      await until(() => writes.figures.acknowledged - acknowledged >= options.minWrites, 30_000);
      await sleep(randomInt(0, options.maxRoundMs));
    }
    over = true;
    await target.crash();
    await Promise.all([writers, importPoint]);
    await target.restart({ SQLITE_SYNCHRONOUS: synchronousAfter(round) });
    const contacts = () => target.client.all('/v1/contacts?deleted=include');
    await writes.verify(await contacts());
    if (importing) await imports.afterRestart(contacts);
  }
  await imports.resume();
  await imports.finish(() => target.client.all('/v1/contacts?deleted=include'));
}
