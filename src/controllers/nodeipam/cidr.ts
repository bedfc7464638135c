// IPv4 CIDR arithmetic and a set of same-sized subnets carved out of one cluster CIDR.

export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export function ipv4ToNumber(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new Error(`invalid IPv4 address "${ip}"`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function numberToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function parseCidr(cidr: string): Ipv4Cidr {
  const [ip, bits] = cidr.split('/');
  const prefix = Number(bits);
  if (!ip || !/^\d+$/.test(bits ?? '') || prefix < 0 || prefix > 32) throw new Error(`invalid CIDR "${cidr}"`);
  const size = 2 ** (32 - prefix);
  return { base: Math.floor(ipv4ToNumber(ip) / size) * size, prefix };
}

export function formatCidr(c: Ipv4Cidr): string {
  return `${numberToIpv4(c.base)}/${c.prefix}`;
}

export function cidrSize(c: Ipv4Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function cidrContains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
  return inner.prefix >= outer.prefix && inner.base >= outer.base && inner.base + cidrSize(inner) <= outer.base + cidrSize(outer);
}

export function ipInCidr(ip: string, c: Ipv4Cidr): boolean {
  const n = ipv4ToNumber(ip);
  return n >= c.base && n < c.base + cidrSize(c);
}

/**
 * The subnets of size /maskSize in a cluster CIDR, each free or taken (kube's CidrSet).
 * Allocation takes the lowest free subnet after the last one handed out, so a subnet freed by a
 * deleted node is not reused at once while its routes may still linger elsewhere.
 */
export class CidrSet {
  readonly cluster: Ipv4Cidr;
  private readonly used = new Set<number>();
  private readonly count: number;
  private next = 0;

  constructor(clusterCidr: string, readonly maskSize: number) {
    this.cluster = parseCidr(clusterCidr);
    if (maskSize < this.cluster.prefix || maskSize > 32) throw new Error(`node CIDR mask /${maskSize} does not fit in ${clusterCidr}`);
    this.count = 2 ** (maskSize - this.cluster.prefix);
  }

  private indexOf(cidr: string): number | undefined {
    const c = parseCidr(cidr);
    if (c.prefix !== this.maskSize || !cidrContains(this.cluster, c)) return undefined;
    return (c.base - this.cluster.base) / 2 ** (32 - this.maskSize);
  }

  private format(index: number): string {
    return formatCidr({ base: this.cluster.base + index * 2 ** (32 - this.maskSize), prefix: this.maskSize });
  }

  /** Marks a subnet taken; false when it is not one of ours (another size, outside the cluster CIDR). */
  occupy(cidr: string): boolean {
    const i = this.indexOf(cidr);
    if (i === undefined) return false;
    this.used.add(i);
    return true;
  }

  release(cidr: string): void {
    const i = this.indexOf(cidr);
    if (i !== undefined) this.used.delete(i);
  }

  isUsed(cidr: string): boolean {
    const i = this.indexOf(cidr);
    return i !== undefined && this.used.has(i);
  }

  /** Takes a free subnet, or returns undefined when the cluster CIDR is full. */
  allocate(): string | undefined {
    for (let k = 0; k < this.count; k++) {
      const i = (this.next + k) % this.count;
      if (this.used.has(i)) continue;
      this.used.add(i);
      this.next = (i + 1) % this.count;
      return this.format(i);
    }
    return undefined;
  }

  usedCount(): number {
    return this.used.size;
  }
}
