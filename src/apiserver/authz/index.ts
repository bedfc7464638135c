// Public surface of the API server's authorization building blocks (see README.md).
export * from './types.js';
export * from './rbac.js';
export * from './node.js';
export * from './union.js';
export * from './bootstrap-policy.js';
