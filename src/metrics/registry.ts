import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { listEvents } from '../catalog';
import type { QueueStatus } from '../management/jobs';
import { within } from '../timeout';

/** Every metric name of ours starts with this (the default process metrics keep their standard names). */
export const PREFIX = 'switchboard_';

/** How long a scrape waits for Redis (queue counts, open windows) before it reports the last values. */
export const SCRAPE_TIMEOUT_MS = 1000;

/** `switchboard_delivery_seconds`: from 1 ms to 10 s. */
export const DELIVERY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** `switchboard_http_request_duration_seconds`: from 1 ms to 5 s, what an API answer takes. */
export const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * A registry of one process (gateway or worker), never prom-client's global one: tests run several
 * gateways and workers in one process, each with its own counts. Includes the default process
 * metrics (CPU, memory, event loop lag, GC, handles) under their standard names
 * (`process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`, ...), without our prefix, so stock
 * Node.js dashboards and alerts work on them as they are.
 */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

const EVENT_NAMES: ReadonlySet<string> = new Set(listEvents().map((e) => e.name));

/**
 * The `event` label of a name read from outside (a job, a Redis hash): a catalog name, or
 * `unknown`. Labels come from the catalog and the namespace modules only, never from input.
 */
export function eventLabel(name: unknown): string {
  return typeof name === 'string' && EVENT_NAMES.has(name) ? name : 'unknown';
}

/**
 * Runs `read` at most once at a time and waits for it at most `timeoutMs`. A read that finishes
 * late still lands (the next scrape shows it); while one is in flight no other starts, so a slow
 * Redis never piles scrapes up. Errors leave the last values in place.
 */
export class BoundedRead<T> {
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly apply: (value: T) => void,
    private readonly timeoutMs = SCRAPE_TIMEOUT_MS,
  ) {}

  async refresh(): Promise<void> {
    this.inFlight ??= this.read()
      .then(
        (value) => this.apply(value),
        () => undefined,
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    await within(this.inFlight, this.timeoutMs, () => undefined);
  }
}

/** What the deployment-wide gauges read from Redis, on scrape. */
export interface DeploymentSource {
  /** ZCARD of the throttle index: open throttle windows. */
  throttleWindows(): Promise<number>;
  /** BullMQ counts of the delivery, throttle and handlers queues. */
  queues(): Promise<QueueStatus[]>;
}

/**
 * `switchboard_throttle_windows`, `switchboard_queue_jobs{queue,state}` and
 * `switchboard_queue_paused{queue}`: read on scrape, bounded by SCRAPE_TIMEOUT_MS each (the last
 * values stay when Redis is slow or away). Deployment-wide: every process reports the same
 * numbers, so aggregate them with max(), not sum().
 */
export function registerDeploymentGauges(
  registry: Registry,
  source: DeploymentSource,
  timeoutMs = SCRAPE_TIMEOUT_MS,
): void {
  // prom-client runs every metric's collect side by side: one scrape waits ~timeoutMs at most.
  const windows = new Gauge({
    name: `${PREFIX}throttle_windows`,
    help: 'Open throttle windows (ZCARD of the throttle index), read on scrape',
    registers: [registry],
    collect: () => windowsRead.refresh(),
  });
  const jobs = new Gauge({
    name: `${PREFIX}queue_jobs`,
    help: 'BullMQ jobs per queue (delivery, throttle, handlers) and state, read on scrape',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    collect: () => queuesRead.refresh(),
  });
  const paused = new Gauge({
    name: `${PREFIX}queue_paused`,
    help: '1 while a queue is paused for every worker (sb queue pause), read on scrape',
    labelNames: ['queue'] as const,
    registers: [registry],
    // The same read as queue_jobs (one in flight at a time): both wait for it.
    collect: () => queuesRead.refresh(),
  });
  const windowsRead = new BoundedRead(
    () => source.throttleWindows(),
    (n) => windows.set(n),
    timeoutMs,
  );
  const queuesRead = new BoundedRead(
    () => source.queues(),
    (statuses) => {
      for (const status of statuses) {
        paused.set({ queue: status.queue }, status.paused ? 1 : 0);
        for (const [state, count] of Object.entries(status.counts))
          jobs.set({ queue: status.queue, state }, count);
      }
    },
    timeoutMs,
  );
}
