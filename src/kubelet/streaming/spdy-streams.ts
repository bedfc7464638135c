// Kubernetes' stream protocols carried over SPDY (k8s.io/apimachinery httpstream/spdy and the
// kubelet's remotecommand / portforward servers): the HTTP upgrade, and what each stream means.
//   exec/attach: the client opens one stream per role, named by its `streamType` header —
//     error, stdin, stdout, stderr, resize (v3+, tty only) — and we wait for all it asked for.
//   portforward.k8s.io: per forwarded connection, an `error` and a `data` stream that share a
//     `requestID` and carry the `port` header.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RuntimeService, StreamSession } from '../../runtime/types.js';
import { exitStatus, internalErrorStatus, protocolVersion } from './channels.js';
import { SpdyConnection, type SpdyStream } from './spdy.js';

export const spdyChannelProtocols = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;
export const portForwardProtocol = 'portforward.k8s.io';
/** The WebSocket subprotocol under which kubectl ≥ 1.31 tunnels SPDY port-forwarding. */
export const tunneledPortForwardProtocol = 'SPDY/3.1+portforward.k8s.io';

export function isSpdyUpgrade(req: IncomingMessage): boolean {
  return /^spdy\/3\.1$/i.test(String(req.headers.upgrade ?? '').trim());
}

/** The protocols the client offers in X-Stream-Protocol-Version (repeated, or comma-joined by Node). */
export function offeredStreamProtocols(req: IncomingMessage): string[] {
  const raw = req.headersDistinct?.['x-stream-protocol-version'] ?? [];
  return raw.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

/**
 * Completes the SPDY upgrade on the raw socket, or answers 403 when no protocol is shared (as
 * the kubelet does). An empty offer means a pre-versioning client: no header is returned.
 */
export function acceptSpdyUpgrade(socket: Duplex, head: Buffer, offered: string[], supported: readonly string[]): { connection: SpdyConnection; protocol: string } | undefined {
  const protocol = offered.find((p) => supported.includes(p));
  if (offered.length > 0 && !protocol) {
    const body = `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${supported.join(' ')}]`;
    socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${supported.map((p) => `X-Accepted-Stream-Protocol-Versions: ${p}\r\n`).join('')}\r\n${body}`);
    return undefined;
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n${protocol ? `X-Stream-Protocol-Version: ${protocol}\r\n` : ''}\r\n`);
  const connection = new SpdyConnection(socket);
  if (head.length) socket.unshift(head);
  return { connection, protocol: protocol ?? '' };
}

export interface StreamWants { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }

const streamCreationTimeoutMs = 30_000;

/** exec / attach over SPDY: wait for the client's streams, run the session, report on `error`. */
export function serveSpdyRemoteCommand(connection: SpdyConnection, protocol: string, start: () => Promise<StreamSession>, wants: StreamWants, describe: { kind: 'exec' | 'attach'; command: string[] }): void {
  const version = protocol ? protocolVersion(protocol) : 1;
  const expected = new Set<string>(['error']);
  if (wants.stdin) expected.add('stdin');
  if (wants.stdout) expected.add('stdout');
  if (wants.stderr && !wants.tty) expected.add('stderr');
  if (wants.tty && version >= 3) expected.add('resize');
  if (version < 2) expected.delete('error');
  const streams = new Map<string, SpdyStream>();
  const timer = setTimeout(() => connection.close(), streamCreationTimeoutMs);
  connection.on('stream', (stream: SpdyStream) => {
    const type = stream.header('streamType') ?? '';
    streams.set(type, stream);
    if ([...expected].every((t) => streams.has(t))) { clearTimeout(timer); void run(); }
  });
  connection.on('close', () => clearTimeout(timer));

  async function run(): Promise<void> {
    const errorStream = streams.get('error');
    const report = (message: string | object) => new Promise<void>((resolve) => {
      if (!errorStream) { resolve(); return; }
      errorStream.end(typeof message === 'string' ? message : JSON.stringify(message), () => resolve());
    });
    let session: StreamSession;
    try {
      session = await start();
    } catch (err) {
      await report(version >= 4 ? internalErrorStatus((err as Error).message) : (err as Error).message);
      setTimeout(() => connection.close(), 50);
      return;
    }
    const stdin = streams.get('stdin');
    if (stdin) {
      if (session.stdin) { stdin.pipe(session.stdin); } else stdin.resume();
    }
    const resize = streams.get('resize');
    if (resize) {
      let pending = '';
      resize.on('data', (d: Buffer) => {
        pending += d.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          try { const size = JSON.parse(line); session.resize(size.Width, size.Height); } catch { /* a bad resize is ignored */ }
        }
      });
    }
    const drained: Promise<void>[] = [];
    const pump = (from: NodeJS.ReadableStream | null, to: SpdyStream | undefined) => {
      if (!from) { to?.end(); return; }
      drained.push(new Promise((resolve) => {
        from.on('data', (d: Buffer) => { if (to && !to.writableEnded) to.write(Buffer.from(d)); });
        const done = () => { to?.end(); resolve(); };
        from.on('end', done);
        from.on('close', done);
        from.on('error', done);
      }));
    };
    pump(session.stdout, streams.get('stdout'));
    pump(session.stderr, streams.get('stderr'));
    if (!session.stderr) streams.get('stderr')?.end();
    connection.on('close', () => session.close());
    const code = await session.exit;
    await Promise.race([Promise.all(drained), new Promise((r) => setTimeout(r, 500))]);
    streams.get('stdout')?.end();
    streams.get('stderr')?.end();
    // attach ends when the streams do; a container whose exit was not recorded yet is not an error.
    const effective = describe.kind === 'attach' && code < 0 ? 0 : code;
    if (version >= 4) await report(exitStatus(effective, describe.command));
    else if (effective !== 0) await report(`command terminated with non-zero exit code: ${effective}`);
    else errorStream?.end();
    session.close();
    setTimeout(() => connection.close(), 50);
  }
}

