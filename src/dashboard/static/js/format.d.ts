// Types for format.js, so the Node tests are type-checked.
export function humanDuration(milliseconds: number): string;
export function age(timestamp: string | undefined, now?: number): string;
export function parseQuantity(value: unknown): number;
export function formatCpu(value: unknown): string;
export function formatBytes(value: unknown): string;
