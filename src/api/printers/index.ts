// Server-side printers (Table output) per kind, and the formatting helpers they share.
export { printers, podStatusCells, jobStatus } from './printers.js';
export { humanDuration, since, formatLabels, formatLabelSelector } from './format.js';
