// A small in-memory Kubernetes API server on 127.0.0.1 — for client/ tests only, never
// shipped. It implements just enough of the REST semantics to exercise clients the way the
// real server will: resourceVersions from one global revision, optimistic concurrency on
// update, AlreadyExists/NotFound/Conflict Status errors, label/field selectors, paging,
// and watches that replay history from a resourceVersion, send bookmarks, honour
// timeoutSeconds and answer 410 Expired once that history has been compacted.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Transport } from '../transport.js';
import { encodeQuery } from '../transport.js';
import { ApiError } from '../errors.js';

/** What the handlers need of a response; http.ServerResponse and the in-memory one both fit. */
interface ResponseLike {
  writeHead(code: number, headers: Record<string, string | number>): unknown;
  write(chunk: string): unknown;
  end(chunk?: string): unknown;
  flushHeaders(): void;
  on(event: 'close', listener: () => void): unknown;
  readonly writableEnded: boolean;
}

/** A response captured in memory, so the in-memory transport needs no socket. */
class MemoryResponse implements ResponseLike {
  code = 0;
  contentType = '';
  chunks: string[] = [];
  writableEnded = false;
  private closeListeners: Array<() => void> = [];
  private onEnd: () => void;
  constructor(private readonly onWrite?: (chunk: string) => void, onEnd?: () => void) {
    this.onEnd = onEnd ?? (() => {});
  }
  writeHead(code: number, headers: Record<string, string | number>) {
    this.code = code;
    this.contentType = String(headers['Content-Type'] ?? '');
  }
  write(chunk: string) {
    if (this.writableEnded) return;
    if (this.onWrite) this.onWrite(chunk);
    else this.chunks.push(chunk);
  }
  end(chunk?: string) {
    if (this.writableEnded) return;
    if (chunk) this.write(chunk);
    this.writableEnded = true;
    this.onEnd();
    this.close();
  }
  flushHeaders() {}
  on(_event: 'close', listener: () => void) {
    this.closeListeners.push(listener);
  }
  close() {
    this.writableEnded = true;
    for (const l of this.closeListeners.splice(0)) l();
  }
}

export interface FakeResource {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
}

interface HistoryEntry {
  revision: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resourceId: string;
  object: any;
  previous?: any;
}

interface ActiveWatch {
  resourceId: string;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  bookmarks: boolean;
  response: ResponseLike;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  body?: any;
  headers: http.IncomingHttpHeaders;
}

const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

function status(code: number, reason: string, message: string, details?: any) {
  return { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message, reason, code, details };
}

function matchesLabels(obj: any, selector?: string): boolean {
  if (!selector) return true;
  const labels: Record<string, string> = obj.metadata?.labels ?? {};
  return selector.split(',').every((raw) => {
    const term = raw.trim();
    if (!term) return true;
    let m = /^([^!=]+)!=(.*)$/.exec(term);
    if (m) return labels[m[1]!.trim()] !== m[2]!.trim();
    m = /^([^!=]+)==?(.*)$/.exec(term);
    if (m) return labels[m[1]!.trim()] === m[2]!.trim();
    if (term.startsWith('!')) return !(term.slice(1) in labels);
    return term in labels;
  });
}

function fieldValue(obj: any, path: string): string {
  let cur = obj;
  for (const part of path.split('.')) cur = cur?.[part];
  return cur === undefined || cur === null ? '' : String(cur);
}

function matchesFields(obj: any, selector?: string): boolean {
  if (!selector) return true;
  return selector.split(',').every((raw) => {
    const term = raw.trim();
    const neq = /^([^!=]+)!=(.*)$/.exec(term);
    if (neq) return fieldValue(obj, neq[1]!) !== neq[2];
    const eq = /^([^!=]+)==?(.*)$/.exec(term);
    if (eq) return fieldValue(obj, eq[1]!) === eq[2];
    return true;
  });
}

function mergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return clone(patch);
  const out = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export class FakeApiServer {
  private server = http.createServer((req, res) => this.handle(req, res));
  private resources = new Map<string, FakeResource>();
  private objects = new Map<string, any>();
  private history: HistoryEntry[] = [];
  private watches = new Set<ActiveWatch>();
  private revision = 1;
  private compactedRevision = 0;
  private uidCounter = 0;
  /** Every request received, for asserting on URLs, verbs and content types. */
  readonly requests: RecordedRequest[] = [];
  /** Responses to return instead of handling, consumed first-in first-out (fault injection). */
  readonly injectedFailures: Array<{ code: number; reason: string; message?: string; details?: any; match?: (r: RecordedRequest) => boolean }> = [];
  url = '';
  /** When false, open watches silently miss changes — a client that fell behind. */
  deliverToWatches = true;

  constructor(resources: FakeResource[]) {
    for (const r of resources) this.resources.set(this.resourceId(r.group, r.version, r.resource), r);
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.closeWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  currentRevision(): number {
    return this.revision;
  }

  /** Forgets all history up to now: watches from an older resourceVersion now get 410. */
  compact(): void {
    this.compactedRevision = this.revision;
    this.history = [];
  }

  /** Ends every open watch stream, as a server restart or idle timeout would. */
  closeWatches(): void {
    for (const w of this.watches) w.response.end();
    this.watches.clear();
  }

  activeWatchCount(): number {
    return this.watches.size;
  }

  /** Sends a BOOKMARK carrying the current revision to watchers that asked for bookmarks. */
  sendBookmarks(): void {
    for (const w of this.watches) {
      if (!w.bookmarks) continue;
      const r = this.resources.get(w.resourceId)!;
      this.writeEvent(w, {
        type: 'BOOKMARK',
        object: { apiVersion: this.apiVersion(r), kind: r.kind, metadata: { resourceVersion: String(this.revision) } },
      });
    }
  }

  /** Sends an ERROR event to every watcher, then ends the streams (as the real server does). */
  sendWatchError(code: number, reason: string, message: string): void {
    for (const w of this.watches) {
      this.writeEvent(w, { type: 'ERROR', object: status(code, reason, message) });
      w.response.end();
    }
    this.watches.clear();
  }

  /** Direct store access for test setup, bypassing HTTP (still produces watch events). */
  put(ref: Pick<FakeResource, 'group' | 'version' | 'resource'>, obj: any): any {
    const id = this.resourceId(ref.group, ref.version, ref.resource);
    const key = this.objectKey(id, obj.metadata.namespace, obj.metadata.name);
    const previous = this.objects.get(key);
    return this.store(id, key, obj, previous ? 'MODIFIED' : 'ADDED', previous);
  }

  remove(ref: Pick<FakeResource, 'group' | 'version' | 'resource'>, namespace: string | undefined, name: string): void {
    const id = this.resourceId(ref.group, ref.version, ref.resource);
    this.deleteKey(id, this.objectKey(id, namespace, name));
  }

  getObject(ref: Pick<FakeResource, 'group' | 'version' | 'resource'>, namespace: string | undefined, name: string): any {
    const id = this.resourceId(ref.group, ref.version, ref.resource);
    return clone(this.objects.get(this.objectKey(id, namespace, name)));
  }

  private resourceId(group: string, version: string, resource: string): string {
    return `${group}/${version}/${resource}`;
  }

  private objectKey(resourceId: string, namespace: string | undefined, name: string): string {
    return `${resourceId}/${namespace ?? ''}/${name}`;
  }

  private apiVersion(r: FakeResource): string {
    return r.group ? `${r.group}/${r.version}` : r.version;
  }

  private store(resourceId: string, key: string, obj: any, type: 'ADDED' | 'MODIFIED', previous?: any): any {
    const r = this.resources.get(resourceId)!;
    const stored = clone(obj);
    stored.apiVersion = this.apiVersion(r);
    stored.kind = r.kind;
    this.revision++;
    stored.metadata.resourceVersion = String(this.revision);
    if (type === 'ADDED') {
      stored.metadata.uid ??= `uid-${++this.uidCounter}`;
      stored.metadata.creationTimestamp ??= new Date(Date.UTC(2024, 0, 1)).toISOString().replace('.000', '');
      stored.metadata.generation = 1;
    }
    this.objects.set(key, stored);
    this.publish({ revision: this.revision, type, resourceId, object: stored, previous });
    return clone(stored);
  }

  private deleteKey(resourceId: string, key: string): any {
    const previous = this.objects.get(key);
    if (!previous) return undefined;
    this.objects.delete(key);
    this.revision++;
    const deleted = clone(previous);
    deleted.metadata.resourceVersion = String(this.revision);
    this.publish({ revision: this.revision, type: 'DELETED', resourceId, object: deleted, previous });
    return deleted;
  }

  private publish(entry: HistoryEntry): void {
    this.history.push(entry);
    if (!this.deliverToWatches) return;
    for (const w of this.watches) this.deliver(w, entry);
  }

  private deliver(w: ActiveWatch, entry: HistoryEntry): void {
    if (entry.resourceId !== w.resourceId) return;
    const matches = (o: any) =>
      o !== undefined &&
      (!w.namespace || o.metadata.namespace === w.namespace) &&
      matchesLabels(o, w.labelSelector) &&
      matchesFields(o, w.fieldSelector);
    if (entry.type === 'DELETED') {
      if (matches(entry.previous)) this.writeEvent(w, { type: 'DELETED', object: entry.object });
      return;
    }
    const now = matches(entry.object);
    const before = entry.type === 'MODIFIED' && matches(entry.previous);
    // An object leaving a selector's view is a DELETED for that watcher; entering it, an ADDED.
    if (now && before) this.writeEvent(w, { type: 'MODIFIED', object: entry.object });
    else if (now) this.writeEvent(w, { type: 'ADDED', object: entry.object });
    else if (before) this.writeEvent(w, { type: 'DELETED', object: entry.object });
  }

  private writeEvent(w: ActiveWatch, event: any): void {
    if (!w.response.writableEnded) w.response.write(JSON.stringify(event) + '\n');
  }

  private send(res: ResponseLike, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const text = Buffer.concat(chunks).toString('utf8');
      const record: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType: req.headers['content-type'],
        body: text ? JSON.parse(text) : undefined,
        headers: req.headers,
      };
      this.dispatch(record, res);
    });
  }

  private dispatch(record: RecordedRequest, res: ResponseLike): void {
    this.requests.push(record);
    const failureIndex = this.injectedFailures.findIndex((f) => !f.match || f.match(record));
    if (failureIndex >= 0) {
      const [failure] = this.injectedFailures.splice(failureIndex, 1);
      this.send(res, failure!.code, status(failure!.code, failure!.reason, failure!.message ?? failure!.reason, failure!.details));
      return;
    }
    try {
      this.route(record, res);
    } catch (err) {
      this.send(res, 500, status(500, 'InternalError', String(err)));
    }
  }

  /**
   * A Transport that calls this server's handlers directly, without a socket: responses
   * arrive as resolved promises, so fake-clock tests stay deterministic.
   */
  transport(): Transport {
    const record = (method: string, path: string, query: Record<string, string> | undefined, body: unknown, contentType?: string): RecordedRequest => {
      const url = new URL(path + encodeQuery(query), 'http://fake');
      return {
        method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType: body === undefined ? undefined : contentType ?? 'application/json',
        body: body === undefined ? undefined : JSON.parse(typeof body === 'string' ? body : JSON.stringify(body)),
        headers: {},
      };
    };
    return {
      request: async (req) => {
        const res = new MemoryResponse();
        this.dispatch(record(req.method, req.path, req.query, req.body, req.contentType), res);
        const text = res.chunks.join('');
        return { status: res.code, body: text ? JSON.parse(text) : undefined };
      },
      watch: (req, onEvent, onClose) => {
        let stopped = false;
        let res: MemoryResponse;
        let pending = '';
        res = new MemoryResponse(
          (chunk) => {
            if (res.code !== 200) return void (pending += chunk);
            pending += chunk;
            let newline: number;
            while ((newline = pending.indexOf('\n')) >= 0) {
              const line = pending.slice(0, newline);
              pending = pending.slice(newline + 1);
              // Deliver asynchronously, as a socket would: handlers may write back to the server.
              queueMicrotask(() => !stopped && onEvent(JSON.parse(line)));
            }
          },
          () =>
            queueMicrotask(() => {
              if (stopped) return;
              if (res.code !== 200) {
                onClose(ApiError.fromResponse(res.code, pending ? JSON.parse(pending) : undefined));
              } else onClose();
            }),
        );
        this.dispatch(record('GET', req.path, { ...req.query, watch: 'true' }, undefined), res);
        return {
          stop: () => {
            stopped = true;
            res.close();
          },
        };
      },
    };
  }

  private route(req: RecordedRequest, res: ResponseLike): void {
    const segments = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (segments[0] === 'api' && segments.length >= 2) {
      group = '';
      version = segments[1]!;
      rest = segments.slice(2);
    } else if (segments[0] === 'apis' && segments.length >= 3) {
      group = segments[1]!;
      version = segments[2]!;
      rest = segments.slice(3);
    } else {
      return this.send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [resourceName, name, subresource] = rest;
    const resourceId = this.resourceId(group, version, resourceName ?? '');
    const r = this.resources.get(resourceId);
    if (!r) return this.send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const gr = r.group ? `${r.resource}.${r.group}` : r.resource;
    const notFound = (n: string) =>
      status(404, 'NotFound', `${gr} "${n}" not found`, { name: n, group: r.group, kind: r.resource });
    const key = name !== undefined ? this.objectKey(resourceId, namespace, name) : '';

    if (name === undefined) {
      if (req.method === 'GET' && req.query.watch === 'true') return this.watch(r, resourceId, namespace, req, res);
      if (req.method === 'GET') return this.list(r, resourceId, namespace, req, res);
      if (req.method === 'POST') {
        const obj = req.body;
        obj.metadata ??= {};
        if (r.namespaced) {
          if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
            return this.send(res, 400, status(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request'));
          }
          obj.metadata.namespace = namespace;
        }
        if (!obj.metadata.name && obj.metadata.generateName) {
          obj.metadata.name = obj.metadata.generateName + Math.random().toString(36).slice(2, 7);
        }
        if (!obj.metadata.name) return this.send(res, 422, status(422, 'Invalid', 'name: Required value'));
        const objKey = this.objectKey(resourceId, namespace, obj.metadata.name);
        if (this.objects.has(objKey)) {
          return this.send(res, 409, status(409, 'AlreadyExists', `${gr} "${obj.metadata.name}" already exists`, { name: obj.metadata.name, group: r.group, kind: r.resource }));
        }
        if (req.query.dryRun === 'All') return this.send(res, 201, obj);
        delete obj.metadata.resourceVersion;
        return this.send(res, 201, this.store(resourceId, objKey, obj, 'ADDED'));
      }
      if (req.method === 'DELETE') {
        const items: any[] = [];
        for (const [k, o] of [...this.objects]) {
          if (!k.startsWith(resourceId + '/')) continue;
          if (namespace && o.metadata.namespace !== namespace) continue;
          if (!matchesLabels(o, req.query.labelSelector) || !matchesFields(o, req.query.fieldSelector)) continue;
          items.push(this.deleteKey(resourceId, k));
        }
        return this.send(res, 200, { apiVersion: this.apiVersion(r), kind: `${r.kind}List`, metadata: { resourceVersion: String(this.revision) }, items });
      }
      return this.send(res, 405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
    }

    const existing = this.objects.get(key);
    if (subresource === 'binding' && req.method === 'POST') {
      if (!existing) return this.send(res, 404, notFound(name));
      if (existing.spec?.nodeName) {
        return this.send(res, 409, status(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${existing.spec.nodeName}"`));
      }
      const updated = clone(existing);
      updated.spec = { ...updated.spec, nodeName: req.body.target.name };
      this.store(resourceId, key, updated, 'MODIFIED', existing);
      return this.send(res, 201, { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Success', code: 201 });
    }
    if (subresource && subresource !== 'status') {
      return this.send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    }
    switch (req.method) {
      case 'GET':
        if (!existing) return this.send(res, 404, notFound(name));
        return this.send(res, 200, existing);
      case 'PUT': {
        if (!existing) return this.send(res, 404, notFound(name));
        const obj = req.body;
        const wanted = obj.metadata?.resourceVersion;
        if (wanted && wanted !== existing.metadata.resourceVersion) {
          return this.send(res, 409, status(409, 'Conflict', `Operation cannot be fulfilled on ${gr} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, group: r.group, kind: r.resource }));
        }
        let updated: any;
        if (subresource === 'status') {
          updated = { ...clone(existing), status: obj.status };
        } else {
          updated = { ...obj, status: existing.status, metadata: { ...obj.metadata, uid: existing.metadata.uid, creationTimestamp: existing.metadata.creationTimestamp, namespace: existing.metadata.namespace } };
          updated.metadata.generation = (existing.metadata.generation ?? 1) + (JSON.stringify(obj.spec) !== JSON.stringify(existing.spec) ? 1 : 0);
        }
        if (req.query.dryRun === 'All') return this.send(res, 200, updated);
        return this.send(res, 200, this.store(resourceId, key, updated, 'MODIFIED', existing));
      }
      case 'PATCH': {
        if (req.contentType !== 'application/merge-patch+json') {
          return this.send(res, 415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json`));
        }
        if (!existing) return this.send(res, 404, notFound(name));
        const wanted = req.body?.metadata?.resourceVersion;
        if (wanted && wanted !== existing.metadata.resourceVersion) {
          return this.send(res, 409, status(409, 'Conflict', `Operation cannot be fulfilled on ${gr} "${name}": the object has been modified; please apply your changes to the latest version and try again`));
        }
        const updated = mergePatch(clone(existing), req.body);
        return this.send(res, 200, this.store(resourceId, key, updated, 'MODIFIED', existing));
      }
      case 'DELETE': {
        if (!existing) return this.send(res, 404, notFound(name));
        const pre = req.body?.preconditions;
        if ((pre?.uid && pre.uid !== existing.metadata.uid) || (pre?.resourceVersion && pre.resourceVersion !== existing.metadata.resourceVersion)) {
          return this.send(res, 409, status(409, 'Conflict', `Operation cannot be fulfilled on ${gr} "${name}": Precondition failed`));
        }
        return this.send(res, 200, this.deleteKey(resourceId, key));
      }
      default:
        return this.send(res, 405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
    }
  }

  private selected(resourceId: string, namespace: string | undefined, query: Record<string, string>): any[] {
    const out: any[] = [];
    for (const [k, o] of this.objects) {
      if (!k.startsWith(resourceId + '/')) continue;
      if (namespace && o.metadata.namespace !== namespace) continue;
      if (!matchesLabels(o, query.labelSelector) || !matchesFields(o, query.fieldSelector)) continue;
      out.push(o);
    }
    return out.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  }

  private list(r: FakeResource, resourceId: string, namespace: string | undefined, req: RecordedRequest, res: ResponseLike): void {
    let items = this.selected(resourceId, namespace, req.query);
    let listRevision = this.revision;
    if (req.query.continue) {
      const token = JSON.parse(Buffer.from(req.query.continue, 'base64').toString('utf8'));
      if (token.rv <= this.compactedRevision) {
        return this.send(res, 410, status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.'));
      }
      listRevision = token.rv;
      items = items.filter((o) => `${o.metadata.namespace}/${o.metadata.name}` > token.after);
    }
    let next: string | undefined;
    const limit = Number(req.query.limit ?? 0);
    if (limit > 0 && items.length > limit) {
      items = items.slice(0, limit);
      const last = items[items.length - 1];
      next = Buffer.from(JSON.stringify({ rv: listRevision, after: `${last.metadata.namespace}/${last.metadata.name}` })).toString('base64');
    }
    // Real list items omit apiVersion/kind; so does this fake, so clients cannot rely on them.
    const bare = items.map((o) => {
      const { apiVersion: _a, kind: _k, ...rest } = o;
      return rest;
    });
    this.send(res, 200, {
      apiVersion: this.apiVersion(r),
      kind: `${r.kind}List`,
      metadata: { resourceVersion: String(listRevision), ...(next ? { continue: next } : {}) },
      items: bare,
    });
  }

  private watch(r: FakeResource, resourceId: string, namespace: string | undefined, req: RecordedRequest, res: ResponseLike): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const w: ActiveWatch = {
      resourceId,
      namespace,
      labelSelector: req.query.labelSelector,
      fieldSelector: req.query.fieldSelector,
      bookmarks: req.query.allowWatchBookmarks === 'true',
      response: res,
    };
    const rv = req.query.resourceVersion;
    if (rv && rv !== '0' && Number(rv) < this.compactedRevision) {
      // Kubernetes answers an expired watch with 200 and a single ERROR event.
      this.writeEvent(w, { type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${rv} (${this.compactedRevision})`) });
      res.end();
      return;
    }
    if (!rv || rv === '0') {
      for (const o of this.selected(resourceId, namespace, req.query)) this.writeEvent(w, { type: 'ADDED', object: o });
    } else {
      for (const entry of this.history) if (entry.revision > Number(rv)) this.deliver(w, entry);
    }
    this.watches.add(w);
    const timeout = Number(req.query.timeoutSeconds ?? 0);
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    res.on('close', () => {
      if (timer) clearTimeout(timer);
      this.watches.delete(w);
    });
    void r;
  }
}
