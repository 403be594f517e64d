/**
 * At most `max` of the sequences passed through it are read at once; the others wait their
 * turn, first come first served, before any of their work starts. A slot is freed when its
 * sequence ends, fails or is abandoned (a client that hangs up).
 */
export function concurrencyLimit(max: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async function* limited<T>(make: () => AsyncIterable<T>): AsyncGenerator<T> {
    if (running < max) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      yield* make();
    } finally {
      // The slot passes straight to the next in line, or is freed.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
