// SPDY/3.1 (draft-mbelshe-httpbis-spdy-00, version 3), server side, as far as Kubernetes'
// streaming needs it: kubectl up to 1.30 speaks it for exec/attach/port-forward (HTTP
// `Upgrade: SPDY/3.1`), and newer kubectl tunnels it inside WebSocket binary messages for
// port-forward (subprotocol `SPDY/3.1+portforward.k8s.io`). The peer opens every stream
// (SYN_STREAM with a `streamType` header); we answer each with SYN_REPLY. Flow control is not
// enforced by Kubernetes' spdystream peer, so WINDOW_UPDATE and SETTINGS are read and ignored.
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';

export const FrameType = { synStream: 1, synReply: 2, rstStream: 3, settings: 4, ping: 6, goAway: 7, headers: 8, windowUpdate: 9 } as const;
export const Flags = { fin: 0x01, unidirectional: 0x02 } as const;
export const RstStatus = { protocolError: 1, invalidStream: 2, refusedStream: 3, cancel: 5, internalError: 6 } as const;

const spdyVersion = 3;
const maxDataFrame = 32 * 1024;

/**
 * The SPDY/3 header-compression dictionary (spec section 2.6.10.1): length-prefixed header
 * names and common values, then a run of plain text.
 */
export const headerDictionary: Buffer = (() => {
  const words = ['options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language', 'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag', 'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer', 'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning', 'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive', 'origin'];
  const tail = '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505'
    + '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized'
    + '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable'
    + 'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT'
    + 'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,'
    + 'publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';
  const parts: Buffer[] = [];
  for (const w of words) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    parts.push(len, Buffer.from(w, 'latin1'));
  }
  parts.push(Buffer.from(tail, 'latin1'));
  return Buffer.concat(parts);
})();

export function adler32(data: Buffer): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; i++) {
    a = (a + data[i]!) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

export type HeaderBlock = Record<string, string[]>;

export function encodeHeaderBlock(headers: HeaderBlock): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
  const entries = Object.entries(headers);
  parts.push(u32(entries.length));
  for (const [name, values] of entries) {
    const n = Buffer.from(name.toLowerCase());
    const v = Buffer.from(values.join('\0'));
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): HeaderBlock {
  const out: HeaderBlock = {};
  let pos = 0;
  const u32 = () => { if (pos + 4 > block.length) throw new Error('truncated SPDY header block'); const n = block.readUInt32BE(pos); pos += 4; return n; };
  const str = () => { const n = u32(); if (pos + n > block.length) throw new Error('truncated SPDY header block'); const s = block.subarray(pos, pos + n).toString('utf8'); pos += n; return s; };
  const count = u32();
  for (let i = 0; i < count; i++) {
    const name = str().toLowerCase();
    out[name] = [...(out[name] ?? []), ...str().split('\0')];
  }
  return out;
}

/**
 * The compressing side of our header blocks. Every block goes out as stored (uncompressed)
 * deflate blocks inside one zlib stream that declares the SPDY dictionary: valid for any
 * conforming inflater, and synchronous, so frames leave in the order they were made.
 */
export class HeaderCompressor {
  private started = false;

  compress(block: Buffer): Buffer {
    const parts: Buffer[] = [];
    if (!this.started) {
      this.started = true;
      // CMF 0x78 (deflate, 32 KiB window); FLG 0x20 (FDICT; 0x7820 is a multiple of 31).
      const header = Buffer.alloc(6);
      header[0] = 0x78;
      header[1] = 0x20;
      header.writeUInt32BE(adler32(headerDictionary), 2);
      parts.push(header);
    }
    const stored = (chunk: Buffer) => {
      const h = Buffer.alloc(5);
      h[0] = 0; // BFINAL=0, BTYPE=00 (stored)
      h.writeUInt16LE(chunk.length, 1);
      h.writeUInt16LE(~chunk.length & 0xffff, 3);
      parts.push(h, chunk);
    };
    for (let off = 0; off < block.length; off += 0xffff) stored(block.subarray(off, off + 0xffff));
    // The empty stored block is Z_SYNC_FLUSH's marker; inflaters (Go's among them) only hand
    // out what they have decoded when they meet it.
    stored(Buffer.alloc(0));
    return Buffer.concat(parts);
  }
}

/** The peer's header blocks form one zlib stream across frames: one inflater per connection. */
export class HeaderDecompressor {
  // Every write is inflated with Z_SYNC_FLUSH, so its output is complete when its callback runs.
  private readonly inflate = zlib.createInflate({ dictionary: headerDictionary, flush: zlib.constants.Z_SYNC_FLUSH });
  private failure: Error | undefined;

  constructor() {
    this.inflate.on('error', (err) => { this.failure = err; });
  }

  decompress(data: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.failure) { reject(this.failure); return; }
      this.inflate.write(data, () => {
        if (this.failure) { reject(this.failure); return; }
        // Output of a write is pushed before its callback runs; it waits in the read buffer.
        const out: Buffer[] = [];
        for (let chunk: Buffer | null; (chunk = this.inflate.read()) !== null;) out.push(chunk);
        resolve(Buffer.concat(out));
      });
    });
  }

  close(): void { this.inflate.destroy(); }
}

