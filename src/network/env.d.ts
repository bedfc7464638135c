// TypeScript 7 no longer pulls every @types package in by default; the network modules need Node's.
// (The integrator may prefer `"types": ["node"]` in tsconfig.json; then this line can go.)
/// <reference types="node" />
