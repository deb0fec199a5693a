/**
 * The same tests against a Redis Cluster: globalSetup starts 3 masters on loopback ports
 * (test/helpers/redis-cluster.ts) and sets REDIS_URL and REDIS_MODE=cluster for every test and
 * every process a test spawns; globalTeardown stops them by pid. `npm test` runs this after the
 * standalone suite.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  testPathIgnorePatterns: ['/node_modules/'],
  testMatch: [
    // end to end, recovery, throttling, idempotency and presence, unchanged
    '**/test/e2e/like-to-room.test.ts',
    '**/test/e2e/two-gateways.test.ts',
    '**/test/e2e/recovery.test.ts',
    '**/test/throttle/coalescing.test.ts',
    '**/test/throttle/management.test.ts',
    '**/test/throttle/recovery.test.ts',
    '**/test/events/idempotency.test.ts',
    // presence: rooms under their own tags, a gateway's reap spanning slots
    '**/test/presence/*.test.ts',
    // 3 gateways x 2 workers, 5,000 events, exactly once after de-duplication and in room order
    '**/test/scale/gateways-workers.test.ts',
    // what only a cluster shows: keys and channels spread over the masters, a restarted shard
    '**/test/cluster/*.test.ts',
  ],
  // A part a test could not close (test/helpers/stack.ts names it on stderr) must not keep the run
  // from ending: the cluster's processes are stopped by globalTeardown either way.
  forceExit: true,
  globalSetup: '<rootDir>/test/helpers/cluster-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/cluster-teardown.ts',
};
