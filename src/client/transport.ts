// How a client reaches the API server. Everything above this file speaks Kubernetes REST
// paths and JSON bodies; a Transport only moves them. Two implementations share the
// interface: HTTP(S) here (what `navarch agent` and external tools use) and an in-process
// one the server wires in, which calls the same handlers (authn, admission, validation).
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ApiError } from './errors.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  /** The object; for ERROR a meta/v1 Status; for BOOKMARK an object carrying only metadata.resourceVersion. */
  object: any;
}

export interface TransportRequest {
  method: string;
  /** Absolute API path, e.g. /api/v1/namespaces/default/pods. */
  path: string;
  query?: Record<string, string>;
  /** Sent as JSON unless it is already a string or a Buffer. */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface TransportResponse {
  status: number;
  /** Parsed JSON when the server sent JSON, else the text. */
  body: any;
  headers?: Record<string, string>;
}

export interface WatchRequest {
  path: string;
  query?: Record<string, string>;
}

export interface WatchHandle {
  /** Ends the stream. After stop() no further onEvent or onClose is delivered. */
  stop(): void;
}

export interface Transport {
  /** Resolves with any HTTP status (the client maps non-2xx to ApiError); rejects only when the server could not be reached. */
  request(req: TransportRequest): Promise<TransportResponse>;
  /**
   * Opens a watch (`watch=true` is added). onEvent gets each event in order; onClose is
   * called once when the stream ends: with no error when the server closed it cleanly
   * (e.g. timeoutSeconds elapsed), with an ApiError when the server refused the watch
   * (e.g. 410 Gone), or with the network error.
   */
  watch(req: WatchRequest, onEvent: (ev: WatchEvent) => void, onClose: (err?: Error) => void): WatchHandle;
}

export interface HttpTransportOptions {
  /** https://host:port (or http:// for a plain-text loopback server). */
  server: string;
  /** CA bundle that signed the server certificate; system roots when absent. */
  caPem?: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  bearerToken?: string;
  userAgent?: string;
  /** Server name to verify instead of the host in `server`. */
  tlsServerName?: string;
  insecureSkipTlsVerify?: boolean;
  /** Abort requests (not watches) that take longer than this; 0 = no limit, as in client-go. */
  requestTimeoutMs?: number;
  /** How long past its timeoutSeconds a silent watch is given before it is presumed dead (default 30 s). */
  watchDeadConnectionGraceMs?: number;
}

/**
 * A watch that asked the server to end after timeoutSeconds but is still open this long
 * afterwards is on a dead connection (a half-open TCP stream never errors by itself).
 */
const watchDeadConnectionGraceMs = 30_000;

/** Query string in a stable order, so request logs and tests read the same every time. */
export function encodeQuery(query?: Record<string, string>): string {
  if (!query) return '';
  const entries = Object.entries(query).filter(([, v]) => v !== undefined && v !== '');
  if (entries.length === 0) return '';
  return '?' + entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function parseBody(text: string, contentType: string | undefined): any {
  if (text === '') return undefined;
  if (!contentType || contentType.includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

export function createHttpTransport(options: HttpTransportOptions): Transport {
  const base = new URL(options.server);
  const secure = base.protocol === 'https:';
  // Keep-alive: a controller manager issues many small requests; a fresh TLS handshake per
  // request would dominate their cost.
  const agent = secure
    ? new https.Agent({
        keepAlive: true,
        ca: options.caPem,
        cert: options.clientCertPem,
        key: options.clientKeyPem,
        servername: options.tlsServerName,
        rejectUnauthorized: !options.insecureSkipTlsVerify,
      })
    : new http.Agent({ keepAlive: true });
  const basePath = base.pathname.replace(/\/+$/, '');
  const userAgent = options.userAgent ?? 'navarch';

  function baseHeaders(): Record<string, string> {
    const headers: Record<string, string> = { 'User-Agent': userAgent, Accept: 'application/json' };
    if (options.bearerToken) headers['Authorization'] = `Bearer ${options.bearerToken}`;
    return headers;
  }

  function open(method: string, path: string, headers: Record<string, string>): http.ClientRequest {
    const requestOptions: https.RequestOptions = {
      protocol: base.protocol,
      hostname: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port || (secure ? 443 : 80),
      method,
      path: basePath + path,
      headers,
      agent,
    };
    return secure ? https.request(requestOptions) : http.request(requestOptions);
  }

  return {
    request(req) {
      return new Promise((resolve, reject) => {
        const headers = { ...baseHeaders(), ...req.headers };
        let payload: Buffer | undefined;
        if (req.body !== undefined) {
          payload = Buffer.isBuffer(req.body)
            ? req.body
            : Buffer.from(typeof req.body === 'string' ? req.body : JSON.stringify(req.body));
          headers['Content-Type'] = req.contentType ?? 'application/json';
          headers['Content-Length'] = String(payload.length);
        }
        const httpReq = open(req.method, req.path + encodeQuery(req.query), headers);
        httpReq.on('error', reject);
        if (options.requestTimeoutMs) {
          httpReq.setTimeout(options.requestTimeoutMs, () =>
            httpReq.destroy(new Error(`request ${req.method} ${req.path} timed out after ${options.requestTimeoutMs} ms`)),
          );
        }
        httpReq.on('response', (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({
              status: res.statusCode ?? 0,
              body: parseBody(text, res.headers['content-type']),
              headers: flattenHeaders(res.headers),
            });
          });
        });
        httpReq.end(payload);
      });
    },

    watch(req, onEvent, onClose) {
      let stopped = false;
      let closed = false;
      let deadConnectionTimer: NodeJS.Timeout | undefined;
      const close = (err?: Error) => {
        if (deadConnectionTimer) clearTimeout(deadConnectionTimer);
        if (stopped || closed) return;
        closed = true;
        onClose(err);
      };
      const httpReq = open('GET', req.path + encodeQuery({ ...req.query, watch: 'true' }), baseHeaders());
      httpReq.on('error', (err) => close(err));
      const serverTimeoutSeconds = Number(req.query?.timeoutSeconds ?? 0);
      if (serverTimeoutSeconds > 0) {
        deadConnectionTimer = setTimeout(() => {
          httpReq.destroy();
          close(new Error(`watch ${req.path} outlived its timeoutSeconds; connection presumed dead`));
        }, serverTimeoutSeconds * 1000 + (options.watchDeadConnectionGraceMs ?? watchDeadConnectionGraceMs));
        deadConnectionTimer.unref();
      }
      httpReq.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const body = parseBody(Buffer.concat(chunks).toString('utf8'), res.headers['content-type']);
            close(ApiError.fromResponse(status, body));
          });
          res.on('error', (err) => close(err));
          return;
        }
        // The watch stream is a sequence of JSON event objects separated by newlines,
        // arriving in arbitrary chunk boundaries.
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          pending += chunk;
          let newline: number;
          while ((newline = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, newline).trim();
            pending = pending.slice(newline + 1);
            if (!line || stopped) continue;
            let event: WatchEvent;
            try {
              event = JSON.parse(line);
            } catch (err) {
              httpReq.destroy();
              close(new Error(`malformed watch event: ${(err as Error).message}`));
              return;
            }
            onEvent(event);
          }
        });
        res.on('end', () => {
          const rest = pending.trim();
          if (rest && !stopped) {
            try {
              onEvent(JSON.parse(rest));
            } catch {
              // a truncated trailing event is the same as a dropped connection
              close(new Error('watch stream ended mid-event'));
              return;
            }
          }
          close();
        });
        res.on('error', (err) => close(err));
        res.on('aborted', () => close(new Error('watch stream aborted')));
      });
      httpReq.end();
      return {
        stop() {
          if (stopped) return;
          stopped = true;
          if (deadConnectionTimer) clearTimeout(deadConnectionTimer);
          httpReq.destroy();
        },
      };
    },
  };
}

