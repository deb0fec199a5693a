import { loadConfigOrExit, redactUrl } from '../config';
import { runProcess } from '../lifecycle/run-process';
import { logger } from '../logger';
import { startGateway } from './server';

/** Gateway process: `node dist/src/gateway/main.js`. */
runProcess('gateway', async () => {
  const config = loadConfigOrExit();
  const gateway = await startGateway(config);
  logger('gateway-main').info({ port: gateway.port, redis: redactUrl(config.REDIS_URL), prefix: config.KEY_PREFIX }, 'gateway ready');
  return gateway;
});
