// The cluster DNS server: authoritative for the cluster domain (and for the reverse names of the
// addresses it knows), a forwarder with a small cache for everything else. UDP and TCP.
import dgram from 'node:dgram';
import net from 'node:net';
import { promises as fs } from 'node:fs';
import dnsPacket, { type Answer, type Packet, type Question } from 'dns-packet';
import { DnsRecordSource, type DnsRecordOptions, type DnsSnapshot } from './records.js';
import { stubDomainFor, type KubeDnsForwarding, type StubDomain } from './kube-dns-config.js';

export interface Upstream {
  host: string;
  port: number;
}

export interface ClusterDnsOptions extends DnsRecordOptions {
  host: string;
  /** 0 picks a free port (the same one for UDP and TCP is not guaranteed; see addresses()). */
  port: number;
  upstreams?: Upstream[];
  /** Zones forwarded to their own nameservers (kube-dns stubDomains); see setForwarding. */
  stubDomains?: StubDomain[];
  upstreamTimeoutMs?: number;
  cacheSize?: number;
  /** Upper bound on how long an upstream answer is cached. */
  maxCacheTtlSeconds?: number;
  now?: () => number;
}

/** Nameservers from a resolv.conf, skipping our own address so we never forward to ourselves. */
export async function upstreamsFromResolvConf(file: string, exclude: string[] = []): Promise<Upstream[]> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((h): h is string => !!h && !exclude.includes(h))
    .map((host) => ({ host, port: 53 }));
}

interface CacheEntry {
  expires: number;
  packet: Packet;
}

export class ClusterDnsServer {
  private source: DnsRecordSource;
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly now: () => number;
  private stubDomains: StubDomain[];
  private upstreams: Upstream[];

  constructor(private readonly options: ClusterDnsOptions) {
    this.source = new DnsRecordSource({ services: [], endpointSlices: [], pods: [] }, options);
    this.now = options.now ?? Date.now;
    this.stubDomains = options.stubDomains ?? [];
    this.upstreams = options.upstreams ?? [];
  }

  /**
   * Applies the kube-dns ConfigMap's forwarding (level-triggered, like sync): stub domains, and
   * upstreamNameservers instead of the configured upstreams (back to them when absent).
   */
  setForwarding(forwarding: KubeDnsForwarding): void {
    const upstreams = forwarding.upstreamNameservers ?? this.options.upstreams ?? [];
    if (JSON.stringify([forwarding.stubDomains, upstreams]) === JSON.stringify([this.stubDomains, this.upstreams])) return;
    this.stubDomains = forwarding.stubDomains;
    this.upstreams = upstreams;
    // Answers cached from the old resolvers would outlive the change.
    this.cache.clear();
  }

  /** Level-triggered: rebuilds every record from the snapshot. */
  sync(snapshot: DnsSnapshot): void {
    this.source = new DnsRecordSource(snapshot, this.options);
  }

