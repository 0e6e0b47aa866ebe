export * from './meta.js';
export * from './types.js';
