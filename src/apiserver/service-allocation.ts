// Service ClusterIP and NodePort allocation, atomic in storage.
//
// Kubernetes keeps one IPAddress object per allocated ClusterIP (its name is the IP, so a
// create conflict means "already allocated") and a compare-and-swapped bitmap for nodePorts.
// Here both are one key per reserved address, created with the store's create-if-absent:
//   /registry/ranges/serviceips/<ip>            → {"namespace","name","uid","reservedAt"}
//   /registry/ranges/servicenodeports/<port>    → same
// Two concurrent creates (or two servers on one etcd) can therefore never both win an
// address. A reservation is made during admission, before the Service is written; the REST
// layer's AdmissionTransaction gives it back when the write does not land, and lets go of
// addresses a stored Service no longer holds (delete, type change, port change). Whatever a
// crash leaks, the repair loop (src/controllers/serviceallocation/) cleans up.
import type { KubeObject } from '../api/types.js';
import type { Store } from '../storage/types.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';
import { ApiError, invalid } from './errors.js';
import type { ResourceStore } from './resource-store.js';

export const serviceIpReservationPrefix = '/registry/ranges/serviceips/';
export const nodePortReservationPrefix = '/registry/ranges/servicenodeports/';

export function serviceIpReservationKey(ip: string): string {
  return serviceIpReservationPrefix + ip;
}
export function nodePortReservationKey(port: number): string {
  return nodePortReservationPrefix + String(port);
}

/** The Service an address is reserved for. */
export interface ReservationOwner {
  namespace: string;
  name: string;
  uid: string;
}

export interface Reservation extends ReservationOwner {
  /** When the reservation was made (RFC 3339): the repair loop leaves young ones alone. */
  reservedAt: string;
}

export function parseReservation(value: string): Reservation | null {
  try {
    const parsed = JSON.parse(value) as Reservation;
    return typeof parsed?.uid === 'string' ? parsed : null;
  } catch {
    return null;
  }
}

export function ipToNumber(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
export function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

/** The ClusterIPs a stored Service holds (none for ExternalName and headless Services). */
export function heldClusterIps(service: KubeObject | null | undefined): string[] {
  const spec = service?.spec;
  if (!spec || (spec.type ?? 'ClusterIP') === 'ExternalName') return [];
  const ips = new Set<string>();
  for (const ip of [spec.clusterIP, ...(spec.clusterIPs ?? [])]) if (typeof ip === 'string' && ip && ip !== 'None') ips.add(ip);
  return [...ips];
}

/** The node ports a stored Service holds (only NodePort and LoadBalancer Services hold any). */
export function heldNodePorts(service: KubeObject | null | undefined): number[] {
  const spec = service?.spec;
  if (!spec || (spec.type !== 'NodePort' && spec.type !== 'LoadBalancer')) return [];
  const ports = new Set<number>();
  for (const p of spec.ports ?? []) if (typeof p.nodePort === 'number' && p.nodePort > 0) ports.add(p.nodePort);
  return [...ports];
}

/** Reservation keys in storage: create-if-absent to take one, delete-if-unchanged to give one back. */
export class ServiceRangeReservations {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** True when `key` is now reserved for `owner` (newly, or it already was). */
  async reserve(key: string, owner: ReservationOwner): Promise<boolean> {
    const reservation: Reservation = { namespace: owner.namespace, name: owner.name, uid: owner.uid, reservedAt: new Date(this.clock.now()).toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await this.store.create(key, JSON.stringify(reservation));
      if (result.succeeded) return true;
      // Gone again between our create and the read: try once more.
      if (!result.current) continue;
      return parseReservation(result.current.value)?.uid === owner.uid;
    }
    return false;
  }

  /** Gives `key` back if `uid` still owns it; never deletes another Service's reservation. */
  async release(key: string, uid: string): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const { kv } = await this.store.get(key);
      if (!kv || parseReservation(kv.value)?.uid !== uid) return false;
      const result = await this.store.delete(key, kv.modRevision);
      if (result.succeeded) return true;
    }
    return false;
  }

  /** Who holds `key`, or null. */
  async owner(key: string): Promise<Reservation | null> {
    const { kv } = await this.store.get(key);
    return kv ? parseReservation(kv.value) : null;
  }

  /** Every reserved key under `prefix`. */
  async reservedKeys(prefix: string): Promise<Set<string>> {
    const { kvs } = await this.store.range(prefix);
    return new Set(kvs.map((kv) => kv.key));
  }
}

