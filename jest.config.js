// One jest run, two projects: `unit` (pure logic, milliseconds) and `integration` (real
// kube-apiserver/etcd/CNI; added with the local control plane). ESM throughout: client-node 2.x is
// ESM-only, so jest runs with --experimental-vm-modules and SWC strips the types.
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
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/operator/test/**/*.test.ts', '<rootDir>/ipam-plugin/test/**/*.test.ts'],
    },
  ],
};
