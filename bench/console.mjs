// The console on the benchmark's dataset (1,000,000 contacts unless BENCH_CONTACTS says otherwise), in Debian's
// Chromium: how long the contacts page takes to show its first rows, and scrolling to row 100,000 (cursor pages
// of 1,000; only the rows in view are in the DOM), frame times there, and search as you type.
// `npm run build && node bench/console.mjs`.
/* global document, requestAnimationFrame -- the functions passed to page.evaluate run in the browser */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { openStore } from '../dist/db/store.js';
import { buildApp } from '../dist/http/app.js';
import { createServices } from '../dist/services/index.js';
import { sqliteDataset } from './lib/dataset.mjs';
import { runDirectory } from './lib/scratch.mjs';

const TARGET_ROW = Number(process.env.BENCH_ROW ?? 100_000);
const log = (message) => console.error(`[console bench] ${message}`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)];

const results = join(import.meta.dirname, 'results');
mkdirSync(results, { recursive: true });
const runDir = runDirectory(results);
{
  const dataset = await sqliteDataset(results, runDir, log);
  const store = openStore({ url: dataset.url });
  const services = await createServices(store, {
    accessTokenTtlSeconds: 900,
    refreshTokenTtlSeconds: 3600,
    importDirectory: join(runDir, 'imports'),
  });
  const app = await buildApp(services, { logLevel: 'warn' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${app.server.address().port}`;
  const browser = await chromium.launch({
    executablePath: execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim(),
    args: ['--no-sandbox'],
  });
  const page = await browser.newPage({ baseURL: base, viewport: { width: 1100, height: 900 } });
  const { username, password, contacts } = dataset.meta.largest;
  await page.goto('/');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.contact-row').first().waitFor();

  // From the groups page, a click on Contacts: the console's own navigation, the page's code already loaded.
  const firstRows = [];
  for (let round = 0; round < 7; round++) {
    await page.getByRole('navigation').getByRole('link', { name: 'Groups' }).click();
    await page.getByRole('heading', { name: 'Groups' }).waitFor();
    const started = Date.now();
    await page.getByRole('navigation').getByRole('link', { name: 'Contacts' }).click();
    await page.locator('.contact-row').first().waitFor();
    firstRows.push(Date.now() - started);
  }
  // A full load of /contacts: the page, its scripts, the session's refresh and the first page of contacts.
  const loads = [];
  for (let round = 0; round < 5; round++) {
    const started = Date.now();
    await page.goto('/contacts');
    await page.locator('.contact-row').first().waitFor();
    loads.push(Date.now() - started);
  }

  // Scroll to the end of what is loaded until row TARGET_ROW is: each time the list asks for the next 1,000.
  const pages = [];
  // The list's requests while it scrolls: each page after the first must name a cursor, none an offset.
  const listRequests = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname === '/v1/contacts') listRequests.push(url.searchParams);
  });
  const scrolled = Date.now();
  let loaded = await page.locator('.contact-row').count();
  for (;;) {
    loaded = await page.evaluate(() => document.querySelector('.virtual ul').offsetHeight / 48);
    if (loaded >= TARGET_ROW) break;
    const started = Date.now();
    await page.evaluate(() => {
      const box = document.querySelector('.virtual');
      box.scrollTop = box.scrollHeight;
    });
    await page.waitForFunction(
      (before) => document.querySelector('.virtual ul').offsetHeight / 48 > before,
      loaded,
    );
    pages.push(Date.now() - started);
  }
  const toRow = Date.now() - scrolled;
  await page.evaluate((row) => {
    document.querySelector('.virtual').scrollTop = (row - 1) * 48;
  }, TARGET_ROW);
  await page.locator(`li[aria-posinset="${TARGET_ROW}"]`).waitFor();

  // Smoothness where 100,000 rows are loaded: frame times while the list scrolls 40 px a frame.
  const frames = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const box = document.querySelector('.virtual');
        const times = [];
        let last = performance.now();
        const step = (now) => {
          times.push(now - last);
          last = now;
          box.scrollTop -= 40;
          if (times.length < 240) requestAnimationFrame(step);
          else resolve(times.slice(1));
        };
        requestAnimationFrame(step);
      }),
  );
  const rowsInDom = await page.locator('.virtual li').count();

  // Search as you type: from the last key to the first matching rows (the page waits 200 ms after the last key).
  const scrollRequests = listRequests.slice();
  const searches = [];
  for (const term of dataset.meta.largest.sampleNames.flatMap((n) => [
    n.last_name,
    `${n.first_name} ${n.last_name}`,
  ])) {
    const started = Date.now();
    await page.getByLabel('Search').fill(term);
    await page.waitForFunction(
      (want) => document.querySelector('.contact-row .name')?.textContent.toLowerCase().includes(want),
      term.toLowerCase(),
    );
    searches.push(Date.now() - started);
  }
  const figures = {
    contacts,
    first_rows_ms_median: median(firstRows),
    first_rows_ms: firstRows,
    full_load_ms_median: median(loads),
    next_page_ms_median: median(pages),
    next_page_ms_p95: p95(pages),
    pages_to_row: pages.length,
    to_row_s: toRow / 1000,
    frame_ms_median: Math.round(median(frames) * 10) / 10,
    frame_ms_p95: Math.round(p95(frames) * 10) / 10,
    rows_in_dom: rowsInDom,
    scroll_requests: scrollRequests.length,
    scroll_requests_by_cursor: scrollRequests.filter((q) => q.has('cursor') && !q.has('offset')).length,
    search_ms_median: median(searches),
    search_ms: searches,
  };
  console.log(JSON.stringify(figures, null, 2));
  await browser.close();
  await app.close();
  await services.rateLimiter.close();
  await store.close();
}
