/** Background work that runs under leases: each source claims one job another process left, if any. */
export interface JobSource {
  /** Claims and starts one orphaned job; false when there was none. */
  takeOver(): Promise<boolean>;
  /** Stops this process's running jobs after their step in flight, giving their leases up. */
  stop(): Promise<void>;
}

export interface WorkerOptions {
  /** How often to look for jobs whose lease ran out. */
  pollMs: number;
  /** A poll that failed (the database away for a moment): reported, and the next poll tries again. */
  onError: (error: unknown) => void;
}

/** Jobs one poll may take over at most, so a process that starts among many orphans leaves some to the others. */
const TAKE_PER_POLL = 4;

/**
 * What every `roster serve` process runs: a poll for jobs whose process died (or gave them up
 * when it stopped), taken over through their leases (db/leases.ts). A job started by a request
 * runs in the process that took the request; the worker only picks up what is left behind.
 */
export class JobWorker {
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly sources: JobSource[],
    private readonly options: WorkerOptions,
  ) {}

  start(): void {
    const tick = () => {
      this.polling = this.poll().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.options.pollMs).unref();
      });
    };
    tick();
  }

  /** Looks once (also for tests): each source takes over what it can, up to its share. */
  async poll(): Promise<void> {
    for (const source of this.sources) {
      try {
        for (let taken = 0; taken < TAKE_PER_POLL && !this.stopped && (await source.takeOver()); taken++);
      } catch (error) {
        this.options.onError(error);
      }
    }
  }

  /** Shutdown: no more polls, and every running job stops after its step in flight and gives its lease up. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
    await Promise.all(this.sources.map((source) => source.stop()));
  }
}
