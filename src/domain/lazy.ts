import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A CommonJS package loaded when first used rather than when the server starts: Node 20 has
 * no compile cache, so every module loaded at start-up is start-up time and resident memory.
 * `setUp` runs once, on the loaded package.
 */
export function lazyRequire<T>(specifier: string, setUp?: (loaded: T) => void): () => T {
  let loaded: T | undefined;
  return () => {
    if (loaded === undefined) {
      loaded = require(specifier) as T;
      setUp?.(loaded);
    }
    return loaded;
  };
}
