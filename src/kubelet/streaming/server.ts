// The kubelet's HTTPS server: /healthz, /pods, /stats/summary, /containerLogs, and the
// streaming endpoints /exec, /attach, /portForward over WebSocket (remotecommand channel
// protocols v1–v5, portforward over v4.channel.k8s.io). The API server reaches it with a
// client certificate signed by clientCaPem; nothing else is let in when that CA is given.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { ContainerStatus, RuntimeService } from '../../runtime/types.js';
import { labels, annotations } from '../pod-sync.js';
import { Channel, base64ChannelProtocols, channelProtocols, chooseProtocol, decodeFrame, encodeFrame, exitStatus, internalErrorStatus, protocolVersion } from './channels.js';
import { streamLog } from './logs.js';
import { SpdyConnection } from './spdy.js';
import { acceptSpdyUpgrade, isSpdyUpgrade, offeredStreamProtocols, portForwardProtocol, serveSpdyPortForward, serveSpdyRemoteCommand, spdyChannelProtocols, tunneledPortForwardProtocol } from './spdy-streams.js';

export interface StreamingServerOptions {
  certPem: string;
  keyPem: string;
  /** CA whose client certificates may connect (the API server's); absent: any client (tests only). */
  clientCaPem?: string;
  port?: number;
  host?: string;
  runtime: RuntimeService;
  dataDir: string;
  pods: () => any[];
  summary: () => Promise<any>;
}

export interface StreamingServer {
  port: number;
  close(): Promise<void>;
}

