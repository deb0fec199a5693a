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
