// Kubernetes' defaulting for built-in kinds.
export { applyDefaults, defaultPodSpec } from './defaults.js';
