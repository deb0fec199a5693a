/**
 * BullMQ's own floor for the worker-cost scenario (`node noop-worker.js`, config from the
 * environment): a Worker on the delivery queue with the delivery worker's options (concurrency 1,
 * the same lock settings, the same connection kind) whose processor does nothing. What it costs per
 * job is what BullMQ costs before any of Switchboard's work.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config';
import { createKeys } from '../../src/redis/keys';
import { queueNames } from '../../src/wire/delivery-batch';

const config = loadConfig(process.env);
const keys = createKeys(config.KEY_PREFIX);
const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
const worker = new Worker(
  queueNames(config.QUEUE_NAME).delivery,
  () => Promise.resolve(undefined),
  {
    connection: redis,
    prefix: keys.bullPrefix,
    concurrency: 1,
    lockDuration: config.WORKER_LOCK_MS,
    stalledInterval: config.WORKER_LOCK_MS,
  },
);
worker.on('error', (err) => process.stderr.write(`noop worker: ${err.message}\n`));
process.on('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
void worker.waitUntilReady().then(() => process.stdout.write('noop ready\n'));