  async start(): Promise<{ udpPort: number; tcpPort: number }> {
    const udp = dgram.createSocket(this.options.host.includes(':') ? 'udp6' : 'udp4');
    udp.on('message', (msg, rinfo) => {
      void this.handle(msg, 'udp').then((reply) => {
        if (reply) udp.send(reply, rinfo.port, rinfo.address);
      });
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.options.port, this.options.host, () => resolve());
    });
    this.udp = udp;
    const udpPort = udp.address().port;
    const tcp = net.createServer((socket) => this.serveTcp(socket));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(this.options.port || udpPort, this.options.host, () => resolve());
    });
    this.tcp = tcp;
    return { udpPort, tcpPort: (tcp.address() as net.AddressInfo).port };
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.udp ? this.udp.close(() => r()) : r()));
    await new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r()));
    this.udp = undefined;
    this.tcp = undefined;
  }

  cleanup(): Promise<void> {
    return this.stop();
  }

  private serveTcp(socket: net.Socket): void {
    let buffered = Buffer.alloc(0);
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const len = buffered.readUInt16BE(0);
        if (buffered.length < 2 + len) break;
        const msg = buffered.subarray(2, 2 + len);
        buffered = buffered.subarray(2 + len);
        void this.handle(msg, 'tcp').then((reply) => {
          if (!reply || socket.destroyed) return;
          const framed = Buffer.alloc(2 + reply.length);
          framed.writeUInt16BE(reply.length, 0);
          reply.copy(framed, 2);
          socket.write(framed);
        });
      }
    });
  }

  /** Answers one wire-format query; undefined means "drop it" (not even a parseable header). */
  async handle(msg: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    let query: Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      if (msg.length < 12) return undefined;
      return encodeResponse({ id: msg.readUInt16BE(0), flags: 1 /* FORMERR */, questions: [] }, transport, 512);
    }
    if (query.type !== 'query') return undefined;
    const question = query.questions?.[0];
    const rd = query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0;
    const udpLimit = Math.max(512, (query.additionals ?? []).find((a) => a.type === 'OPT')?.udpPayloadSize ?? 512);
    if (!question || (query.questions?.length ?? 0) !== 1) {
      return encodeResponse({ id: query.id, flags: rd | 1, questions: query.questions ?? [] }, transport, udpLimit);
    }
    const response = await this.resolve(question, query, transport);
    response.id = query.id;
    response.flags = (response.flags ?? 0) | rd | dnsPacket.RECURSION_AVAILABLE;
    return encodeResponse(response, transport, udpLimit);
  }

  private async resolve(question: Question, query: Packet, transport: 'udp' | 'tcp'): Promise<Packet> {
    const source = this.source;
    const result = source.lookup(question.name, question.type);
    const base: Packet = { type: 'response', questions: [question], answers: [], authorities: [], additionals: [] };
    switch (result.kind) {
      case 'answer': {
        base.flags = dnsPacket.AUTHORITATIVE_ANSWER;
        base.answers = result.answers;
        base.additionals = result.additionals;
        // An ExternalName's CNAME to a name outside the cluster: chase it upstream, as CoreDNS does.
        // The end of a CNAME chain (records.ts follows it inside our zones) pointing outside.
        const cname = result.answers.filter((a) => a.type === 'CNAME').at(-1);
        if (cname && question.type !== 'CNAME' && !source.zoneOf(String(cname.data))) {
          const chased = await this.forward({ ...query, questions: [{ ...question, name: String(cname.data) }] }, transport).catch(() => undefined);
          if (chased) base.answers = [...base.answers, ...(chased.answers ?? [])];
        }
        return base;
      }
      case 'nodata':
        return { ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER, authorities: [source.soa(question.name)] };
      case 'nxdomain':
        return { ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER | 3, authorities: [source.soa(question.name)] };
      case 'outside': {
        const forwarded = await this.forward(query, transport).catch(() => undefined);
        if (!forwarded) return { ...base, flags: 2 /* SERVFAIL */ };
        const rcode = rcodeNumber(forwarded.rcode);
        return {
          ...base,
          flags: rcode | (forwarded.flag_tc ? dnsPacket.TRUNCATED_RESPONSE : 0),
          answers: forwarded.answers ?? [],
          authorities: forwarded.authorities ?? [],
          additionals: (forwarded.additionals ?? []).filter((a) => a.type !== 'OPT'),
        };
      }
    }
  }

  private async forward(query: Packet, transport: 'udp' | 'tcp'): Promise<Packet> {
    const q = query.questions![0]!;
    const key = `${q.name.toLowerCase()}|${q.type}|${q.class ?? 'IN'}`;
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) {
      this.cache.delete(key); // re-insert: Map order is our LRU order
      this.cache.set(key, hit);
      return ageAnswers(hit.packet, hit.expires, this.now());
    }
    const upstreams = stubDomainFor(this.stubDomains, q.name)?.nameservers ?? this.upstreams;
    let lastError: unknown = new Error('no upstream resolvers');
    for (const upstream of upstreams) {
      try {
        const packet: Packet = { type: 'query', id: Math.floor(Math.random() * 65536), flags: dnsPacket.RECURSION_DESIRED, questions: [q] };
        // UDP first whatever the client used; TCP only when the answer did not fit and the
        // client can take a long answer.
        let reply = await queryUdp(upstream, packet, this.timeout());
        if (reply.flag_tc && transport === 'tcp') reply = await queryTcp(upstream, packet, this.timeout());
        this.remember(key, reply);
        return reply;
      } catch (e) {
        lastError = e;
      }
    }
    throw lastError;
  }

  private timeout(): number {
    return this.options.upstreamTimeoutMs ?? 2000;
  }

  private remember(key: string, reply: Packet): void {
    if (reply.flag_tc || (reply.rcode !== 'NOERROR' && reply.rcode !== 'NXDOMAIN')) return;
    const ttls = [...(reply.answers ?? []), ...(reply.authorities ?? [])].map((a) => a.ttl ?? 0);
    const ttl = Math.min(this.options.maxCacheTtlSeconds ?? 30, ...(ttls.length ? ttls : [0]));
    if (ttl <= 0) return;
    this.cache.set(key, { expires: this.now() + ttl * 1000, packet: reply });
    const max = this.options.cacheSize ?? 1000;
    while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value!);
  }
}

function ageAnswers(packet: Packet, expires: number, now: number): Packet {
  const left = Math.max(1, Math.ceil((expires - now) / 1000));
  const age = (list?: Answer[]) => list?.map((a) => ({ ...a, ttl: Math.min(a.ttl ?? left, left) }));
  return { ...packet, answers: age(packet.answers), authorities: age(packet.authorities) };
}

function rcodeNumber(rcode: string | undefined): number {
  return ({ NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as Record<string, number>)[rcode ?? 'NOERROR'] ?? 2;
}

/** Encodes, and over UDP truncates to what the client can take (it retries over TCP). */
function encodeResponse(packet: Packet, transport: 'udp' | 'tcp', udpLimit: number): Buffer {
  const full = dnsPacket.encode({ type: 'response', answers: [], authorities: [], additionals: [], questions: [], ...packet });
  if (transport === 'tcp' || full.length <= udpLimit) return full;
  return dnsPacket.encode({ ...packet, type: 'response', flags: (packet.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: [] });
}

export function queryUdp(server: Upstream, packet: Packet, timeoutMs: number): Promise<Packet> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(server.host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`DNS query to ${server.host}:${server.port} timed out`));
    }, timeoutMs);
    socket.on('message', (msg) => {
      let reply: Packet;
      try {
        reply = dnsPacket.decode(msg);
      } catch {
        return;
      }
      if (reply.id !== packet.id) return; // not ours (spoofed or late)
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      socket.close();
      reject(e);
    });
    socket.send(dnsPacket.encode(packet), server.port, server.host);
  });
}

export function queryTcp(server: Upstream, packet: Packet, timeoutMs: number): Promise<Packet> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, server.host);
    let buf = Buffer.alloc(0);
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`DNS query to ${server.host}:${server.port} timed out`));
    });
    socket.on('connect', () => socket.write(dnsPacket.streamEncode(packet)));
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        socket.end();
        try {
          resolve(dnsPacket.streamDecode(buf));
        } catch (e) {
          reject(e);
        }
      }
    });
    socket.on('error', reject);
  });
}
