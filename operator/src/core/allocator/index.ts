export { IPNotInPoolError, ResizeConflictError } from './errors.js';
export { type PoolSpecInput, allocatableSet } from './allocatable-set.js';
export { type AllocatorOptions, PoolAllocator, QUARANTINE_CAP } from './pool-allocator.js';
export { DENSE_LIMIT } from './offset-set.js';
