import { logger } from '../logger';

const log = logger('self-heal');

/** Something a process writes to Redis once at start and needs afterwards. */
export interface StartupState {
  /** For logs: what it is (`sweep scheduler`, `handler registry`). */
  name: string;
  /** Whether it is still in Redis. */
  inPlace(): Promise<boolean>;
  /** Writes it again. */
  rebuild(): Promise<void>;
}

/**
 * Puts back what a process created at start when Redis comes back without its data (no
 * persistence, a failover to an empty replica, FLUSHALL): every `everyMs` each part is checked
 * (one cheap read each) and rebuilt if it is gone, so no restart is needed. A check that fails
 * (Redis unavailable) is tried again on the next round. `state()` is `ok`, or `rebuilding` from a
 * missing part until it is back (for /readyz).
 */
export class SelfHeal {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private missing = new Set<string>();

  constructor(
    private readonly parts: readonly StartupState[],
    private readonly everyMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.round().finally(() => (this.running = undefined));
    }, this.everyMs);
    this.timer.unref();
  }

  state(): 'ok' | 'rebuilding' {
    return this.missing.size === 0 ? 'ok' : 'rebuilding';
  }

  /** One round of checks (the timer runs them; tests may call it). */
  async round(): Promise<void> {
    for (const part of this.parts) {
      try {
        if (await part.inPlace()) continue;
        if (!this.missing.has(part.name))
          log.warn({ part: part.name }, 'gone from Redis (it lost its data?); rebuilding');
        this.missing.add(part.name);
        await part.rebuild();
        this.missing.delete(part.name);
        log.info({ part: part.name }, 'rebuilt');
      } catch (err) {
        // Redis unavailable: the next round tries again. Readiness says so through its own checks.
        log.debug({ part: part.name, err: (err as Error).message }, 'self-heal check failed');
      }
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
