// The gRPC probe against a real gRPC server (@grpc/grpc-js serving the standard
// grpc.health.v1 service from its .proto through @grpc/proto-loader), on loopback.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { decodeHealthCheckResponse, encodeHealthCheckRequest, grpcProbe } from './grpc-probe.js';
import { runHandler } from './probes.js';

const healthProto = `syntax = "proto3";
package grpc.health.v1;
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse {
  enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
  ServingStatus status = 1;
}
service Health { rpc Check(HealthCheckRequest) returns (HealthCheckResponse); }
`;

async function serve(server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))));
}

describe('gRPC probe', () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-grpc-probe-'));
  const statuses: Record<string, string> = { '': 'SERVING', db: 'NOT_SERVING' };
  const health = new grpc.Server();
  const bare = new grpc.Server();
  let healthPort = 0;
  let barePort = 0;

  before(async () => {
    writeFileSync(join(dir, 'health.proto'), healthProto);
    const definition = grpc.loadPackageDefinition(protoLoader.loadSync(join(dir, 'health.proto'), { enums: String })) as any;
    health.addService(definition.grpc.health.v1.Health.service, {
      Check(call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<unknown>) {
        // proto3 leaves an empty string out of the message: the loader then gives undefined.
        const status = statuses[call.request.service ?? ''];
        if (!status) callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
        else callback(null, { status });
      },
    });
    healthPort = await serve(health);
    barePort = await serve(bare);
  });
  after(() => {
    health.forceShutdown();
    bare.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  test('SERVING is a success', async () => {
    assert.deepEqual(await grpcProbe('127.0.0.1', healthPort, '', 1), { result: 'success', output: 'service healthy' });
  });

  test('NOT_SERVING for the named service is a failure with the status', async () => {
    assert.deepEqual(await grpcProbe('127.0.0.1', healthPort, 'db', 1), { result: 'failure', output: 'service unhealthy (responded with "NOT_SERVING")' });
  });

  test('an RPC error is reported with its code', async () => {
    const r = await grpcProbe('127.0.0.1', healthPort, 'nosuch', 1);
    assert.equal(r.result, 'failure');
    assert.equal(r.output, 'error: health rpc probe failed: rpc error: code = NotFound desc = unknown service');
  });

  test('a server without the health service is Unimplemented', async () => {
    const r = await grpcProbe('127.0.0.1', barePort, '', 1);
    assert.equal(r.result, 'failure');
    assert.match(r.output, /^error: this server does not implement the grpc health protocol \(grpc\.health\.v1\.Health\)/);
  });

  test('a closed port fails to connect', async () => {
    const closed = new grpc.Server();
    const port = await serve(closed);
    closed.forceShutdown();
    const r = await grpcProbe('127.0.0.1', port, '', 1);
    assert.equal(r.result, 'failure');
    assert.match(r.output, new RegExp(`^timeout: failed to connect service "127\\.0\\.0\\.1:${port}" within 1s: .*connection refused`));
  });

  test('runHandler dials the pod IP on the probe port', async () => {
    const target = { podUid: 'u', containerName: 'c', containerId: 'id', podIP: '127.0.0.1', container: { name: 'c' } };
    const r = await runHandler(undefined as never, target, { grpc: { port: healthPort } }, 1);
    assert.equal(r.result, 'success');
  });

  test('messages encode and decode as protobuf', () => {
    assert.deepEqual([...encodeHealthCheckRequest('db')], [0, 0, 0, 0, 4, 0x0a, 2, 0x64, 0x62]);
    assert.deepEqual([...encodeHealthCheckRequest('')], [0, 0, 0, 0, 0]);
    assert.equal(decodeHealthCheckResponse(Buffer.from([0, 0, 0, 0, 2, 0x08, 2])), 2);
    // An empty message is the default status, UNKNOWN (0).
    assert.equal(decodeHealthCheckResponse(Buffer.from([0, 0, 0, 0, 0])), 0);
  });
});
