import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = `${root}bin/roster.js`;

/** One pino line of the server's log, as JSON. */
export type LogLine = Record<string, unknown> & { msg?: string };

/** A port nobody listens on right now (the server refuses PORT=0). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What runs from dist/ (the server, an import's reading thread): a build older than the source would test yesterday's code. */
export function checkBuild(): void {
  const built = `${root}dist/cli/main.js`;
  if (!existsSync(built)) throw new Error('dist/ is missing: run `npm run build` before these tests');
  const newest = Math.max(
    ...readdirSync(`${root}src`, { recursive: true, encoding: 'utf8' }).map(
      (f) => statSync(`${root}src/${f}`).mtimeMs,
    ),
  );
  if (newest > statSync(built).mtimeMs)
    throw new Error('dist/ is older than src/: run `npm run build` before these tests');
}

/** The compiled script of an import's reading thread (the tests run the services from src/, which has none). */
export function compiledReadingThread(): URL {
  checkBuild();
  return new URL('dist/services/imports/preparation-thread.js', `file://${root}`);
}

/**
 * The real server (`node bin/roster.js serve`, from dist/) as a child process on one database,
 * started, killed with SIGKILL and started again on the same data.
 */
export class ServerProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** The current run's log, newest last (kept short: only for reporting a failed start). */
  private tail: string[] = [];
  /** The "database ready" line of each start, in order. */
  readonly readyLines: LogLine[] = [];
  url = '';

  constructor(private readonly env: Record<string, string>) {
    checkBuild();
  }

  /** Starts the server and resolves once it answers /readyz. */
  async start(extraEnv: Record<string, string> = {}): Promise<void> {
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    this.tail = [];
    const child = spawn(process.execPath, [bin, 'serve'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...this.env, ...extraEnv, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let exitCode: number | null | undefined;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        exitCode = code;
        resolve();
      }),
    );
    for (const stream of [child.stdout!, child.stderr!])
      createInterface({ input: stream }).on('line', (line) => this.record(line));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (exitCode !== undefined)
        throw new Error(`the server exited (${exitCode}) before it was ready:\n${this.tail.join('\n')}`);
      if (await this.ready()) return;
      await sleep(50);
    }
    throw new Error(`the server was not ready within 30 s:\n${this.tail.join('\n')}`);
  }

  /** kill -9: no shutdown hook runs, whatever was in flight is cut off. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
    this.child = undefined;
  }

  /** A clean stop, for the end of a test. */
  async stop(): Promise<void> {
    this.child?.kill('SIGTERM');
    await this.exited;
    this.child = undefined;
  }

  private async ready(): Promise<boolean> {
    try {
      return (await fetch(`${this.url}/readyz`)).ok;
    } catch {
      return false;
    }
  }

  private record(line: string): void {
    this.tail.push(line);
    if (this.tail.length > 50) this.tail.shift();
    if (!line.includes('database ready')) return;
    try {
      const parsed = JSON.parse(line) as LogLine;
      if (parsed.msg === 'database ready') this.readyLines.push(parsed);
    } catch {
      // not a log line: the bootstrap's plain-text credentials notice
    }
  }
}
