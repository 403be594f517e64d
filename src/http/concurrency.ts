/**
 * Runs at most `max` of the given works at once; the others wait their turn in order. For
 * handlers whose answer is built whole in memory: the server does one at a time anyway (one
 * JavaScript thread, one SQLite connection), so a bound costs no throughput and keeps memory
 * flat however many clients ask at once.
 */
export function concurrencyLimit(max: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (running < max) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      // The slot passes straight to the next in line, or is freed.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
