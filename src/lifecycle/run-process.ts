import { logger } from '../logger';

/** What a process entry point starts and, on a signal, closes. */
export interface Closable {
  close(): Promise<void>;
}

/** A running gateway or worker: its metrics, its readiness (/readyz) and its close. */
export interface RunningProcess<Metrics, Readiness> extends Closable {
  /** This process's Prometheus metrics (served at /metrics). */
  readonly metrics: Metrics;
  /** What /readyz answers: every check by name. */
  ready(): Promise<Readiness>;
}

/**
 * The one shutdown of every Switchboard process (gateway, worker): starts it; on SIGTERM or SIGINT
 * closes it once (in-flight work finishes) and exits 0, or 1 if closing failed or hung past
 * `forceAfterMs` (a Redis that never answers must not keep a stopping process alive). A failure
 * to start prints one line and exits 1.
 *
 * A signal that arrives while the process is still starting is kept: it closes once started.
 *
 * The last resort: an uncaught exception or an unhandled rejection is a bug (every Redis fault has
 * its own handling: a wait, a counted drop or an `unavailable` answer). It is logged as one fatal
 * line, the process closes as on SIGTERM (bounded) and exits 1, and the supervisor (`npm start`,
 * compose, Kubernetes) starts it again.
 */
export function runProcess(
  name: string,
  start: () => Promise<Closable>,
  forceAfterMs = 10_000,
): void {
  const log = logger(`${name}-main`);
  let running: Closable | undefined;
  /** The signal (or fatal error) that asked for the stop, once one did. */
  let stopRequest: { why: string; failed: boolean } | undefined;
  const stop = async () => {
    if (!running || !stopRequest) return;
    const { why, failed } = stopRequest;
    log.info({ signal: why }, `${name} stopping`);
    const forced = setTimeout(() => {
      log.error({ afterMs: forceAfterMs }, `${name} did not close in time; exiting`);
      process.exit(1);
    }, forceAfterMs).unref();
    try {
      await running.close();
      clearTimeout(forced);
      log.info(`${name} stopped`);
      process.exit(failed ? 1 : 0);
    } catch (err) {
      log.error({ err: (err as Error).message }, `${name} stopped with an error`);
      process.exit(1);
    }
  };
  // The first request wins; one during start-up is kept until the process is up (the supervisor's
  // SIGTERM right after the ready line must close it cleanly, not kill it by the default action).
  const requestStop = (why: string, failed: boolean) => {
    if (stopRequest) return;
    stopRequest = { why, failed };
    void stop();
  };
  const onFatal = (why: string) => (err: unknown) => {
    const error = err instanceof Error ? err : new Error(String(err));
    log.fatal(
      { err: { message: error.message, stack: error.stack } },
      `${name}: ${why}; closing and exiting 1`,
    );
    if (running) requestStop(why, true);
    else process.exit(1);
  };
  process.on('uncaughtException', onFatal('uncaught exception'));
  process.on('unhandledRejection', onFatal('unhandled rejection'));
  process.on('SIGTERM', () => requestStop('SIGTERM', false));
  process.on('SIGINT', () => requestStop('SIGINT', false));
  start().then(
    (started) => {
      running = started;
      void stop();
    },
    (err: unknown) => {
      process.stderr.write(
        `${name} failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
