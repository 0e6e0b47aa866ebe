// Standalone jest config for the node-simulator integration test, for running it on its own:
//   npm run test:nodesim
// The root jest.config.js (owned by the lead) gets the same settings as its `integration` project.
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

/** @type {import('jest').Config} */
export default {
  rootDir: '../..',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/tests/integration/nodesim.test.ts'],
  // Real processes, namespaces and a shared cluster: one file at a time, never in parallel.
  maxWorkers: 1,
  testTimeout: 120_000,
};
