// Streams pods/log, exec, attach, portforward (and nodes/proxy, pods/proxy) from the API
// server to the kubelet of the pod's node. Upgrades (WebSocket, SPDY) are passed through
// byte for byte after the kubelet's 101 Switching Protocols, so whichever protocol the
// client and kubelet agree on works unchanged. The API server proves itself to the kubelet
// with a client certificate and trusts the kubelet's serving certificate via the cluster CA.
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { ConnectHandler } from './http-server.js';
import { ApiError } from './errors.js';

export interface StreamingProxyOptions {
  getPod(namespace: string, name: string): Promise<any | undefined>;
  getNode(name: string): Promise<any | undefined>;
  /** CA that signed kubelet serving certificates. */
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
}

/** Query parameters the kubelet understands, per subresource (others are dropped). */
const passQuery: Record<string, string[]> = {
  log: ['follow', 'previous', 'tailLines', 'sinceSeconds', 'sinceTime', 'timestamps', 'limitBytes', 'insecureSkipTLSVerifyBackend'],
  exec: ['command', 'stdin', 'stdout', 'stderr', 'tty', 'input', 'output', 'error'],
  attach: ['stdin', 'stdout', 'stderr', 'tty'],
  portforward: ['ports'],
};

function kubeletAddress(node: any): { host: string; port: number } {
  const addresses: any[] = node.status?.addresses ?? [];
  const host = addresses.find((a) => a.type === 'InternalIP')?.address ?? addresses.find((a) => a.type === 'Hostname')?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  if (!host || !port) throw new ApiError(503, 'ServiceUnavailable', `node "${node.metadata.name}" has no kubelet address`);
  return { host, port };
}

function containerOf(pod: any, requested: string | null): string {
  const names: string[] = (pod.spec?.containers ?? []).map((c: any) => c.name);
  const all = [...names, ...(pod.spec?.initContainers ?? []).map((c: any) => c.name), ...(pod.spec?.ephemeralContainers ?? []).map((c: any) => c.name)];
  if (requested) {
    if (!all.includes(requested)) throw new ApiError(400, 'BadRequest', `container ${requested} is not valid for pod ${pod.metadata.name}`);
    return requested;
  }
  if (names.length === 1) return names[0]!;
  const defaulted = pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container'];
  if (defaulted && names.includes(defaulted)) return defaulted;
  throw new ApiError(400, 'BadRequest', `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(' ')}]`);
}

function statusBody(error: ApiError): string {
  return JSON.stringify(error.toStatus());
}

