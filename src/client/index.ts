/// <reference types="node" />
// (TypeScript 7 no longer loads @types/node implicitly and tsconfig.json does not list it yet;
// this reference keeps client/ type-checking until tsconfig gets "types": ["node"].)
// The public surface of client/ (testing/ is deliberately not re-exported).
export * from './clock.js';
export * from './errors.js';
export * from './transport.js';
export * from './client.js';
export * from './informer.js';
export * from './workqueue.js';
export * from './leader-election.js';
export * from './events.js';
export * from './controller.js';
