/** Tests run on the TypeScript sources through SWC (type checking is `npm run typecheck`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // test/cluster/ needs the Redis Cluster that jest.cluster.config.js starts.
  testPathIgnorePatterns: ['/node_modules/', '/test/cluster/'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  setupFiles: ['<rootDir>/test/helpers/env.ts'],
  testTimeout: 30_000,
  // Tests share one Redis (each with its own key prefix) and spawn processes: two at a time fits 2 cores.
  maxWorkers: 2,
};
