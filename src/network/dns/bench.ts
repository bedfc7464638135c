// Benchmark for `npm run bench`: cluster-zone queries per second against the same client loop
// talking to a bare UDP echo server (the floor: sockets and event loop, no DNS work).
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import dnsPacket from 'dns-packet';
import { ClusterDnsServer } from './server.js';
import type { DnsSnapshot } from './records.js';

export interface DnsBenchmark {
  queries: number;
  dnsQueriesPerSecond: number;
  echoQueriesPerSecond: number;
  /** dns / echo: 1.0 means DNS work costs nothing on top of the socket round trip. */
  ratio: number;
}

async function drive(port: number, host: string, queries: Buffer[], inFlight: number): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const start = performance.now();
  let received = 0;
  await new Promise<void>((resolve) => {
    let sent = 0;
    // UDP may drop under load; a stalled run ends and counts what came back rather than hang.
    let stall = setTimeout(resolve, 2000);
    const sendNext = () => {
      if (sent < queries.length) socket.send(queries[sent++]!, port, host);
    };
    socket.on('message', () => {
      received++;
      clearTimeout(stall);
      stall = setTimeout(resolve, 2000);
      if (received === queries.length) {
        clearTimeout(stall);
        resolve();
      }
      else sendNext();
    });
    for (let i = 0; i < inFlight; i++) sendNext();
  });
  const seconds = (performance.now() - start) / 1000;
  socket.close();
  return received / seconds;
}

export async function benchmarkDns(queries = 20_000, services = 1000, inFlight = 32): Promise<DnsBenchmark> {
  const host = '127.0.0.1';
  const snapshot: DnsSnapshot = {
    services: Array.from({ length: services }, (_, i) => ({ metadata: { name: `svc-${i}`, namespace: 'bench' }, spec: { clusterIP: `10.96.${i >> 8}.${i & 255}`, ports: [{ name: 'http', port: 80 }] } })),
    endpointSlices: [],
    pods: [],
  };
  const packets = Array.from({ length: queries }, (_, i) =>
    dnsPacket.encode({ type: 'query', id: i & 0xffff, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: `svc-${i % services}.bench.svc.cluster.local`, type: 'A', class: 'IN' }] }),
  );

  const server = new ClusterDnsServer({ host, port: 0 });
  server.sync(snapshot);
  const { udpPort } = await server.start();
  const echo = dgram.createSocket('udp4');
  echo.on('message', (msg, rinfo) => echo.send(msg, rinfo.port, rinfo.address));
  await new Promise<void>((r) => echo.bind(0, host, () => r()));
  try {
    await drive(udpPort, host, packets.slice(0, 500), inFlight); // warm-up
    const dnsQueriesPerSecond = await drive(udpPort, host, packets, inFlight);
    const echoQueriesPerSecond = await drive(echo.address().port, host, packets, inFlight);
    return { queries, dnsQueriesPerSecond, echoQueriesPerSecond, ratio: dnsQueriesPerSecond / echoQueriesPerSecond };
  } finally {
    echo.close();
    await server.stop();
  }
}
