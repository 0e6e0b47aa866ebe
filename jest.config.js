// One jest config, two projects: `unit` (pure logic, milliseconds, parallel) and `integration` (a real
// kube-apiserver/etcd/controller-manager/scheduler built on this machine, real CNI plugins in real
// network namespaces; run in band because the tests share one cluster and the host's namespaces).
// ESM throughout: client-node 2.x is ESM-only, so jest runs with --experimental-vm-modules and SWC
// strips the types (tsc type-checks once, in `npm run typecheck`).
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  // Sources import './x.js' (NodeNext style); map back to the .ts file.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};

/** @type {import('jest').Config} */
export default {
  // Jest 30 reads testTimeout from the global config, not per project: integration tests wait on a real
  // cluster, so the bound is theirs; unit tests finish in milliseconds either way.
  testTimeout: 180_000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/operator/test/**/*.test.ts',
        '<rootDir>/ipam-plugin/test/**/*.test.ts',
        '<rootDir>/tests/nodesim/test/**/*.test.ts',
        '<rootDir>/tests/bench/test/**/*.test.ts',
      ],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/tests/integration/**/*.test.ts'],
      // Starts the local control plane once (building it into the cache on a cold machine) and
      // stops it afterwards if this run started it.
      globalSetup: '<rootDir>/tests/support/global-setup.ts',
      globalTeardown: '<rootDir>/tests/support/global-teardown.ts',
    },
  ],
};