export interface ServiceAllocationConfig {
  resources: () => ResourceStore;
  /** Service CIDR, /16 or smaller IPv4 (default 10.43.0.0/16). */
  serviceCidr?: string;
  nodePortRange?: [number, number];
  random?: () => number;
  /** Stamps reservations (default: the system clock). */
  clock?: Clock;
}

function isServiceWrite(a: AdmissionAttributes): boolean {
  return a.resource.groupKind === 'Service' && !a.subresource;
}

/**
 * Allocates spec.clusterIP(s) and node ports on Service create (and on type changes),
 * reserving each atomically in storage and refusing addresses or ports another Service
 * holds, with Kubernetes' messages.
 */
export function serviceAddressAllocation(config: ServiceAllocationConfig): AdmissionPlugin {
  const [base, bits] = (config.serviceCidr ?? '10.43.0.0/16').split('/');
  const first = ipToNumber(base);
  const size = 2 ** (32 - Number(bits));
  const [portMin, portMax] = config.nodePortRange ?? [30000, 32767];
  const random = config.random ?? Math.random;
  const clock = config.clock ?? systemClock;
  const reservations = () => new ServiceRangeReservations(config.resources().store, clock);
  // .1 is the kubernetes Service's and .10 cluster DNS's: handed out only on request.
  const notDynamic = new Set([numberToIp(first + 1), numberToIp(first + 10)]);

  /** Picks a free value and reserves it, retrying on lost races; undefined when the range is full. */
  async function reserveAny<T>(candidates: { count: number; at: (i: number) => T }, used: Set<T>, take: (value: T) => Promise<boolean>): Promise<T | undefined> {
    const isFree = (v: T) => !used.has(v);
    for (let tries = 0; tries < 64; tries++) {
      const candidate = candidates.at(Math.floor(random() * candidates.count));
      if (!isFree(candidate)) continue;
      if (await take(candidate)) return candidate;
      used.add(candidate);
    }
    const start = Math.floor(random() * candidates.count);
    for (let i = 0; i < candidates.count; i++) {
      const candidate = candidates.at((start + i) % candidates.count);
      if (!isFree(candidate)) continue;
      if (await take(candidate)) return candidate;
      used.add(candidate);
    }
    return undefined;
  }

  return {
    name: 'ServiceAddressAllocation',
    async admit(a) {
      if (!isServiceWrite(a) || !a.object || (a.operation !== 'CREATE' && a.operation !== 'UPDATE')) return;
      const svc = a.object;
      const spec = svc.spec ?? (svc.spec = {});
      const type = spec.type ?? 'ClusterIP';
      const name = svc.metadata.name ?? '';
      const owner: ReservationOwner = { namespace: svc.metadata.namespace ?? '', name, uid: svc.metadata.uid ?? '' };
      const store = reservations();
      // Keys this write reserved: given back if it does not land.
      const reserved: string[] = [];
      a.transaction?.onRevert(async () => {
        for (const key of reserved) await store.release(key, owner.uid);
      });
      // Once stored, whatever the previous version held and this one does not is free again.
      if (a.operation === 'UPDATE' && a.oldObject) {
        const previous = a.oldObject;
        a.transaction?.onCommit(async (stored) => releaseDropped(store, previous, stored));
      }
      /** Takes `key` for this Service; on a dry run only checks that nobody else has it. */
      const take = async (key: string): Promise<boolean> => {
        if (a.dryRun) {
          const holder = await store.owner(key);
          return !holder || holder.uid === owner.uid;
        }
        if (!(await store.reserve(key, owner))) return false;
        reserved.push(key);
        return true;
      };
      // Services written before reservations existed (or restored without them) hold addresses
      // no key records yet: the listing keeps those from being handed out twice until repaired.
      const items = await config.resources().listForAdmission(a.resource, '');
      const others = items.filter((s) => !(s.metadata.namespace === svc.metadata.namespace && s.metadata.name === svc.metadata.name));

      const oldIps = new Set(heldClusterIps(a.oldObject));
      if (type === 'ExternalName') {
        if (a.operation === 'CREATE') delete spec.clusterIP;
      } else if (spec.clusterIP !== 'None') {
        if (a.operation === 'UPDATE' && a.oldObject?.spec?.clusterIP && !spec.clusterIP) spec.clusterIP = a.oldObject.spec.clusterIP;
        if (spec.clusterIP) {
          const n = ipToNumber(spec.clusterIP);
          if (!oldIps.has(spec.clusterIP)) {
            if (!/^\d+\.\d+\.\d+\.\d+$/.test(spec.clusterIP) || n <= first || n >= first + size - 1) {
              throw invalid('Service', '', 'Service', name, [{ type: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: []string{"${spec.clusterIP}"}: failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is ${base}/${bits}` }]);
            }
            const heldByOther = others.some((s) => heldClusterIps(s).includes(spec.clusterIP));
            if (heldByOther || !(await take(serviceIpReservationKey(spec.clusterIP)))) {
              throw invalid('Service', '', 'Service', name, [{ type: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: []string{"${spec.clusterIP}"}: failed to allocate IP ${spec.clusterIP}: provided IP is already allocated` }]);
            }
          }
        } else {
          const used = new Set<string>([...notDynamic, ...others.flatMap(heldClusterIps)]);
          for (const key of await store.reservedKeys(serviceIpReservationPrefix)) used.add(key.slice(serviceIpReservationPrefix.length));
          const chosen = await reserveAny({ count: size - 3, at: (i) => numberToIp(first + 2 + i) }, used, (ip) => take(serviceIpReservationKey(ip)));
          if (!chosen) throw new ApiError(500, 'InternalError', `Internal error occurred: failed to allocate a serviceIP: range is full`);
          spec.clusterIP = chosen;
        }
        spec.clusterIPs = [spec.clusterIP];
      } else {
        spec.clusterIPs = ['None'];
      }

      if (type === 'NodePort' || type === 'LoadBalancer') {
        const heldByOthers = new Set<number>(others.flatMap(heldNodePorts));
        const oldHeld = new Set(heldNodePorts(a.oldObject));
        const oldPorts = new Map<string, number>();
        for (const p of a.oldObject?.spec?.ports ?? []) if (p.nodePort) oldPorts.set(`${p.port}/${p.protocol ?? 'TCP'}`, p.nodePort);
        // A Service may use one node port for several of its ports (TCP and UDP of one port).
        const mine = new Set<number>(oldHeld);
        for (const [i, p] of (spec.ports ?? []).entries()) {
          if (!p.nodePort) p.nodePort = oldPorts.get(`${p.port}/${p.protocol ?? 'TCP'}`);
          if (p.nodePort) {
            if (mine.has(p.nodePort)) continue;
            if (p.nodePort < portMin || p.nodePort > portMax) {
              throw invalid('Service', '', 'Service', name, [{ type: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, message: `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is ${portMin}-${portMax}` }]);
            }
            if (heldByOthers.has(p.nodePort) || !(await take(nodePortReservationKey(p.nodePort)))) {
              throw invalid('Service', '', 'Service', name, [{ type: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, message: `Invalid value: ${p.nodePort}: provided port is already allocated` }]);
            }
          } else {
            const used = new Set<number>([...heldByOthers, ...mine]);
            for (const key of await store.reservedKeys(nodePortReservationPrefix)) used.add(Number(key.slice(nodePortReservationPrefix.length)));
            const port = await reserveAny({ count: portMax - portMin + 1, at: (i) => portMin + i }, used, (c) => take(nodePortReservationKey(c)));
            if (!port) throw new ApiError(500, 'InternalError', 'Internal error occurred: failed to allocate a nodePort: range is full');
            p.nodePort = port;
          }
          mine.add(p.nodePort);
        }
      } else if (a.operation === 'UPDATE') {
        for (const p of spec.ports ?? []) delete p.nodePort;
      }
    },
    validate(a) {
      // A deleted Service's addresses are free once it is really gone (not while finalizers hold it).
      if (!isServiceWrite(a) || a.operation !== 'DELETE' || !a.oldObject || a.dryRun) return;
      const previous = a.oldObject;
      const store = reservations();
      a.transaction?.onCommit(async (stored) => releaseDropped(store, previous, stored));
    },
  };
}

/** Gives back what `previous` held and `stored` (null: deleted) no longer does. */
async function releaseDropped(store: ServiceRangeReservations, previous: KubeObject, stored: KubeObject | null): Promise<void> {
  const uid = previous.metadata.uid ?? '';
  const keepIps = new Set(heldClusterIps(stored));
  const keepPorts = new Set(heldNodePorts(stored));
  for (const ip of heldClusterIps(previous)) if (!keepIps.has(ip)) await store.release(serviceIpReservationKey(ip), uid);
  for (const port of heldNodePorts(previous)) if (!keepPorts.has(port)) await store.release(nodePortReservationKey(port), uid);
}
