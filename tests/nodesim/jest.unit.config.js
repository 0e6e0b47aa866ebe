// Standalone jest config for the simulator's own unit tests (no cluster, no netns):
//   npx node --experimental-vm-modules node_modules/jest/bin/jest.js --config tests/nodesim/jest.unit.config.js
// Meant to join the root `unit` project: testMatch <rootDir>/tests/nodesim/test/**/*.test.ts.
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'es6' }, sourceMaps: 'inline' }];

/** @type {import('jest').Config} */
export default {
  rootDir: '../..',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/tests/nodesim/test/**/*.test.ts'],
};
