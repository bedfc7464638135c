// Component benchmarks, each against a baseline measured in the same run: the scheduler
// (pods/s on simulated nodes through the API), the service proxy (rule sync vs the
// iptables-restore floor), cluster DNS (queries/s vs a UDP echo), and container start
// (navarch's runc path vs a raw `runc run -d` of the same bundle).
import { benchmarkScheduler } from '../src/scheduler/bench.js';
import { benchmarkProxySync } from '../src/network/proxy/bench.js';
import { benchmarkDns } from '../src/network/dns/bench.js';
import { measureStartOverhead } from '../src/runtime/oci/start-overhead.js';
import type { Benchmark } from './run.js';

export const componentBenchmarks: Benchmark[] = [
  {
    name: 'scheduler throughput',
    async run() {
      const r = await benchmarkScheduler({ nodes: 1000, pods: 30000 });
      return {
        name: 'scheduler: pods bound per second, 1,000 simulated nodes, 30,000 pending pods (in-process API, events written)',
        figures: { 'pods/s': r.podsPerSecond, 'elapsed ms': r.elapsedMs, 'setup ms': r.setupMs },
        target: { description: '≥ 1,000 pods/s', met: r.podsPerSecond >= 1000 },
      };
    },
  },
  {
    name: 'service proxy sync',
    async run() {
      const r = await benchmarkProxySync(1000, 10);
      return {
        name: 'service proxy: 1,000 Services × 10 endpoints, sync vs iptables-restore floor',
        figures: { 'rule lines': r.ruleLines, 'compute ms': r.computeMs, 'sync ms': r.syncMs, 'iptables-restore floor ms': r.restoreFloorMs, ratio: r.ratio },
        target: { description: 'sync within 1.5 × the iptables-restore floor', met: r.ratio <= 1.5 },
      };
    },
  },
  {
    name: 'cluster dns',
    async run() {
      const r = await benchmarkDns();
      return {
        name: 'cluster DNS: queries/s vs a direct UDP echo',
        figures: { queries: r.queries, 'dns queries/s': r.dnsQueriesPerSecond, 'udp echo/s': r.echoQueriesPerSecond, ratio: r.ratio },
      };
    },
  },
  {
    name: 'container start',
    async run() {
      const r = await measureStartOverhead(10);
      return {
        name: 'container start: navarch create+start vs raw runc run -d (same bundle)',
        figures: { 'navarch create+start median ms': r.navarchMedianMs, 'of which create ms': r.createMedianMs, 'raw runc run -d median ms': r.rawRuncMedianMs, ratio: r.ratio },
        target: { description: '≤ 2 × raw runc (the CNI ADD is not yet in either side of this figure)', met: r.ratio <= 2 },
      };
    },
  },
];
