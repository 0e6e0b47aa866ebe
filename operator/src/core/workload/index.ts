// Workload-level rules: auto-pool naming, labels and size; which existing allocation a pod gets back.

export * from './application.js';
export * from './allocation-record.js';
export * from './auto-pool-name.js';
export * from './auto-pool-labels.js';
export * from './auto-pool-size.js';
export * from './idempotency.js';
export * from './auto-pool-plan.js';
