import { loadConfigOrExit, redactUrl } from '../config';
import { runProcess } from '../lifecycle/run-process';
import { logger } from '../logger';
import { openGateway } from './gateway';

/** Gateway process: `node dist/src/app/gateway-main.js`. */
runProcess('gateway', async () => {
  const config = loadConfigOrExit();
  const gateway = await openGateway(config);
  logger('gateway-main').info(
    { port: gateway.port, redis: redactUrl(config.REDIS_URL), prefix: config.KEY_PREFIX },
    'gateway ready',
  );
  return gateway;
});