/** portforward.k8s.io: pair each request's error and data streams, and dial the port in the pod. */
export function serveSpdyPortForward(connection: SpdyConnection, runtime: RuntimeService, sandboxId: string): void {
  const pairs = new Map<string, { error?: SpdyStream; data?: SpdyStream }>();
  connection.on('stream', (stream: SpdyStream) => {
    const type = stream.header('streamType');
    // Clients before requestID pair by stream id: the data stream follows its error stream.
    const requestId = stream.header('requestID') ?? String(type === 'data' ? stream.id - 2 : stream.id);
    const pair = pairs.get(requestId) ?? {};
    if (type === 'error') pair.error = stream;
    else if (type === 'data') pair.data = stream;
    else { stream.destroy(); return; }
    pairs.set(requestId, pair);
    if (pair.error && pair.data) {
      pairs.delete(requestId);
      forward(pair.error, pair.data);
    }
  });

  function forward(errorStream: SpdyStream, dataStream: SpdyStream): void {
    errorStream.resume(); // nothing is ever sent to us on it
    const port = Number(dataStream.header('port'));
    if (!(port > 0 && port < 65536)) {
      errorStream.end(`invalid port: ${dataStream.header('port')}`);
      dataStream.end();
      return;
    }
    runtime.portForward(sandboxId, port).then((target) => {
      target.on('data', (d: Buffer) => { if (!dataStream.writableEnded) dataStream.write(Buffer.from(d)); });
      target.on('end', () => dataStream.end());
      target.on('error', (err) => { if (!errorStream.writableEnded) errorStream.end(`error forwarding port ${port} to pod sandbox ${sandboxId}: ${err.message}`); dataStream.end(); });
      target.on('close', () => { dataStream.end(); if (!errorStream.writableEnded) errorStream.end(); });
      dataStream.on('data', (d: Buffer) => target.write(d));
      dataStream.on('end', () => target.end());
      dataStream.on('close', () => target.destroy());
    }, (err) => {
      errorStream.end(`error forwarding port ${port} to pod sandbox ${sandboxId}: ${(err as Error).message}`);
      dataStream.end();
    });
  }
}
