// The ingress data plane: HTTP and HTTPS servers that route each request through the current
// route table to a ready endpoint (round-robin per Service port) and relay it, websocket upgrades
// included. Configuration is swapped atomically with setConfig, so a reload never closes a
// listener or a connection in flight.
import http, { type IncomingMessage, type ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { Logger } from '../../client/informer.js';
import type { BackendAddress, Resolution } from './backends.js';
import { matchRequest, type RouteTable } from './routing.js';
import type { IngressBackend } from './types.js';

export interface ProxyConfig {
  table: RouteTable;
  /** Resolved at request time, so endpoint changes apply without a rebuild. */
  resolve(namespace: string, backend: IngressBackend): Resolution;
  /** The certificate for an SNI name (undefined: none). */
  secureContext(serverName: string | undefined): SecureContext | undefined;
  /** Served to clients that send no SNI name (an IP address URL). */
  defaultCredentials(): { key: string; cert: string } | undefined;
}

export interface ListenAddress {
  host: string;
  port: number;
}

export interface IngressProxyOptions {
  http?: ListenAddress;
  https?: ListenAddress;
  logger: Logger;
}

// Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection and are never relayed.
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function errorPage(status: number, title: string, detail: string): string {
  return `<!DOCTYPE html>\n<html><head><title>${status} ${escapeHtml(title)}</title></head>\n<body>\n<h1>${status} ${escapeHtml(title)}</h1>\n<p>${escapeHtml(detail)}</p>\n<hr><p>navarch ingress</p>\n</body></html>\n`;
}

type Decision = { kind: 'forward'; target: BackendAddress; service: string; /** The other endpoints, in round-robin order, for retries. */ others: BackendAddress[] } | { kind: 'error'; status: number; title: string; detail: string };

export class IngressProxy {
  private config: ProxyConfig | undefined;
  private readonly cursors = new Map<string, number>();
  private readonly agent = new http.Agent({ keepAlive: true, maxFreeSockets: 64 });
  private httpServer: http.Server | undefined;
  private httpsServer: https.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private appliedDefault: { key: string; cert: string } | undefined;

  constructor(private readonly options: IngressProxyOptions) {}

  setConfig(config: ProxyConfig): void {
    this.config = config;
    // Clients that send no SNI (an IP address URL) get the fallback certificate.
    this.applyDefaultCredentials();
  }

  private applyDefaultCredentials(): void {
    const credentials = this.config?.defaultCredentials();
    if (!this.httpsServer || !credentials || credentials === this.appliedDefault) return;
    this.httpsServer.setSecureContext(credentials);
    this.appliedDefault = credentials;
  }

  /** Starts the listeners; resolves with the bound addresses (port 0 picks a free one). */
  async listen(): Promise<{ http?: AddressInfo; https?: AddressInfo }> {
    const out: { http?: AddressInfo; https?: AddressInfo } = {};
    if (this.options.http) {
      this.httpServer = http.createServer((req, res) => this.handle(req, res, 'http'));
      this.httpServer.on('upgrade', (req, socket, head) => this.handleUpgrade(req, socket as Socket, head, 'http'));
      out.http = await this.start(this.httpServer, this.options.http);
    }
    if (this.options.https) {
      this.httpsServer = https.createServer({
        SNICallback: (serverName, callback) => {
          const context = this.config?.secureContext(serverName);
          if (context) callback(null, context);
          else callback(new Error(`no certificate for ${serverName}`));
        },
      });
      this.applyDefaultCredentials();
      this.httpsServer.on('request', (req, res) => this.handle(req, res, 'https'));
      this.httpsServer.on('upgrade', (req, socket, head) => this.handleUpgrade(req, socket as Socket, head, 'https'));
      out.https = await this.start(this.httpsServer, this.options.https);
    }
    return out;
  }

  private start(server: http.Server, address: ListenAddress): Promise<AddressInfo> {
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('clientError', (_err, socket) => socket.destroy());
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => {
        server.off('error', reject);
        resolve(server.address() as AddressInfo);
      });
    });
  }

  async close(): Promise<void> {
    const closing = [this.httpServer, this.httpsServer].filter((s): s is http.Server => !!s).map((s) => new Promise<void>((r) => s.close(() => r())));
    for (const s of this.sockets) s.destroy();
    this.agent.destroy();
    await Promise.all(closing);
  }

  private decide(req: IncomingMessage): Decision {
    const config = this.config;
    if (!config) return { kind: 'error', status: 503, title: 'Service Unavailable', detail: 'The ingress controller is starting.' };
    const host = req.headers.host ?? '';
    const match = matchRequest(config.table, host, req.url ?? '/');
    if (match.kind === 'none') return { kind: 'error', status: 404, title: 'Not Found', detail: `No Ingress rule matches host ${host || '(none)'} and path ${(req.url ?? '/').split('?')[0]}.` };
    const { namespace, backend } = match.kind === 'route' ? match.route : match;
    const resolved = config.resolve(namespace, backend);
    if ('error' in resolved) return { kind: 'error', status: 503, title: 'Service Unavailable', detail: `${resolved.error}.` };
    if (resolved.addresses.length === 0) return { kind: 'error', status: 503, title: 'Service Unavailable', detail: `No ready endpoints for service ${resolved.service}.` };
    const n = this.cursors.get(resolved.key) ?? 0;
    this.cursors.set(resolved.key, (n + 1) % 1_000_000);
    const list = resolved.addresses;
    const start = n % list.length;
    return { kind: 'forward', target: list[start], service: resolved.service, others: [...list.slice(start + 1), ...list.slice(0, start)] };
  }

  private forwardedHeaders(req: IncomingMessage, scheme: 'http' | 'https', keepUpgrade: boolean): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = {};
    const connectionTokens = String(req.headers.connection ?? '').toLowerCase().split(',').map((t) => t.trim());
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      if (hopByHop.has(name) && !(keepUpgrade && (name === 'upgrade' || name === 'connection'))) continue;
      if (!keepUpgrade && connectionTokens.includes(name)) continue;
      headers[name] = value;
    }
    const client = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
    const prior = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client}` : client;
    headers['x-real-ip'] = client;
    headers['x-forwarded-host'] = req.headers.host ?? '';
    headers['x-forwarded-proto'] = scheme;
    headers['x-forwarded-port'] = String(req.socket.localPort ?? '');
    return headers;
  }

  private handle(req: IncomingMessage, res: ServerResponse, scheme: 'http' | 'https'): void {
    const decision = this.decide(req);
    if (decision.kind === 'error') {
      req.resume();
      const body = errorPage(decision.status, decision.title, decision.detail);
      res.writeHead(decision.status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
      res.end(body);
      return;
    }
    // A request without a body can be replayed: when an endpoint refuses the connection (a pod
    // that just went away, before its EndpointSlice caught up) the next one is tried.
    const replayable = ['GET', 'HEAD', 'OPTIONS'].includes(req.method ?? '') && !req.headers['transfer-encoding'] && (req.headers['content-length'] ?? '0') === '0';
    const headers = this.forwardedHeaders(req, scheme, false);
    const attempt = (target: BackendAddress, remaining: BackendAddress[]) => {
      const upstream = http.request({ host: target.ip, port: target.port, method: req.method, path: req.url, headers, agent: this.agent });
      let answered = false;
      upstream.on('response', (answer) => {
        answered = true;
        const out: OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !hopByHop.has(name)) out[name] = value;
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, out);
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      });
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        this.options.logger('warn', 'backend request failed', { component: 'ingress', service: decision.service, endpoint: `${target.ip}:${target.port}`, error: err.message });
        if (!answered && replayable && remaining.length > 0 && !res.destroyed && retryableErrors.has(err.code ?? '')) {
          attempt(remaining[0], remaining.slice(1));
          return;
        }
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const body = errorPage(502, 'Bad Gateway', `The endpoint ${target.ip}:${target.port} of service ${decision.service} did not answer.`);
        res.writeHead(502, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
      if (replayable) {
        req.resume();
        upstream.end();
      } else {
        req.pipe(upstream);
      }
    };
    attempt(decision.target, decision.others.slice(0, 2));
  }

  private handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, scheme: 'http' | 'https'): void {
    socket.on('error', () => socket.destroy());
    const decision = this.decide(req);
    if (decision.kind === 'error') {
      const body = errorPage(decision.status, decision.title, decision.detail);
      socket.end(`HTTP/1.1 ${decision.status} ${decision.title}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      return;
    }
    const { target } = decision;
    // A dedicated connection: an upgraded socket never returns to a keep-alive pool.
    const upstream = http.request({ host: target.ip, port: target.port, method: req.method, path: req.url, headers: this.forwardedHeaders(req, scheme, true), agent: false });
    upstream.on('upgrade', (answer, backendSocket, backendHead) => {
      socket.write(rawHead(answer));
      if (backendHead.length) socket.write(backendHead);
      backendSocket.on('error', () => socket.destroy());
      socket.on('close', () => backendSocket.destroy());
      backendSocket.on('close', () => socket.destroy());
      backendSocket.pipe(socket);
      socket.pipe(backendSocket);
    });
    // The backend refused the upgrade: relay its ordinary answer and close.
    upstream.on('response', (answer) => {
      socket.write(rawHead(answer, true));
      answer.pipe(socket);
    });
    upstream.on('error', () => {
      if (!socket.destroyed) socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
    if (head.length) upstream.write(head);
    upstream.end();
  }
}

const retryableErrors = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ECONNRESET', 'EPIPE']);

function rawHead(answer: IncomingMessage, close = false): string {
  const lines = [`HTTP/1.1 ${answer.statusCode} ${answer.statusMessage ?? ''}`];
  for (let i = 0; i < answer.rawHeaders.length; i += 2) {
    const name = answer.rawHeaders[i];
    if (close && hopByHop.has(name.toLowerCase())) continue;
    lines.push(`${name}: ${answer.rawHeaders[i + 1]}`);
  }
  if (close) lines.push('connection: close');
  return lines.join('\r\n') + '\r\n\r\n';
}
