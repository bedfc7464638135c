// Types for yaml.js, so the Node tests are type-checked.
export function toYaml(value: unknown): string;
