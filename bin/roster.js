#!/usr/bin/env -S node --max-semi-space-size=8
import { setFlagsFromString } from 'node:v8';
import { main } from '../dist/cli/main.js';

// V8 lets the old generation grow to up to 4 times what survived the last full collection
// before it collects again; objects a request holds across a few young collections (seed 002's
// member cards, say) are promoted and then wait that long. At 1.5 times the server stays near
// its live size at no measured CPU (docs/performance.md, Memory). V8 reads this at every full
// collection, so it can be set here, after start; `node --heap-growing-percent=N` overrides it.
if (!process.execArgv.some((arg) => arg.startsWith('--heap-growing-percent'))) {
  setFlagsFromString('--heap-growing-percent=50');
}

process.exitCode = await main(process.argv.slice(2));
