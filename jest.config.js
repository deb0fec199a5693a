/** Tests run on the TypeScript sources through SWC (type checking is `npm run typecheck`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // test/cluster/ needs the Redis Cluster that jest.cluster.config.js starts.
  testPathIgnorePatterns: ['/node_modules/', '/test/cluster/'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }],
    // jose 6 ships ESM only; Node 20 require()s it, jest's module loader (before Node 24.9) cannot.
    '/node_modules/jose/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  setupFiles: ['<rootDir>/test/helpers/env.ts'],
  testTimeout: 30_000,
  // Tests share one Redis (each with its own key prefix) and spawn processes: two at a time fits 2 cores.
  maxWorkers: 2,
};
