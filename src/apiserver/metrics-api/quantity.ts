// Formats usage the way resource.Quantity serialises what metrics-server builds: CPU as a
// nano-scaled decimal quantity ("12m", "1500u", "1283047n", "2"), memory as a binary one
// ("34Mi", "19400Ki", "1023"). kubectl top re-parses these, so they must be canonical.

/** CPU from nanocores: the largest decimal suffix that keeps the value an exact integer. */
export function formatCpu(nanoCores: number): string {
  const n = Math.max(0, Math.round(nanoCores));
  if (n === 0) return '0';
  if (n % 1e9 === 0) return `${n / 1e9}`;
  if (n % 1e6 === 0) return `${n / 1e6}m`;
  if (n % 1e3 === 0) return `${n / 1e3}u`;
  return `${n}n`;
}

const binarySuffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** Memory from bytes: the largest power-of-1024 suffix that keeps the value an exact integer. */
export function formatMemory(bytes: number): string {
  let n = Math.max(0, Math.round(bytes));
  if (n === 0) return '0';
  let i = 0;
  while (i < binarySuffixes.length - 1 && n % 1024 === 0) {
    n /= 1024;
    i++;
  }
  return `${n}${binarySuffixes[i]}`;
}
