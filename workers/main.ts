import { loadConfigOrExit, redactUrl } from '../src/config';
import { runProcess } from '../src/lifecycle/run-process';
import { logger } from '../src/logger';
import { startMetricsServer, type MetricsServer } from '../src/metrics/server';
import { openWorker } from '../src/app/worker';

/**
 * Worker process: `node dist/workers/main.js`, with /metrics, /readyz and /healthz on METRICS_PORT.
 * SIGTERM/SIGINT finish in-flight jobs, then exit 0.
 */
runProcess('worker', async () => {
  const config = loadConfigOrExit();
  const delivery = await openWorker(config);
  let metrics: MetricsServer;
  try {
    metrics = await startMetricsServer({
      host: config.METRICS_HOST,
      port: config.METRICS_PORT,
      metrics: delivery.metrics,
      ready: () => delivery.ready(),
    });
  } catch (err) {
    await delivery.close().catch(() => undefined);
    throw new Error(
      `metrics port ${config.METRICS_HOST}:${config.METRICS_PORT}: ${(err as Error).message} (set METRICS_PORT, 0 for any free port)`,
      {
        cause: err,
      },
    );
  }
  logger('worker-main').info(
    {
      redis: redactUrl(config.REDIS_URL),
      queue: config.QUEUE_NAME,
      concurrency: config.WORKER_CONCURRENCY,
      metricsPort: metrics.port,
    },
    'worker ready',
  );
  return {
    async close() {
      await delivery.close();
      await metrics.close();
    },
  };
});
