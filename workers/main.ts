import { loadConfigOrExit } from '../src/config';
import { logger } from '../src/logger';
import { redactUrl } from '../src/redis/connections';
import { startDeliveryWorker } from './delivery-worker';

/** Worker process: `node dist/workers/main.js`. SIGTERM/SIGINT finish in-flight jobs, then exit 0. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = logger('worker-main');
  const delivery = await startDeliveryWorker(config);
  log.info({ redis: redactUrl(config.REDIS_URL), queue: config.QUEUE_NAME, concurrency: config.WORKER_CONCURRENCY }, 'worker ready');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'worker stopping: finishing in-flight jobs');
    try {
      await delivery.close();
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