export interface Frame {
  control: boolean;
  type: number; // control frames
  streamId: number; // data frames
  flags: number;
  data: Buffer;
}

/** Splits a byte stream into SPDY frames. */
export class FrameParser {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.buffer.length >= 8) {
      const length = this.buffer.readUInt32BE(4) & 0xffffff;
      if (this.buffer.length < 8 + length) break;
      const first = this.buffer.readUInt32BE(0);
      const control = (first & 0x80000000) !== 0;
      const flags = this.buffer[4]!;
      const data = this.buffer.subarray(8, 8 + length);
      if (control) {
        const version = (first >>> 16) & 0x7fff;
        if (version !== spdyVersion) throw new Error(`unsupported SPDY version ${version}`);
        frames.push({ control, type: first & 0xffff, streamId: 0, flags, data });
      } else {
        frames.push({ control, type: 0, streamId: first & 0x7fffffff, flags, data });
      }
      this.buffer = this.buffer.subarray(8 + length);
    }
    return frames;
  }
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE((0x80000000 | (spdyVersion << 16) | type) >>> 0, 0);
  h.writeUInt32BE(((flags << 24) | payload.length) >>> 0, 4);
  return Buffer.concat([h, payload]);
}

export function dataFrame(streamId: number, flags: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(streamId & 0x7fffffff, 0);
  h.writeUInt32BE(((flags << 24) | payload.length) >>> 0, 4);
  return Buffer.concat([h, payload]);
}

/** One peer-initiated stream: a Duplex whose writes become DATA frames and whose end is FIN. */
export class SpdyStream extends Duplex {
  private remoteClosed = false;
  private localClosed = false;

  constructor(readonly id: number, readonly headers: HeaderBlock, private readonly connection: SpdyConnection) {
    super({ allowHalfOpen: true });
  }

  /** The first value of a header (names are case-insensitive). */
  header(name: string): string | undefined { return this.headers[name.toLowerCase()]?.[0]; }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    for (let off = 0; off < chunk.length; off += maxDataFrame) this.connection.send(dataFrame(this.id, 0, chunk.subarray(off, off + maxDataFrame)));
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.localClosed) {
      this.localClosed = true;
      this.connection.send(dataFrame(this.id, Flags.fin, Buffer.alloc(0)));
    }
    this.connection.forgetIfDone(this);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.localClosed || !this.remoteClosed) this.connection.send(controlFrame(FrameType.rstStream, 0, u32pair(this.id, RstStatus.cancel)));
    this.localClosed = this.remoteClosed = true;
    this.connection.forget(this);
    cb(err);
  }

  /** @internal */ receive(data: Buffer, fin: boolean): void {
    if (this.remoteClosed) return;
    if (data.length) this.push(data);
    if (fin) { this.remoteClosed = true; this.push(null); this.connection.forgetIfDone(this); }
  }

  /** @internal */ reset(): void {
    this.remoteClosed = this.localClosed = true;
    this.push(null);
    this.destroy();
  }

  get done(): boolean { return this.remoteClosed && this.localClosed; }
}

function u32pair(a: number, b: number): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeUInt32BE(a >>> 0, 0);
  buf.writeUInt32BE(b >>> 0, 4);
  return buf;
}

