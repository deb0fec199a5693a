import type { BenchStack } from './harness';
import { runFacts } from './report';

/**
 * The setup facts a result opens with when its scenario sends order_status_changed to one order
 * room through a BenchStack (e2e, throughput): machine and load, Redis, the clients (as the
 * scenario counts them), the room and event, the worker's concurrency.
 */
export async function orderRoomSetup(
  stack: BenchStack,
  loadBefore: number[],
  clients: { clients: number; clientProcesses?: number },
) {
  return {
    ...runFacts(loadBefore),
    ...(await stack.redisFacts()),
    ...clients,
    room: 'order:bench on /orders',
    event: 'order_status_changed (delivery immediate)',
    workerConcurrency: stack.config.WORKER_CONCURRENCY,
  };
}