export function createStreamingProxy(options: StreamingProxyOptions): ConnectHandler {
  const tlsOptions = { ca: options.caPem, cert: options.clientCertPem, key: options.clientKeyPem };

  /** Where the request goes: kubelet path, or a pod's own HTTP endpoint for pods/proxy. */
  async function target(request: Parameters<ConnectHandler>[0], info: any): Promise<{ host: string; port: number; path: string; secure: boolean }> {
    const query = request.query;
    if (info.resource === 'nodes' && info.subresource === 'proxy') {
      const node = await options.getNode(info.name.split(':')[0]);
      if (!node) throw new ApiError(404, 'NotFound', `nodes "${info.name}" not found`);
      const rest = info.parts.slice(info.parts.indexOf('proxy') + 1).map(encodeURIComponent).join('/');
      const q = query.toString();
      return { ...kubeletAddress(node), path: `/${rest}${q ? `?${q}` : ''}`, secure: true };
    }
    if (info.resource !== 'pods') throw new ApiError(404, 'NotFound', `${info.resource}/${info.subresource} is not served`);
    const [podName, podPort] = info.name.split(':');
    const pod = await options.getPod(info.namespace, podName);
    if (!pod) throw new ApiError(404, 'NotFound', `pods "${podName}" not found`);
    if (info.subresource === 'proxy') {
      if (!pod.status?.podIP) throw new ApiError(503, 'ServiceUnavailable', `pod ${podName} has no IP`);
      const rest = info.parts.slice(info.parts.indexOf('proxy') + 1).map(encodeURIComponent).join('/');
      const q = query.toString();
      return { host: pod.status.podIP, port: Number(podPort ?? 80), path: `/${rest}${q ? `?${q}` : ''}`, secure: false };
    }
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) throw new ApiError(400, 'BadRequest', `pod ${podName} does not have a host assigned`);
    const node = await options.getNode(nodeName);
    if (!node) throw new ApiError(404, 'NotFound', `nodes "${nodeName}" not found`);
    const params = new URLSearchParams();
    for (const key of passQuery[info.subresource] ?? []) for (const v of query.getAll(key)) params.append(key, v);
    const q = params.toString() ? `?${params}` : '';
    const ns = encodeURIComponent(info.namespace);
    const name = encodeURIComponent(podName);
    let path: string;
    if (info.subresource === 'portforward') path = `/portForward/${ns}/${name}${q}`;
    else {
      const container = encodeURIComponent(containerOf(pod, query.get('container')));
      const prefix = info.subresource === 'log' ? 'containerLogs' : info.subresource;
      path = `/${prefix}/${ns}/${name}/${container}${q}`;
    }
    return { ...kubeletAddress(node), path, secure: true };
  }

  function forwardedHeaders(req: http.IncomingMessage): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || ['authorization', 'host', 'impersonate-user', 'impersonate-group'].includes(k)) continue;
      out[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    return out;
  }

  return async (request, response, { req, res, socket, head }) => {
    const info: any = response.connect!.info;
    let t: Awaited<ReturnType<typeof target>>;
    try {
      t = await target(request, info);
    } catch (err) {
      const error = err instanceof ApiError ? err : new ApiError(500, 'InternalError', (err as Error).message);
      if (socket) socket.end(`HTTP/1.1 ${error.code} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(statusBody(error))}\r\n\r\n${statusBody(error)}`);
      else if (res) { res.writeHead(error.code, { 'content-type': 'application/json' }); res.end(statusBody(error)); }
      return;
    }
    if (socket) {
      upgradeThrough(t, req, socket, head ?? Buffer.alloc(0), forwardedHeaders(req), tlsOptions);
      return;
    }
    if (!res) return;
    const lib = t.secure ? https : http;
    const upstream = lib.request({ host: t.host, port: t.port, path: t.path, method: req.method, headers: forwardedHeaders(req), ...(t.secure ? tlsOptions : {}) }, (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      upstreamRes.pipe(res);
    });
    upstream.on('error', (err) => {
      const error = new ApiError(502, 'InternalError', `error dialing backend: ${err.message}`);
      if (!res.headersSent) { res.writeHead(502, { 'content-type': 'application/json' }); res.end(statusBody(error)); } else res.end();
    });
    // req's 'close' fires once its body is read; the client going away shows on res.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  };
}

function upgradeThrough(t: { host: string; port: number; path: string; secure: boolean }, req: http.IncomingMessage, socket: Duplex, head: Buffer, headers: Record<string, string>, tlsOptions: tls.ConnectionOptions): void {
  const upstream: Duplex = t.secure ? tls.connect({ host: t.host, port: t.port, ...tlsOptions, servername: /^[\d.]+$|:/.test(t.host) ? undefined : t.host }) : (http.globalAgent as any).createConnection({ host: t.host, port: t.port });
  const hostHeader = t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
  const lines = [`${req.method ?? 'GET'} ${t.path} HTTP/1.1`, `Host: ${hostHeader}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  const onReady = () => {
    upstream.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  };
  upstream.once(t.secure ? 'secureConnect' : 'connect', onReady);
  upstream.on('error', (err) => {
    const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `error dialing backend: ${err.message}`, reason: 'InternalError', code: 502 });
    if (socket.writable) socket.end(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
  socket.on('error', () => upstream.destroy());
  socket.on('close', () => upstream.destroy());
  upstream.on('close', () => socket.destroy());
}
