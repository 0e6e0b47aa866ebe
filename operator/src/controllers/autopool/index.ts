// Auto pools: workloads annotated with ipam.spidernet.io/subnet(s) get pools carved from SpiderSubnets.
export * from './controller.js';
export * from './events.js';
export * from './kube-io.js';
export * from './pool-usage.js';
export * from './reconciler.js';
export * from './subnet-ledger.js';
export * from './third-party.js';
export * from './workloads.js';
export * from './wiring.js';
