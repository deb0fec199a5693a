import { loadConfigOrExit } from '../src/config';
import { logger } from '../src/logger';
import { startMetricsServer, type MetricsServer } from '../src/metrics/server';
import { redactUrl } from '../src/config';
import { startDeliveryWorker } from './delivery-worker';

/**
 * Worker process: `node dist/workers/main.js`, with /metrics, /readyz and /healthz on METRICS_PORT.
 * SIGTERM/SIGINT finish in-flight jobs, then exit 0.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = logger('worker-main');
  const delivery = await startDeliveryWorker(config);
  let metrics: MetricsServer;
  try {
    metrics = await startMetricsServer({ host: config.METRICS_HOST, port: config.METRICS_PORT, metrics: delivery.metrics, ready: () => delivery.ready() });
  } catch (err) {
    await delivery.close().catch(() => undefined);
    throw new Error(`metrics port ${config.METRICS_HOST}:${config.METRICS_PORT}: ${(err as Error).message} (set METRICS_PORT, 0 for any free port)`);
  }
  log.info(
    { redis: redactUrl(config.REDIS_URL), queue: config.QUEUE_NAME, concurrency: config.WORKER_CONCURRENCY, metricsPort: metrics.port },
    'worker ready',
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'worker stopping: finishing in-flight jobs');
    try {
      await delivery.close();
      await metrics.close();
      log.info('worker stopped');
      process.exit(0);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'worker stopped with an error');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`worker failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
