// The userspace service proxy, for hosts where iptables is not usable (the `process` runtime,
// unprivileged nodes): one listener per service port that relays each TCP connection (or UDP
// flow) to a backend chosen round-robin, honouring sessionAffinity ClientIP. Level-triggered
// like the iptables proxier: sync opens what is missing, closes what is gone, updates backends.
import dgram from 'node:dgram';
import net from 'node:net';
import type { EndpointSlice, Service, ServicePort } from '../types.js';
import { backendsFor, indexSlicesByService, type Backend } from './endpoints.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface UserspaceProxierOptions {
  nodeName?: string;
  /** Where a service port listens; undefined skips it. Default: the ClusterIP and service port
   * (works when the service CIDR is routed to a local interface, or for 127.x ClusterIPs). */
  listenAddress?: (service: Service, port: ServicePort) => ListenAddress | undefined;
  udpIdleTimeoutMs?: number;
  now?: () => number;
}

interface Portal {
  key: string;
  address: ListenAddress;
  protocol: 'TCP' | 'UDP';
  backends: Backend[];
  affinitySeconds?: number;
  affinity: Map<string, { backend: Backend; lastUsed: number }>;
  next: number;
  close(): Promise<void>;
}

export class UserspaceProxier {
  private readonly portals = new Map<string, Portal>();
  private readonly now: () => number;

  constructor(private readonly options: UserspaceProxierOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** The address each service port listens on now (for tests and status). */
  listening(): Map<string, ListenAddress> {
    return new Map([...this.portals].map(([k, p]) => [k, p.address]));
  }

  async sync(snapshot: { services: Service[]; endpointSlices: EndpointSlice[] }): Promise<void> {
    const slices = indexSlicesByService(snapshot.endpointSlices);
    const wanted = new Set<string>();
    for (const svc of snapshot.services) {
      const spec = svc.spec ?? {};
      if (spec.type === 'ExternalName' || !spec.clusterIP || spec.clusterIP === 'None') continue;
      const ns = svc.metadata.namespace ?? 'default';
      for (const port of spec.ports ?? []) {
        const protocol = port.protocol ?? 'TCP';
        if (protocol === 'SCTP') continue; // Node has no SCTP sockets
        const address = this.options.listenAddress ? this.options.listenAddress(svc, port) : { host: spec.clusterIP, port: port.port };
        if (!address) continue;
        const key = `${ns}/${svc.metadata.name}:${port.name ?? ''}/${protocol}`;
        const { cluster, local } = backendsFor(svc, port, slices.get(`${ns}/${svc.metadata.name}`) ?? [], this.options.nodeName);
        const backends = spec.internalTrafficPolicy === 'Local' ? local : cluster;
        const affinitySeconds = spec.sessionAffinity === 'ClientIP' ? spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800 : undefined;
        let portal = this.portals.get(key);
        if (portal && (portal.address.host !== address.host || (address.port !== 0 && portal.address.port !== address.port))) {
          await portal.close();
          this.portals.delete(key);
          portal = undefined;
        }
        if (!portal) {
          portal = protocol === 'UDP' ? await this.openUdp(key, address) : await this.openTcp(key, address);
          this.portals.set(key, portal);
        }
        portal.backends = backends;
        portal.affinitySeconds = affinitySeconds;
        if (!affinitySeconds) portal.affinity.clear();
        wanted.add(key);
      }
    }
    for (const [key, portal] of this.portals) {
      if (wanted.has(key)) continue;
      await portal.close();
      this.portals.delete(key);
    }
  }

  async cleanup(): Promise<void> {
    for (const portal of this.portals.values()) await portal.close();
    this.portals.clear();
  }

  private pick(portal: Portal, client: string, skip: Set<Backend> = new Set()): Backend | undefined {
    const candidates = portal.backends.filter((b) => !skip.has(b));
    if (candidates.length === 0) return undefined;
    if (portal.affinitySeconds) {
      const sticky = portal.affinity.get(client);
      if (sticky && this.now() - sticky.lastUsed < portal.affinitySeconds * 1000 && candidates.some((b) => b.ip === sticky.backend.ip && b.port === sticky.backend.port)) {
        sticky.lastUsed = this.now();
        return sticky.backend;
      }
    }
    const backend = candidates[portal.next++ % candidates.length]!;
    if (portal.affinitySeconds) portal.affinity.set(client, { backend, lastUsed: this.now() });
    return backend;
  }

  private async openTcp(key: string, address: ListenAddress): Promise<Portal> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((client) => {
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      client.on('error', () => client.destroy());
      const tried = new Set<Backend>();
      const attempt = () => {
        const backend = this.pick(portal, client.remoteAddress ?? '', tried);
        if (!backend) {
          // No endpoint: refuse the way a REJECT would, with a reset.
          client.resetAndDestroy();
          return;
        }
        tried.add(backend);
        const upstream = net.connect({ host: backend.ip, port: backend.port });
        sockets.add(upstream);
        upstream.on('close', () => sockets.delete(upstream));
        upstream.setTimeout(5000, () => upstream.destroy(new Error('connect timeout')));
        let connected = false;
        upstream.once('connect', () => {
          connected = true;
          upstream.setTimeout(0);
          client.pipe(upstream);
          upstream.pipe(client);
          upstream.on('error', () => client.destroy());
          client.on('close', () => upstream.destroy());
        });
        upstream.once('error', () => {
          if (!connected) attempt(); // refused or timed out: try another endpoint
          else client.destroy();
        });
      };
      attempt();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => resolve());
    });
    const bound = server.address() as net.AddressInfo;
    const portal: Portal = {
      key,
      address: { host: address.host, port: bound.port },
      protocol: 'TCP',
      backends: [],
      affinity: new Map(),
      next: 0,
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    };
    return portal;
  }

  private async openUdp(key: string, address: ListenAddress): Promise<Portal> {
    const socket = dgram.createSocket(address.host.includes(':') ? 'udp6' : 'udp4');
    const flows = new Map<string, { upstream: dgram.Socket; timer: NodeJS.Timeout }>();
    const idle = this.options.udpIdleTimeoutMs ?? 30_000;
    socket.on('message', (msg, rinfo) => {
      const client = `${rinfo.address}:${rinfo.port}`;
      let flow = flows.get(client);
      if (!flow) {
        const backend = this.pick(portal, rinfo.address);
        if (!backend) return;
        const upstream = dgram.createSocket(backend.ip.includes(':') ? 'udp6' : 'udp4');
        upstream.on('message', (reply) => socket.send(reply, rinfo.port, rinfo.address));
        upstream.on('error', () => undefined);
        upstream.connect(backend.port, backend.ip);
        flow = { upstream, timer: setTimeout(() => undefined, 0) };
        flows.set(client, flow);
        const f = flow;
        upstream.once('connect', () => f.upstream.send(msg));
      } else {
        try {
          flow.upstream.send(msg);
        } catch {
          // still connecting: the connect handler sends the first datagram only; later ones wait
        }
      }
      clearTimeout(flow.timer);
      const f = flow;
      flow.timer = setTimeout(() => {
        f.upstream.close();
        flows.delete(client);
      }, idle);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(address.port, address.host, () => resolve());
    });
    const portal: Portal = {
      key,
      address: { host: address.host, port: socket.address().port },
      protocol: 'UDP',
      backends: [],
      affinity: new Map(),
      next: 0,
      close: () =>
        new Promise<void>((resolve) => {
          for (const f of flows.values()) {
            clearTimeout(f.timer);
            f.upstream.close();
          }
          flows.clear();
          socket.close(() => resolve());
        }),
    };
    return portal;
  }
}
