// SpiderSubnet rules: the carving ledger (status.controlledIPPools) and carving auto pools from it.

export * from './controlled-pools.js';
export * from './carve.js';
export * from './manual-pools.js';
