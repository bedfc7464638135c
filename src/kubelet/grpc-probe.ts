// The gRPC probe: one grpc.health.v1.Health/Check call over plaintext HTTP/2 (h2c, as the
// kubelet dials pods), with Kubernetes' result messages (pkg/probe/grpc). The two messages
// involved are tiny, so they are encoded here by hand rather than through a protobuf library:
//   HealthCheckRequest  { string service = 1; }
//   HealthCheckResponse { ServingStatus status = 1; }  UNKNOWN=0 SERVING=1 NOT_SERVING=2 SERVICE_UNKNOWN=3
import http2 from 'node:http2';
import type { ProbeOutcome } from './probes.js';

const servingStatus = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** gRPC status codes the kubelet distinguishes. */
const UNIMPLEMENTED = 12;
const DEADLINE_EXCEEDED = 4;
const codeNames = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated'];

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** A length-prefixed gRPC message (uncompressed) holding HealthCheckRequest{service}. */
export function encodeHealthCheckRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const message = name.length ? Buffer.concat([Buffer.from([0x0a, ...varint(name.length)]), name]) : Buffer.alloc(0);
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(message.length, 1);
  return Buffer.concat([frame, message]);
}

/** Reads `status` out of a length-prefixed HealthCheckResponse; unknown fields are skipped. */
export function decodeHealthCheckResponse(body: Buffer): number | undefined {
  if (body.length < 5 || body[0] !== 0) return undefined;
  const length = body.readUInt32BE(1);
  const message = body.subarray(5, 5 + length);
  let status = 0;
  for (let i = 0; i < message.length; ) {
    let key = 0;
    let shift = 0;
    for (;;) {
      const b = message[i++]!;
      key |= (b & 0x7f) << shift;
      shift += 7;
      if (!(b & 0x80)) break;
    }
    const wire = key & 7;
    if (wire === 0) {
      let value = 0;
      shift = 0;
      for (;;) {
        const b = message[i++]!;
        value += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if (!(b & 0x80)) break;
      }
      if (key >>> 3 === 1) status = value;
    } else if (wire === 2) {
      let len = 0;
      shift = 0;
      for (;;) {
        const b = message[i++]!;
        len |= (b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) break;
      }
      i += len;
    } else if (wire === 5) i += 4;
    else if (wire === 1) i += 8;
    else return undefined;
  }
  return status;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function grpcProbe(host: string, port: number, service: string, timeoutSeconds: number): Promise<ProbeOutcome> {
  const addr = hostPort(host, port);
  const timeout = `${timeoutSeconds}s`;
  return new Promise((resolve) => {
    let settled = false;
    const session = http2.connect(`http://${addr}`);
    const finish = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(outcome);
    };
    let connected = false;
    const timer = setTimeout(() => {
      finish(connected
        ? { result: 'failure', output: `timeout: health rpc did not complete within ${timeout}` }
        : { result: 'failure', output: `timeout: failed to connect service "${addr}" within ${timeout}: context deadline exceeded` });
    }, timeoutSeconds * 1000);
    session.once('connect', () => { connected = true; });
    // Before the connection exists, the session and the pending stream both report its failure.
    const failed = (err: NodeJS.ErrnoException) => {
      const cause = (err.cause as NodeJS.ErrnoException | undefined) ?? err;
      finish(connected
        ? { result: 'failure', output: `error: health rpc probe failed: ${err.message}` }
        : { result: 'failure', output: `timeout: failed to connect service "${addr}" within ${timeout}: ${cause.code === 'ECONNREFUSED' ? `connection error: desc = "transport: Error while dialing: dial tcp ${addr}: connect: connection refused"` : cause.message}` });
    };
    session.on('error', failed);
    const stream = session.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': `${timeoutSeconds * 1000}m`,
      'user-agent': 'kube-probe/1.33',
    });
    const chunks: Buffer[] = [];
    let headerStatus: string | undefined;
    let headerMessage: string | undefined;
    stream.on('response', (headers) => {
      headerStatus = headers['grpc-status'] as string | undefined;
      headerMessage = headers['grpc-message'] as string | undefined;
    });
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on('trailers', (t) => { trailers = t; });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', failed);
    stream.on('end', () => {
      const code = Number(trailers['grpc-status'] ?? headerStatus ?? 2);
      const message = decodeURIComponent(String(trailers['grpc-message'] ?? headerMessage ?? ''));
      if (code === UNIMPLEMENTED) return finish({ result: 'failure', output: `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${message}` });
      if (code === DEADLINE_EXCEEDED) return finish({ result: 'failure', output: `timeout: health rpc did not complete within ${timeout}` });
      if (code !== 0) return finish({ result: 'failure', output: `error: health rpc probe failed: rpc error: code = ${codeNames[code] ?? code} desc = ${message}` });
      const status = decodeHealthCheckResponse(Buffer.concat(chunks));
      if (status === undefined) return finish({ result: 'failure', output: 'error: health rpc probe failed: malformed HealthCheckResponse' });
      if (status !== 1) return finish({ result: 'failure', output: `service unhealthy (responded with "${servingStatus[status] ?? status}")` });
      finish({ result: 'success', output: 'service healthy' });
    });
    stream.end(encodeHealthCheckRequest(service));
  });
}
