// Pool candidate selection: which pools, in which order, may serve one pod interface — and why the
// others may not.

export * from './types.js';
export { selectPoolCandidates } from './select-pools.js';
export { planSources, type SourcePlan } from './sources.js';
export { checkPool } from './pool-filters.js';
export { comparePoolPriority, sortByPoolPriority } from './pool-priority.js';
export { poolFamily } from './pool-family.js';
export { missingFamilies, isCompleteAllocation } from './families.js';
export { evaluateLabelSelector, type SelectorVerdict } from './label-selector.js';
export { compileGlob, hasWildcard, type CompiledGlob } from './wildcard.js';
