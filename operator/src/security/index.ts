// Node identity and caller authentication for the allocator service (ADR 0006).
export * from './ca.js';
export * from './issue.js';
export * from './peer-identity.js';
export * from './enroll-server.js';
export { NODE_ORGANIZATION, EC_P256 } from './x509.js';
