import type { EventEmitter } from 'node:events';
import { Counter, type Registry } from 'prom-client';
import {
  createRegistry,
  PREFIX,
  registerDeploymentGauges,
  type DeploymentSource,
} from './registry';
import type { MetricsSource } from './server';

/**
 * What the metrics of every process (gateway, worker) have in common: a registry of its own, the
 * deployment-wide gauges on request, and the scrape side (`contentType`, `text`).
 */
export abstract class ProcessMetrics implements MetricsSource {
  readonly registry: Registry = createRegistry();

  private readonly redisErrors = this.counter(
    'redis_connection_errors_total',
    "Errors this process's watched Redis connections reported (refused, reset or timed-out connections; every failed reconnect attempt counts)",
    ['connection'],
  );

  /**
   * Counts every `error` event of a Redis connection under `connection`, a fixed name of the
   * caller's (`command`, ...). Commands that fail reject their own promise; these are the
   * connection's troubles, which logs show only once per change of error.
   */
  watchRedis(redis: Pick<EventEmitter, 'on'>, connection: string): void {
    const errors = this.redisErrors.labels({ connection });
    // Zero from the start, so a rate over the first error is defined.
    errors.inc(0);
    redis.on('error', () => errors.inc());
  }

  /** Throttle windows and queue counts, read from Redis on scrape. */
  observeDeployment(source: DeploymentSource): void {
    registerDeploymentGauges(this.registry, source);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** A counter `switchboard_<name>` on this process's registry. */
  protected counter<Label extends string>(
    name: string,
    help: string,
    labelNames: readonly Label[] = [],
  ): Counter<Label> {
    return new Counter({ name: `${PREFIX}${name}`, help, labelNames, registers: [this.registry] });
  }
}