/** The parts of a kubeconfig a client needs, after resolving the current context. */
export function loadKubeconfig(path: string, contextName?: string): HttpTransportOptions {
  const config = parseYaml(readFileSync(path, 'utf8')) ?? {};
  const dir = dirname(path);
  const named = (list: any[] | undefined, name: string, what: string) => {
    const entry = (list ?? []).find((e) => e?.name === name);
    if (!entry) throw new Error(`kubeconfig ${path}: ${what} "${name}" not found`);
    return entry;
  };
  const current = contextName ?? config['current-context'];
  if (!current) throw new Error(`kubeconfig ${path}: no current-context`);
  const context = named(config.contexts, current, 'context').context ?? {};
  const cluster = named(config.clusters, context.cluster, 'cluster').cluster ?? {};
  const user = context.user ? named(config.users, context.user, 'user').user ?? {} : {};
  // Paths inside a kubeconfig are relative to the kubeconfig file, as kubectl resolves them.
  const readRelative = (file: string) => readFileSync(isAbsolute(file) ? file : resolvePath(dir, file), 'utf8');
  const dataOrFile = (data: string | undefined, file: string | undefined) =>
    data ? Buffer.from(data, 'base64').toString('utf8') : file ? readRelative(file) : undefined;
  if (!cluster.server) throw new Error(`kubeconfig ${path}: cluster "${context.cluster}" has no server`);
  return {
    server: cluster.server,
    caPem: dataOrFile(cluster['certificate-authority-data'], cluster['certificate-authority']),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: cluster['tls-server-name'],
    clientCertPem: dataOrFile(user['client-certificate-data'], user['client-certificate']),
    clientKeyPem: dataOrFile(user['client-key-data'], user['client-key']),
    bearerToken: user.token ?? (user.tokenFile ? readRelative(user.tokenFile).trim() : undefined),
  };
}

export function fromKubeconfig(path: string, options: { context?: string; userAgent?: string } = {}): Transport {
  return createHttpTransport({ ...loadKubeconfig(path, options.context), userAgent: options.userAgent });
}