/**
 * The server end of a SPDY session over any byte stream (a TLS socket after the HTTP
 * upgrade, or a WebSocket turned into a Duplex). Emits 'stream' for each stream the peer
 * opens (already answered with SYN_REPLY) and 'close' once the transport is gone.
 */
export class SpdyConnection extends EventEmitter {
  private readonly parser = new FrameParser();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly streams = new Map<number, SpdyStream>();
  private lastStreamId = 0;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private closeEmitted = false;

  constructor(private readonly transport: Duplex) {
    super();
    transport.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try { frames = this.parser.push(chunk); } catch (err) { this.fail(err as Error); return; }
      for (const frame of frames) this.queue = this.queue.then(() => this.handle(frame)).catch((err) => this.fail(err));
    });
    transport.on('end', () => { this.queue = this.queue.then(() => this.shutdown()); });
    transport.on('close', () => { this.queue = this.queue.then(() => this.shutdown()); });
    transport.on('error', () => this.shutdown());
  }

  send(frame: Buffer): void {
    if (!this.closed && this.transport.writable) this.transport.write(frame);
  }

  /** GOAWAY, then the transport is ended once written. */
  close(): void {
    if (this.closed) return;
    this.send(controlFrame(FrameType.goAway, 0, u32pair(this.lastStreamId, 0)));
    this.closed = true;
    this.transport.end();
    this.shutdown();
  }

  /** @internal */ forget(stream: SpdyStream): void { this.streams.delete(stream.id); }
  /** @internal */ forgetIfDone(stream: SpdyStream): void { if (stream.done) this.streams.delete(stream.id); }

  private fail(err: Error): void {
    this.emit('protocolError', err);
    this.send(controlFrame(FrameType.goAway, 0, u32pair(this.lastStreamId, 1)));
    this.closed = true;
    this.transport.destroy();
    this.shutdown();
  }

  private shutdown(): void {
    this.closed = true;
    for (const s of [...this.streams.values()]) s.reset();
    this.streams.clear();
    this.decompressor.close();
    if (!this.closeEmitted) { this.closeEmitted = true; this.emit('close'); }
  }

  private async handle(frame: Frame): Promise<void> {
    if (!frame.control) {
      const stream = this.streams.get(frame.streamId);
      if (!stream) {
        this.send(controlFrame(FrameType.rstStream, 0, u32pair(frame.streamId, RstStatus.invalidStream)));
        return;
      }
      stream.receive(frame.data, (frame.flags & Flags.fin) !== 0);
      return;
    }
    const d = frame.data;
    switch (frame.type) {
      case FrameType.synStream: {
        const id = d.readUInt32BE(0) & 0x7fffffff;
        const headers = decodeHeaderBlock(await this.decompressor.decompress(d.subarray(10)));
        if (this.closed) return;
        if (id <= this.lastStreamId || id % 2 === 0) {
          this.send(controlFrame(FrameType.rstStream, 0, u32pair(id, RstStatus.protocolError)));
          return;
        }
        this.lastStreamId = id;
        const stream = new SpdyStream(id, headers, this);
        this.streams.set(id, stream);
        const reply = Buffer.concat([u32pair(id, 0).subarray(0, 4), this.compressor.compress(encodeHeaderBlock({}))]);
        this.send(controlFrame(FrameType.synReply, 0, reply));
        if (frame.flags & Flags.fin) stream.receive(Buffer.alloc(0), true);
        this.emit('stream', stream);
        return;
      }
      case FrameType.headers:
      case FrameType.synReply:
        // Keep the shared inflater in step even though we have no use for these headers.
        await this.decompressor.decompress(d.subarray(4));
        return;
      case FrameType.rstStream: {
        const stream = this.streams.get(d.readUInt32BE(0) & 0x7fffffff);
        stream?.reset();
        return;
      }
      case FrameType.ping:
        // Peers' pings have odd ids; echo them. Ours would be even, and we send none.
        if (d.readUInt32BE(0) % 2 === 1) this.send(controlFrame(FrameType.ping, 0, d.subarray(0, 4)));
        return;
      case FrameType.goAway:
        this.closed = true;
        this.transport.end();
        this.shutdown();
        return;
      default:
        return; // SETTINGS, WINDOW_UPDATE, and unknown types are ignorable by the spec.
    }
  }
}
