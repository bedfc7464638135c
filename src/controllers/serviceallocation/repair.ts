// The Service address repair loop: Kubernetes' ClusterIP and NodePort repair controllers
// (pkg/registry/core/service/{ipallocator,portallocator}/controller) for navarch's
// one-key-per-address reservations (src/apiserver/service-allocation.ts).
//
// Reservations are taken before a Service is written, so a server that dies in between leaks
// one; and a store restored from a backup (or written before reservations existed) can hold
// Services whose addresses no key records. Every pass:
//   - releases a reservation whose owner Service is gone or no longer holds that address —
//     but only once it is older than the grace period, so a create still in flight (reserved,
//     not yet stored) keeps its address;
//   - re-reserves an address a Service holds with no key, so it cannot be handed out again.
// It talks to storage directly because reservations are apiserver state, not API objects,
// and every step is a create-if-absent or delete-if-unchanged: several servers may run it at once.
import type { KubeObject } from '../../api/types.js';
import {
  heldClusterIps,
  heldNodePorts,
  nodePortReservationKey,
  nodePortReservationPrefix,
  parseReservation,
  serviceIpReservationKey,
  serviceIpReservationPrefix,
  ServiceRangeReservations,
} from '../../apiserver/service-allocation.js';
import type { Store } from '../../storage/types.js';
import type { Clock } from '../../util/clock.js';

export interface ServiceAllocationRepairOptions {
  store: Store;
  /** Every Service, as current as the store (read after the reservations are listed). */
  listServices: () => Promise<KubeObject[]>;
  clock: Clock;
  /** Between passes (Kubernetes: 3 minutes for IPs, here 60 s by default). */
  intervalMs?: number;
  /** A reservation younger than this is never released (default 2 minutes). */
  gracePeriodMs?: number;
  log?: (level: 'info' | 'warn', message: string, fields: Record<string, unknown>) => void;
}

export interface RepairResult {
  /** Keys given back: leaked by a failed create, a crash, or a missed release. */
  released: string[];
  /** Keys re-created for Services that held an address without one. */
  reserved: string[];
  /** Keys a Service holds but another Service's reservation owns: two Services share an address. */
  conflicts: string[];
}

export interface ServiceAllocationRepair {
  runOnce(): Promise<RepairResult>;
  /** Runs a pass after `firstPassDelayMs` (default: one interval) and then every interval until stop(). */
  start(firstPassDelayMs?: number): void;
  stop(): void;
}

const defaultIntervalMs = 60_000;
const defaultGracePeriodMs = 120_000;

export function createServiceAllocationRepair(options: ServiceAllocationRepairOptions): ServiceAllocationRepair {
  const reservations = new ServiceRangeReservations(options.store, options.clock);
  const intervalMs = options.intervalMs ?? defaultIntervalMs;
  const gracePeriodMs = options.gracePeriodMs ?? defaultGracePeriodMs;
  const log = options.log ?? ((level, message, fields) => console.error(JSON.stringify({ component: 'service-allocation-repair', level, msg: message, ...fields })));
  let timer: { cancel(): void } | undefined;
  let stopped = true;

  async function runOnce(): Promise<RepairResult> {
    const result: RepairResult = { released: [], reserved: [], conflicts: [] };
    // Reservations first, Services second: a Service stored after a reservation was listed is
    // then always seen, so only a write still in flight can look orphaned — and it is young.
    const [ips, ports] = await Promise.all([options.store.range(serviceIpReservationPrefix), options.store.range(nodePortReservationPrefix)]);
    const services = await options.listServices();
    // Which Services hold each address (more than one only if something went wrong).
    const holders = new Map<string, KubeObject[]>();
    const hold = (key: string, svc: KubeObject) => holders.set(key, [...(holders.get(key) ?? []), svc]);
    for (const svc of services) {
      for (const ip of heldClusterIps(svc)) hold(serviceIpReservationKey(ip), svc);
      for (const port of heldNodePorts(svc)) hold(nodePortReservationKey(port), svc);
    }
    const now = options.clock.now();
    const existing = new Set<string>();
    for (const kv of [...ips.kvs, ...ports.kvs]) {
      existing.add(kv.key);
      const reservation = parseReservation(kv.value);
      const holding = holders.get(kv.key) ?? [];
      if (reservation && holding.some((s) => s.metadata.uid === reservation.uid)) {
        if (holding.length > 1) {
          result.conflicts.push(kv.key);
          log('warn', 'address allocated to several Services', { key: kv.key, heldBy: holding.map((s) => `${s.metadata.namespace}/${s.metadata.name}`) });
        }
        continue;
      }
      const reservedAt = reservation ? Date.parse(reservation.reservedAt) : NaN;
      if (Number.isFinite(reservedAt) && now - reservedAt < gracePeriodMs) continue;
      const deleted = await options.store.delete(kv.key, kv.modRevision);
      if (!deleted.succeeded) continue; // changed since listed: the next pass decides
      existing.delete(kv.key);
      result.released.push(kv.key);
      log('info', 'released leaked reservation', { key: kv.key, owner: reservation ? `${reservation.namespace}/${reservation.name}` : 'unreadable' });
    }
    for (const [key, holding] of holders) {
      if (existing.has(key)) continue;
      const svc = holding[0]!;
      const owner = { namespace: svc.metadata.namespace ?? '', name: svc.metadata.name ?? '', uid: svc.metadata.uid ?? '' };
      if (await reservations.reserve(key, owner)) {
        result.reserved.push(key);
        log('info', 'reserved address held without a reservation', { key, service: `${owner.namespace}/${owner.name}` });
      } else {
        result.conflicts.push(key);
        log('warn', 'address held by a Service is reserved for another', { key, heldBy: `${owner.namespace}/${owner.name}` });
      }
      if (holding.length > 1) log('warn', 'address allocated to several Services', { key, heldBy: holding.map((s) => `${s.metadata.namespace}/${s.metadata.name}`) });
    }
    return result;
  }

  function schedule(delayMs: number): void {
    timer = options.clock.setTimeout(() => {
      timer = undefined;
      runOnce()
        .catch((e) => log('warn', 'repair pass failed', { error: (e as Error).message }))
        .finally(() => {
          if (!stopped) schedule(intervalMs);
        });
    }, delayMs);
  }

  return {
    runOnce,
    start(firstPassDelayMs = intervalMs) {
      if (!stopped) return;
      stopped = false;
      schedule(firstPassDelayMs);
    },
    stop() {
      stopped = true;
      timer?.cancel();
      timer = undefined;
    },
  };
}
