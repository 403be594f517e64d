import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { CONSOLE_ROOT } from '../../src/http/console.js';
import type { TestDialect } from './databases.js';
import { createHarness, type Harness, type HarnessOptions, type Login } from './harness.js';

/**
 * The console in Debian's Chromium, driven by Playwright, against the real server on a free port and a fresh
 * database. UPDATE_SCREENSHOTS=1 writes the screenshots into docs/console/ (the ones the docs show).
 */
export const chromiumPath = (() => {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
})();
const shots = process.env.UPDATE_SCREENSHOTS
  ? join(import.meta.dirname, '..', '..', 'docs', 'console')
  : join(tmpdir(), 'roster-console-screenshots');
mkdirSync(shots, { recursive: true });

/** The page reaches a state within a few seconds (the browser shares two cores with the server). */
export const eventually = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 10_000 });

export const heading = (page: Page) => page.getByRole('heading', { level: 1 });

/**
 * No serious or critical axe violation, in light and in dark (the console follows the system's scheme, and each
 * has its own colours to pass WCAG AA); and at a phone's width, nothing wider than the screen but the tables and
 * lists that scroll on their own.
 */
export async function expectAccessible(page: Page) {
  const viewport = page.viewportSize()!;
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const { violations } = await new AxeBuilder({ page }).analyze();
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(
      serious.map((v) => `${colorScheme} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    ).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 360, height: 740 });
  try {
    // What sticks out past the screen's right edge, outside the boxes that scroll sideways on their own.
    const overflowing = () =>
      page.evaluate(() =>
        [...document.body.querySelectorAll('*')]
          .filter((el) => el.getBoundingClientRect().right > innerWidth + 1 && !el.closest('.scroll-x'))
          .map((el) => `${el.tagName.toLowerCase()}.${el.className} ${el.textContent?.slice(0, 40)}`),
      );
    await expect.poll(overflowing).toEqual([]);
  } finally {
    await page.setViewportSize(viewport);
  }
}

/** A served console on a fresh database and a browser to drive it, for one dialect's suite. */
export class ConsoleBrowser {
  h!: Harness;
  base = '';
  private browser!: Browser;
  private readonly contexts: BrowserContext[] = [];
  /** Axe and screenshots look at pages that are the same whatever the database: the first dialect's run is enough. */
  readonly looks: boolean;

  constructor(
    readonly dialect: TestDialect,
    readonly firstDialect: TestDialect,
  ) {
    this.looks = dialect === firstDialect;
  }

  async start(options?: HarnessOptions): Promise<void> {
    if (!existsSync(join(CONSOLE_ROOT, 'index.html')))
      throw new Error('The console is not built: run npm run build (npm install does it)');
    this.h = await createHarness(this.dialect, options);
    await this.h.app.listen({ host: '127.0.0.1', port: 0 });
    const address = this.h.app.server.address();
    this.base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    this.browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  }

  async close(): Promise<void> {
    for (const context of this.contexts) await context.close();
    await this.browser?.close();
    await this.h?.close();
  }

  /** A page in a new browser context (its own cookies), not signed in. */
  async newPage(): Promise<{ page: Page; context: BrowserContext }> {
    const context = await this.browser.newContext({
      baseURL: this.base,
      viewport: { width: 1100, height: 760 },
    });
    this.contexts.push(context);
    return { page: await context.newPage(), context };
  }

  /** A new browser context, signed in as `login` by the form. */
  async signedIn(login: Login): Promise<Page> {
    const { page } = await this.newPage();
    await page.goto('/');
    await page.getByLabel('Username').fill(login.username);
    await page.getByLabel('Password').fill(login.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Playwright's own wait: this also runs in beforeAll, where expect.poll cannot.
    await page.getByRole('heading', { level: 1, name: 'Contacts' }).waitFor({ timeout: 10_000 });
    return page;
  }

  accessible = (on: Page) => (this.looks ? expectAccessible(on) : Promise.resolve());
  screenshot = (on: Page, name: string) =>
    this.looks
      ? on.screenshot({ path: join(shots, `${name}.png`), fullPage: true }).then(() => undefined)
      : Promise.resolve();
}
