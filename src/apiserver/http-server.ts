// HTTPS serving: TLS with client certificates, authentication, body reading, response
// writing and watch streaming. Everything else is the ApiHandler's.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { UserInfo } from './admission.js';
import { ApiError, unauthorized } from './errors.js';
import type { ApiHandler, ApiRequest, ApiResponse } from './handler.js';

export interface Authenticator {
  /** The user (system:anonymous when no credentials were presented), or null when credentials did not verify (401). */
  authenticate(input: { peerCertificate?: { raw?: Buffer }; authorizationHeader?: string }): Promise<UserInfo | null>;
}

export const anonymousUser: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

/** Streaming subresources (exec, attach, port-forward, proxy, logs) are served by whoever registers here. */
export type ConnectHandler = (request: ApiRequest, response: ApiResponse, http: { req: IncomingMessage; res?: ServerResponse; socket?: Duplex; head?: Buffer }) => Promise<void>;

export interface HttpServerOptions {
  keyPem: string;
  certPem: string;
  caPem: string;
  handler: ApiHandler;
  authenticator: Authenticator;
  connect?: ConnectHandler;
  maxBodyBytes?: number;
}

export function createHttpsServer(options: HttpServerOptions): https.Server {
  const server = https.createServer({
    key: options.keyPem,
    cert: options.certPem,
    ca: options.caPem,
    requestCert: true,
    rejectUnauthorized: false,
  });
  const maxBody = options.maxBodyBytes ?? 3 * 1024 * 1024;

  // A client certificate cannot change within a TLS connection: authenticate it once per socket.
  const certificateUsers = new WeakMap<TLSSocket, UserInfo | null>();
  const buildRequest = async (req: IncomingMessage): Promise<ApiRequest> => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const socket = req.socket as TLSSocket;
    let user: UserInfo | null;
    if (!req.headers.authorization && certificateUsers.has(socket)) {
      user = certificateUsers.get(socket)!;
    } else {
      const peer = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate(false) : undefined;
      user = await options.authenticator.authenticate({
        peerCertificate: peer && (peer as { raw?: Buffer }).raw ? peer : undefined,
        authorizationHeader: req.headers.authorization,
      });
      if (!req.headers.authorization) certificateUsers.set(socket, user);
    }
    if (user === null) throw unauthorized();
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    return { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers, user, remoteAddress: req.socket.remoteAddress };
  };

  const readBody = (req: IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBody) {
          reject(new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });

  server.on('request', async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const request = await buildRequest(req);
      if (req.method !== 'GET' && req.method !== 'HEAD') request.body = await readBody(req);
      const response = await options.handler.handle(request);
      if (response.connect) {
        if (!options.connect) throw new ApiError(503, 'ServiceUnavailable', 'streaming is not available on this server');
        if (response.onClose) res.once('close', response.onClose);
        await options.connect(request, response, { req, res });
        return;
      }
      if (response.stream) {
        await writeStream(req, res, response);
        return;
      }
      writeResponse(res, response);
    } catch (e) {
      const error = e instanceof ApiError ? e : new ApiError(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`);
      if (!res.headersSent) writeResponse(res, { status: error.code, body: error.toStatus() });
      else res.end();
    }
  });

  server.on('upgrade', async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      const request = await buildRequest(req);
      const response = await options.handler.handle(request);
      if (!response.connect || !options.connect) {
        const body = JSON.stringify(response.body ?? {});
        const auditID = response.headers?.['Audit-Id'] ? `Audit-Id: ${response.headers['Audit-Id']}\r\n` : '';
        socket.end(`HTTP/1.1 ${response.status || 400} Error\r\n${auditID}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        return;
      }
      if (response.onClose) socket.once('close', response.onClose);
      await options.connect(request, response, { req, socket, head });
    } catch (e) {
      const error = e instanceof ApiError ? e : new ApiError(500, 'InternalError', (e as Error).message);
      const body = JSON.stringify(error.toStatus());
      socket.end(`HTTP/1.1 ${error.code} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    }
  });
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  server.requestTimeout = 0; // watches are long-lived
  return server;
}

export function writeResponse(res: ServerResponse, response: ApiResponse): void {
  const headers: Record<string, string> = { ...(response.headers ?? {}) };
  let payload: Buffer | string;
  if (Buffer.isBuffer(response.body) || typeof response.body === 'string') {
    payload = response.body as Buffer | string;
    headers['content-type'] = response.contentType ?? 'text/plain; charset=utf-8';
  } else {
    payload = JSON.stringify(response.body ?? {});
    headers['content-type'] = response.contentType ?? 'application/json';
  }
  headers['content-length'] = String(Buffer.byteLength(payload));
  headers['cache-control'] = 'no-cache, private';
  res.writeHead(response.status, headers);
  res.end(payload);
}

async function writeStream(req: IncomingMessage, res: ServerResponse, response: ApiResponse): Promise<void> {
  res.writeHead(200, { 'content-type': response.contentType ?? 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked', ...(response.headers ?? {}) });
  res.flushHeaders();
  let stopped = false;
  let stop: (() => void) | undefined;
  const finish = () => {
    if (stopped) return;
    stopped = true;
    stop?.();
    res.end();
  };
  req.on('close', finish);
  res.on('error', finish);
  stop = await response.stream!({
    send: (event) => {
      if (!stopped) res.write(JSON.stringify(event) + '\n');
    },
    close: finish,
  });
  if (stopped) stop();
}
