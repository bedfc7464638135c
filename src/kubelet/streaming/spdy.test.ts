import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import { FrameParser, FrameType, Flags, HeaderCompressor, HeaderDecompressor, SpdyConnection, adler32, controlFrame, dataFrame, decodeHeaderBlock, encodeHeaderBlock, headerDictionary, type SpdyStream } from './spdy.js';

test('our header blocks inflate with a standard zlib inflater that knows the SPDY dictionary', () => {
  const c = new HeaderCompressor();
  const first = c.compress(encodeHeaderBlock({ streamtype: ['error'] }));
  const second = c.compress(encodeHeaderBlock({ streamtype: ['data'], port: ['80'] }));
  assert.equal(first.readUInt32BE(2), adler32(headerDictionary));
  const out = zlib.inflateSync(Buffer.concat([first, second]), { dictionary: headerDictionary, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const a = encodeHeaderBlock({ streamtype: ['error'] });
  assert.deepEqual(decodeHeaderBlock(out.subarray(0, a.length)), { streamtype: ['error'] });
  assert.deepEqual(decodeHeaderBlock(out.subarray(a.length)), { streamtype: ['data'], port: ['80'] });
});

test('a peer-opened stream is answered, carries data both ways, and half-closes with FIN', async () => {
  const transport = new PassThrough();
  const fromServer = new PassThrough();
  const duplex = Object.assign(transport, { write: fromServer.write.bind(fromServer) }) as any;
  const connection = new SpdyConnection(duplex);
  const streams: SpdyStream[] = [];
  connection.on('stream', (s: SpdyStream) => streams.push(s));
  // The client side compresses with zlib proper (as Go does), one context for the session.
  const deflate = zlib.createDeflate({ dictionary: headerDictionary, flush: zlib.constants.Z_SYNC_FLUSH });
  const compress = (b: Buffer) => new Promise<Buffer>((r) => { deflate.write(b, () => { const o: Buffer[] = []; for (let c; (c = deflate.read()) !== null;) o.push(c); r(Buffer.concat(o)); }); });
  const syn = async (id: number, headers: Record<string, string[]>) => {
    const head = Buffer.alloc(10);
    head.writeUInt32BE(id, 0);
    return controlFrame(FrameType.synStream, 0, Buffer.concat([head, await compress(encodeHeaderBlock(headers))]));
  };
  transport.push(await syn(1, { streamtype: ['error'] }));
  transport.push(await syn(3, { streamtype: ['stdout'] }));
  transport.push(controlFrame(FrameType.ping, 0, Buffer.from([0, 0, 0, 1])));
  transport.push(dataFrame(3, Flags.fin, Buffer.from('to server')));
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(streams.map((s) => s.header('streamType')), ['error', 'stdout']);
  let received = '';
  streams[1]!.on('data', (d) => (received += d));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(received, 'to server');
  streams[1]!.end('to client');
  const frames = new FrameParser().push(fromServer.read());
  const replies = frames.filter((f) => f.control && f.type === FrameType.synReply).map((f) => f.data.readUInt32BE(0));
  assert.deepEqual(replies, [1, 3]);
  assert.ok(frames.some((f) => f.control && f.type === FrameType.ping && f.data.readUInt32BE(0) === 1), 'ping echoed');
  const data = frames.filter((f) => !f.control && f.streamId === 3);
  assert.equal(Buffer.concat(data.map((f) => f.data)).toString(), 'to client');
  assert.equal(data.at(-1)!.flags & Flags.fin, Flags.fin);
  // The replies' header blocks decode through one inflater, as the client reads them.
  const inflater = new HeaderDecompressor();
  for (const f of frames.filter((f) => f.control && f.type === FrameType.synReply)) assert.deepEqual(decodeHeaderBlock(await inflater.decompress(f.data.subarray(4))), {});
  inflater.close();
  connection.close();
});