function sendStatus(res: ServerResponse, code: number, message: string, reason = code === 404 ? 'NotFound' : code === 400 ? 'BadRequest' : 'InternalError'): void {
  if (res.headersSent) { res.end(); return; }
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function rejectUpgrade(socket: Duplex, code: number, message: string): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, code });
  socket.end(`HTTP/1.1 ${code} ${code === 404 ? 'Not Found' : 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

class NotFoundError extends Error {}

export async function startStreamingServer(options: StreamingServerOptions): Promise<StreamingServer> {
  const { runtime } = options;
  const server = https.createServer({
    cert: options.certPem,
    key: options.keyPem,
    ca: options.clientCaPem,
    requestCert: !!options.clientCaPem,
    rejectUnauthorized: !!options.clientCaPem,
  });
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => chooseProtocol(protocols, [...channelProtocols, ...base64ChannelProtocols, tunneledPortForwardProtocol, portForwardProtocol]) ?? false,
  });

  const tunneled = new WeakSet<IncomingMessage>();
  wss.on('headers', (headers: string[], req: IncomingMessage) => { if (tunneled.has(req)) headers.push(`Sec-WebSocket-Protocol: ${tunneledPortForwardProtocol}`); });

  const findPod = (namespace: string, name: string) => {
    const pod = options.pods().find((p) => p.metadata.namespace === namespace && p.metadata.name === name);
    if (!pod) throw new NotFoundError(`pod "${name}" not found`);
    return pod;
  };

  /** Instances of a container, newest first. */
  async function instances(pod: any, container: string): Promise<ContainerStatus[]> {
    const list = await runtime.listContainers({ labelSelector: { [labels.podUid]: pod.metadata.uid, [labels.containerName]: container } });
    const statuses = await Promise.all(list.map((c) => runtime.containerStatus(c.id)));
    return statuses.sort((a, b) => Number(b.annotations[annotations.restartCount] ?? 0) - Number(a.annotations[annotations.restartCount] ?? 0) || b.createdAt - a.createdAt);
  }

  async function runningContainer(namespace: string, podName: string, container: string): Promise<ContainerStatus> {
    const pod = findPod(namespace, podName);
    const current = (await instances(pod, container))[0];
    if (!current) throw new NotFoundError(`container ${container} not found in pod ${podName}`);
    if (current.state !== 'CONTAINER_RUNNING') throw new Error(`container ${container} is not running`);
    return current;
  }

  async function serveLogs(req: IncomingMessage, res: ServerResponse, url: URL, [namespace, podName, container]: string[]): Promise<void> {
    const pod = findPod(namespace!, podName!);
    const list = await instances(pod, container!);
    const previous = url.searchParams.get('previous') === 'true';
    const instance = previous ? list[1] : list[0];
    if (!instance) {
      if (previous) throw new Error(`previous terminated container "${container}" in pod "${podName}" not found`);
      throw new NotFoundError(`container "${container}" in pod "${podName}" is waiting to start: ContainerCreating`);
    }
    const q = url.searchParams;
    const sinceSeconds = q.get('sinceSeconds');
    const sinceTime = q.get('sinceTime');
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    await streamLog(instance.logPath, {
      follow: q.get('follow') === 'true' && !previous,
      tailLines: q.get('tailLines') !== null ? Number(q.get('tailLines')) : undefined,
      sinceMs: sinceSeconds ? Date.now() - Number(sinceSeconds) * 1000 : sinceTime ? Date.parse(sinceTime) : undefined,
      timestamps: q.get('timestamps') === 'true',
      limitBytes: q.get('limitBytes') !== null ? Number(q.get('limitBytes')) : undefined,
    }, res, async () => (await runtime.containerStatus(instance.id).catch(() => undefined))?.state === 'CONTAINER_RUNNING', abort.signal);
    res.end();
  }

  async function statsSummary(): Promise<any> {
    const stats = await runtime.listContainerStats();
    const base = await options.summary();
    const byPod = new Map<string, any>();
    for (const pod of options.pods()) byPod.set(pod.metadata.uid, { podRef: { name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid }, startTime: pod.status?.startTime, containers: [], cpu: { time: new Date().toISOString(), usageNanoCores: 0, usageCoreNanoSeconds: 0 }, memory: { time: new Date().toISOString(), workingSetBytes: 0, usageBytes: 0 } });
    for (const s of stats) {
      const entry = byPod.get(s.attributes.labels[labels.podUid] ?? '');
      if (!entry) continue;
      const time = new Date(s.cpu.timestamp).toISOString();
      entry.containers.push({ name: s.attributes.labels[labels.containerName] ?? s.attributes.metadata.name, cpu: { time, usageNanoCores: s.cpu.usageNanoCores, usageCoreNanoSeconds: s.cpu.usageCoreNanoSeconds }, memory: { time, workingSetBytes: s.memory.workingSetBytes, usageBytes: s.memory.usageBytes } });
      entry.cpu.usageNanoCores += s.cpu.usageNanoCores;
      entry.cpu.usageCoreNanoSeconds += s.cpu.usageCoreNanoSeconds;
      entry.memory.workingSetBytes += s.memory.workingSetBytes;
      entry.memory.usageBytes += s.memory.usageBytes;
    }
    // The node's own usage (from /proc) when the kubelet has it; otherwise (hollow nodes) the sum of its pods.
    const node = {
      cpu: { time: new Date().toISOString(), usageNanoCores: [...byPod.values()].reduce((n, p) => n + p.cpu.usageNanoCores, 0) },
      memory: { time: new Date().toISOString(), workingSetBytes: [...byPod.values()].reduce((n, p) => n + p.memory.workingSetBytes, 0) },
      ...base.node,
    };
    return { node, pods: [...byPod.values()] };
  }

  server.on('request', async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    try {
      if (url.pathname === '/healthz') { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); return; }
      if (url.pathname === '/pods' || url.pathname === '/pods/') {
        const body = JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: options.pods() });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
        return;
      }
      if (url.pathname === '/stats/summary') {
        const body = JSON.stringify(await statsSummary());
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
        return;
      }
      if (parts[0] === 'containerLogs' && parts.length === 4) { await serveLogs(req, res, url, parts.slice(1)); return; }
      if (['exec', 'attach', 'portForward'].includes(parts[0] ?? '')) {
        sendStatus(res, 400, 'Upgrade request required', 'BadRequest');
        return;
      }
      sendStatus(res, 404, `the server could not find the requested resource`);
    } catch (err) {
      sendStatus(res, err instanceof NotFoundError ? 404 : 400, (err as Error).message);
    }
  });

  server.on('upgrade', async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const kind = parts[0];
    try {
      if (kind === 'exec' || kind === 'attach') {
        const [namespace, podName, container] = parts.slice(1);
        if (!namespace || !podName || !container) throw new NotFoundError('expected /' + kind + '/<namespace>/<pod>/<container>');
        const target = await runningContainer(namespace, podName, container);
        const q = url.searchParams;
        const command = q.getAll('command');
        if (kind === 'exec' && command.length === 0) throw new Error('you must specify at least 1 command');
        const wants = { stdin: q.get('stdin') === 'true' || q.get('input') === '1', stdout: q.get('stdout') !== 'false' && q.get('output') !== '0', stderr: q.get('stderr') !== 'false' && q.get('error') !== '0', tty: q.get('tty') === 'true' };
        if (isSpdyUpgrade(req)) {
          const accepted = acceptSpdyUpgrade(socket, head, offeredStreamProtocols(req), spdyChannelProtocols);
          if (!accepted) return;
          const start = () => kind === 'exec' ? runtime.exec(target.id, command, { tty: wants.tty, stdin: wants.stdin }) : runtime.attach(target.id, { tty: wants.tty, stdin: wants.stdin });
          serveSpdyRemoteCommand(accepted.connection, accepted.protocol, start, wants, { kind, command });
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => void serveStream(ws, kind, target.id, command, wants));
        return;
      }
      if (kind === 'portForward') {
        const [namespace, podName] = parts.slice(1);
        const pod = findPod(namespace!, podName!);
        const sandboxes = await runtime.listPodSandbox({ labelSelector: { [labels.podUid]: pod.metadata.uid }, state: 'SANDBOX_READY' });
        if (!sandboxes[0]) throw new NotFoundError(`pod ${podName} has no running sandbox`);
        const sandboxId = sandboxes[0].id;
        // SPDY names the port per stream; the WebSocket channel protocol needs them up front.
        if (isSpdyUpgrade(req)) {
          const accepted = acceptSpdyUpgrade(socket, head, offeredStreamProtocols(req), [portForwardProtocol]);
          if (accepted) serveSpdyPortForward(accepted.connection, runtime, sandboxId);
          return;
        }
        const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
        if (offered.includes(tunneledPortForwardProtocol)) {
          // `/` is not a token character, so ws refuses this subprotocol when parsing the
          // offer; we take the offer out of its sight and name the protocol in the 101 ourselves.
          delete req.headers['sec-websocket-protocol'];
          tunneled.add(req);
          wss.handleUpgrade(req, socket, head, (ws) => serveSpdyPortForward(new SpdyConnection(createWebSocketStream(ws)), runtime, sandboxId));
          return;
        }
        const ports = (url.searchParams.get('ports') ?? '').split(',').filter(Boolean).map(Number);
        if (ports.length === 0 || ports.some((p) => !(p > 0 && p < 65536))) throw new Error('query parameter "ports" is required');
        wss.handleUpgrade(req, socket, head, (ws) => servePortForward(ws, sandboxId, ports));
        return;
      }
      rejectUpgrade(socket, 404, 'the server could not find the requested resource');
    } catch (err) {
      rejectUpgrade(socket, err instanceof NotFoundError ? 404 : 400, (err as Error).message);
    }
  });

  async function serveStream(ws: WebSocket, kind: string, containerId: string, command: string[], wants: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }): Promise<void> {
    const protocol = ws.protocol || 'channel.k8s.io';
    const version = protocolVersion(protocol);
    const send = (channel: number, data: Buffer) => { if (ws.readyState === ws.OPEN) ws.send(encodeFrame(protocol, channel, data)); };
    let session;
    try {
      session = kind === 'exec'
        ? await runtime.exec(containerId, command, { tty: wants.tty, stdin: wants.stdin })
        : await runtime.attach(containerId, { tty: wants.tty, stdin: wants.stdin });
    } catch (err) {
      send(Channel.error, Buffer.from(version >= 4 ? JSON.stringify(internalErrorStatus((err as Error).message)) : (err as Error).message));
      ws.close(1000);
      return;
    }
    const s = session;
    ws.on('message', (message: Buffer, isBinary: boolean) => {
      const frame = decodeFrame(protocol, message, isBinary);
      if (!frame) return;
      if (frame.channel === Channel.stdin) s.stdin?.write(frame.data);
      else if (frame.channel === Channel.resize && version >= 4) {
        try { const size = JSON.parse(frame.data.toString('utf8')); s.resize(size.Width, size.Height); } catch { /* ignore a bad resize */ }
      } else if (frame.channel === Channel.close && frame.data[0] === Channel.stdin) s.stdin?.end();
    });
    ws.on('close', () => { s.stdin?.end(); if (kind === 'exec') s.close(); else s.close(); });
    const drained: Promise<void>[] = [];
    const pump = (stream: NodeJS.ReadableStream | null, channel: number, wanted: boolean) => {
      if (!stream) return;
      drained.push(new Promise((resolve) => {
        stream.on('data', (d: Buffer) => { if (wanted) send(channel, Buffer.from(d)); });
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', () => resolve());
      }));
    };
    pump(s.stdout, Channel.stdout, wants.stdout);
    pump(s.stderr, Channel.stderr, wants.stderr);
    const code = await s.exit;
    await Promise.race([Promise.all(drained), new Promise((r) => setTimeout(r, 500))]);
    // attach ends when the streams do; a container whose exit the runtime has not recorded yet
    // (-1) is not a failure — kubectl reads the exit code from the pod's status instead.
    const effective = kind === 'attach' && code < 0 ? 0 : code;
    if (version >= 4) send(Channel.error, Buffer.from(JSON.stringify(exitStatus(effective, command))));
    else if (effective !== 0) send(Channel.error, Buffer.from(`command terminated with non-zero exit code: ${effective}`));
    ws.close(1000);
  }

  /** portforward over WebSocket: channel 2i carries port i's data, 2i+1 its errors; each starts with the port (uint16 LE). */
  function servePortForward(ws: WebSocket, sandboxId: string, ports: number[]): void {
    const protocol = ws.protocol && !ws.protocol.startsWith('portforward') ? ws.protocol : 'v4.channel.k8s.io';
    const send = (channel: number, data: Buffer) => { if (ws.readyState === ws.OPEN) ws.send(encodeFrame(protocol, channel, data)); };
    const streams = new Map<number, Duplex>();
    ports.forEach((port, i) => {
      const portBytes = Buffer.alloc(2);
      portBytes.writeUInt16LE(port);
      send(2 * i, portBytes);
      send(2 * i + 1, portBytes);
      runtime.portForward(sandboxId, port).then((stream) => {
        streams.set(i, stream);
        stream.on('data', (d: Buffer) => send(2 * i, Buffer.from(d)));
        stream.on('error', (err) => send(2 * i + 1, Buffer.from(`error forwarding port ${port}: ${err.message}`)));
        stream.on('close', () => ws.close(1000));
      }, (err) => {
        send(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod sandbox ${sandboxId}: ${(err as Error).message}`));
        ws.close(1000);
      });
    });
    const seenPortPrefix = new Set<number>();
    ws.on('message', (message: Buffer, isBinary: boolean) => {
      const frame = decodeFrame(protocol, message, isBinary);
      if (!frame || frame.channel % 2 !== 0) return;
      const index = frame.channel / 2;
      let data = frame.data;
      // The client's first frame on each data channel repeats the port number.
      if (!seenPortPrefix.has(index)) { seenPortPrefix.add(index); data = data.subarray(2); if (data.length === 0) return; }
      streams.get(index)?.write(data);
    });
    ws.on('close', () => { for (const s of streams.values()) s.destroy(); });
  }

  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, options.host ?? '0.0.0.0', () => { server.off('error', reject); resolve(); });
  });
  try {
    await listen(options.port ?? 0);
  } catch (err) {
    // Several nodes (or test servers) on one machine cannot all have 10250; the port actually
    // bound is published in the Node's daemonEndpoints, which is how the API server finds us.
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !options.port) throw err;
    await listen(0);
  }
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
