import { loadConfigOrExit } from '../config';
import { logger } from '../logger';
import { redactUrl } from '../config';
import { startGateway } from './server';

/** Gateway process: `node dist/src/gateway/main.js`. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = logger('gateway-main');
  const gateway = await startGateway(config);
  log.info({ port: gateway.port, redis: redactUrl(config.REDIS_URL), prefix: config.KEY_PREFIX }, 'gateway ready');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'gateway stopping');
    const forced = setTimeout(() => process.exit(1), 10_000).unref();
    await gateway.close().catch((err: unknown) => log.error({ err: (err as Error).message }, 'close failed'));
    clearTimeout(forced);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`gateway failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
