// Benchmark for `npm run bench`: a full proxy sync of 1,000 services × 10 endpoints against the
// floor of simply feeding the same text to iptables-restore. Needs root; uses a private chain
// prefix and TEST-NET addresses, and removes everything afterwards. Nothing is hooked into
// built-in chains during the floor measurement, and the proxier's hooks only match test IPs.
import { performance } from 'node:perf_hooks';
import { runCommand } from '../exec.js';
import { randomSuffix } from '../testing/netns.js';
import type { EndpointSlice, Service } from '../types.js';
import { computeIptablesRules, isProxyChain } from './iptables-rules.js';
import { IptablesProxier } from './iptables-proxier.js';
import { IptablesApplier } from '../iptables.js';

export interface ProxySyncBenchmark {
  services: number;
  endpointsPerService: number;
  ruleLines: number;
  computeMs: number;
  syncMs: number;
  restoreFloorMs: number;
  /** syncMs / restoreFloorMs: 1.0 means our overhead is nothing. */
  ratio: number;
}

export function syntheticSnapshot(services: number, endpointsPerService: number, generation = 0) {
  const svcs: Service[] = [];
  const slices: EndpointSlice[] = [];
  for (let i = 0; i < services; i++) {
    const name = `svc-${i}`;
    svcs.push({ metadata: { name, namespace: 'bench' }, spec: { clusterIP: `10.252.${i >> 8}.${i & 255}`, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
    slices.push({
      metadata: { name: `${name}-1`, namespace: 'bench', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: Array.from({ length: endpointsPerService }, (_, j) => ({ addresses: [`10.253.${(i * endpointsPerService + j) >> 8 & 255}.${(i * endpointsPerService + j + generation) & 255}`] })),
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
  }
  return { services: svcs, endpointSlices: slices };
}

export async function benchmarkProxySync(services = 1000, endpointsPerService = 10): Promise<ProxySyncBenchmark> {
  const prefix = `NB${randomSuffix(2).toUpperCase()}`;
  const snapshot = syntheticSnapshot(services, endpointsPerService);
  const input = { ...snapshot, nodeIPs: ['127.0.0.1'], clusterCIDR: '10.253.0.0/16', chainPrefix: prefix };

  const t0 = performance.now();
  const rules = computeIptablesRules(input);
  const computeMs = performance.now() - t0;

  // Floor: the same text through iptables-restore, nothing else (then removed again).
  const floorStart = performance.now();
  const r = await runCommand('iptables-restore', ['-w', '--noflush'], { stdin: rules.text });
  const restoreFloorMs = performance.now() - floorStart;
  if (r.code !== 0) throw new Error(`iptables-restore: ${r.stderr}`);
  await new IptablesApplier({ ownsChain: (c) => isProxyChain(c, prefix) }).cleanup([], ['filter', 'nat']);

  const proxier = new IptablesProxier({ nodeIPs: ['127.0.0.1'], clusterCIDR: '10.253.0.0/16', chainPrefix: prefix });
  try {
    const s0 = performance.now();
    await proxier.sync(snapshot);
    const syncMs = performance.now() - s0;
    return { services, endpointsPerService, ruleLines: rules.text.split('\n').length, computeMs, syncMs, restoreFloorMs, ratio: syncMs / restoreFloorMs };
  } finally {
    await proxier.cleanup();
  }
}
