export * from './meta.js';
export * from './types.js';
export * from './constants.js';
