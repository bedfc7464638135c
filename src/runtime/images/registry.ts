// Pulls images from OCI distribution (Docker registry v2) endpoints into the ImageStore.
// Supports HTTP and HTTPS (optionally without verification for named insecure registries),
// bearer tokens through the WWW-Authenticate realm flow, basic auth, manifest lists / OCI
// indexes (linux/amd64 picked), Docker and OCI media types, and registry mirrors.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { createHash } from 'node:crypto';
import type { AuthConfig } from '../types.js';
import { ImageStore, mediaTypes, pickPlatform, type Descriptor, type Manifest, type ProgressFn } from './store.js';
import { parseReference, formatReference } from './reference.js';

export interface RegistryOptions {
  /** registry host → endpoint URLs tried before the registry itself, e.g. {"docker.io": ["http://127.0.0.1:5000"]}. */
  mirrors?: Record<string, string[]>;
  /** Registry hosts whose TLS certificates are not verified (and that may be spoken to over HTTP). */
  insecureRegistries?: string[];
  /** Extra CA certificates (PEM) for HTTPS registries. */
  ca?: string | Buffer;
  userAgent?: string;
}

interface Response { status: number; headers: http.IncomingHttpHeaders; body: http.IncomingMessage }

const manifestAccept = [mediaTypes.ociIndex, mediaTypes.dockerList, mediaTypes.ociManifest, mediaTypes.dockerManifest].join(', ');

export class RegistryError extends Error {
  constructor(message: string, readonly status?: number) { super(message); this.name = 'RegistryError'; }
}

/** Parses `Bearer realm="…",service="…",scope="…"` (RFC 6750 / distribution token spec). */
export function parseWwwAuthenticate(header: string): { scheme: string; params: Record<string, string> } {
  const sp = header.indexOf(' ');
  const scheme = (sp < 0 ? header : header.slice(0, sp)).toLowerCase();
  const params: Record<string, string> = {};
  const re = /([a-zA-Z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(sp < 0 ? '' : header.slice(sp + 1)))) params[m[1].toLowerCase()] = m[2] ?? m[3] ?? '';
  return { scheme, params };
}

export class RegistryClient {
  private readonly tokens = new Map<string, string>();

  constructor(private readonly store: ImageStore, private readonly options: RegistryOptions = {}) {}

  /** Endpoints for a registry host: its mirrors first, then the registry itself. */
  endpoints(registry: string): string[] {
    const out = [...(this.options.mirrors?.[registry] ?? [])].map((u) => u.replace(/\/+$/, ''));
    const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
    const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(registry);
    if (loopback || this.options.insecureRegistries?.includes(registry)) out.push(`https://${host}`, `http://${host}`);
    else out.push(`https://${host}`);
    return out;
  }

  private insecure(url: URL): boolean {
    // Like Docker: loopback registries may use plain HTTP, but HTTPS is always verified
    // unless the registry is listed as insecure.
    return (this.options.insecureRegistries ?? []).includes(url.host);
  }

  private send(url: URL, headers: Record<string, string>, method = 'GET'): Promise<Response> {
    return new Promise((resolve, reject) => {
      const lib = url.protocol === 'https:' ? https : http;
      const req = lib.request(url, { method, headers: { 'user-agent': this.options.userAgent ?? 'navarch', ...headers }, ...(url.protocol === 'https:' ? { rejectUnauthorized: !this.insecure(url), ca: this.options.ca } : {}) }, (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }));
      req.setTimeout(30_000, () => req.destroy(new Error(`timeout talking to ${url.host}`)));
      req.on('error', reject);
      req.end();
    });
  }

  private async readBody(res: Response, limit = 8 << 20): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of res.body) { n += c.length; if (n > limit) throw new RegistryError('response too large'); chunks.push(c as Buffer); }
    return Buffer.concat(chunks);
  }

  private basic(auth?: AuthConfig): string | undefined {
    if (!auth) return undefined;
    if (auth.auth) return `Basic ${auth.auth}`;
    if (auth.username !== undefined) return `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`;
    return undefined;
  }

  /** GET with auth negotiation and redirects; Authorization is not carried to another host. */
  private async get(endpoint: string, repo: string, pathAndQuery: string, accept: string, auth?: AuthConfig): Promise<Response> {
    const key = `${endpoint}|${repo}`;
    let url = new URL(endpoint + pathAndQuery);
    const origin = url.host;
    for (let attempt = 0, redirects = 0; ; ) {
      const headers: Record<string, string> = { accept };
      const token = this.tokens.get(key) ?? (auth?.registryToken ? `Bearer ${auth.registryToken}` : undefined);
      if (url.host === origin && token) headers.authorization = token;
      const res = await this.send(url, headers);
      if ([301, 302, 303, 307, 308].includes(res.status) && res.headers.location && redirects++ < 5) {
        res.body.resume();
        url = new URL(res.headers.location, url);
        continue;
      }
      if (res.status === 401 && attempt++ === 0 && res.headers['www-authenticate']) {
        res.body.resume();
        const challenge = parseWwwAuthenticate(String(res.headers['www-authenticate']));
        if (challenge.scheme === 'basic') {
          const b = this.basic(auth);
          if (!b) throw new RegistryError(`${origin} requires authentication`, 401);
          this.tokens.set(key, b);
        } else if (challenge.scheme === 'bearer') {
          this.tokens.set(key, `Bearer ${await this.fetchToken(challenge.params, repo, auth)}`);
        }
        continue;
      }
      return res;
    }
  }

  private async fetchToken(params: Record<string, string>, repo: string, auth?: AuthConfig): Promise<string> {
    if (!params.realm) throw new RegistryError('bearer challenge without realm');
    const u = new URL(params.realm);
    if (params.service) u.searchParams.set('service', params.service);
    u.searchParams.set('scope', params.scope || `repository:${repo}:pull`);
    const headers: Record<string, string> = {};
    const b = this.basic(auth);
    if (b) headers.authorization = b;
    if (auth?.identityToken) { u.searchParams.set('refresh_token', auth.identityToken); }
    const res = await this.send(u, headers);
    const body = await this.readBody(res, 1 << 20);
    if (res.status !== 200) throw new RegistryError(`token request to ${u.host} failed: ${res.status} ${body.toString().slice(0, 200)}`, res.status);
    const json = JSON.parse(body.toString());
    const token = json.token ?? json.access_token;
    if (!token) throw new RegistryError(`token response from ${u.host} has no token`);
    return token;
  }

  private async fetchManifest(endpoint: string, repo: string, reference: string, auth?: AuthConfig): Promise<{ digest: string; body: Buffer; mediaType: string }> {
    const res = await this.get(endpoint, repo, `/v2/${repo}/manifests/${reference}`, manifestAccept, auth);
    const body = await this.readBody(res);
    if (res.status === 404) throw new RegistryError(`manifest for ${repo}:${reference} not found: manifest unknown`, 404);
    if (res.status === 401 || res.status === 403) throw new RegistryError(`pull access denied for ${repo}, repository does not exist or may require authorization`, res.status);
    if (res.status !== 200) throw new RegistryError(`fetching manifest ${repo}:${reference}: HTTP ${res.status}`, res.status);
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (reference.startsWith('sha256:') && reference !== digest) throw new RegistryError(`manifest digest mismatch: asked ${reference}, got ${digest}`);
    const mediaType = JSON.parse(body.toString()).mediaType ?? String(res.headers['content-type'] ?? '').split(';')[0];
    return { digest, body, mediaType };
  }

  private async fetchBlob(endpoint: string, repo: string, d: Descriptor, auth: AuthConfig | undefined, onBytes: (n: number) => void): Promise<void> {
    if (this.store.hasBlob(d.digest)) { onBytes(d.size); return; }
    const res = await this.get(endpoint, repo, `/v2/${repo}/blobs/${d.digest}`, '*/*', auth);
    if (res.status !== 200) { res.body.resume(); throw new RegistryError(`fetching blob ${d.digest}: HTTP ${res.status}`, res.status); }
    const tmp = this.store.tmpPath();
    const hash = createHash('sha256');
    const out = fs.createWriteStream(tmp);
    try {
      for await (const c of res.body) { hash.update(c as Buffer); onBytes((c as Buffer).length); if (!out.write(c)) await new Promise<void>((r) => out.once('drain', () => r())); }
      await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== d.digest) throw new RegistryError(`blob digest mismatch: expected ${d.digest}, got ${got}`);
      await this.store.adoptBlob(tmp, d.digest);
    } finally { await fsp.rm(tmp, { force: true }); }
  }

  /** Pulls `ref` and returns the image id (config digest). Tries each endpoint in order. */
  async pull(ref: string, auth?: AuthConfig, onProgress?: ProgressFn): Promise<string> {
    const parsed = parseReference(ref);
    const name = formatReference(parsed);
    const errors: string[] = [];
    for (const endpoint of this.endpoints(parsed.registry)) {
      try { return await this.pullFrom(endpoint, parsed.repository, parsed.digest ?? parsed.tag!, name, parsed.tag !== undefined && !parsed.digest, auth, onProgress); }
      catch (e: any) {
        errors.push(`${endpoint}: ${e.message}`);
        if (e instanceof RegistryError && (e.status === 401 || e.status === 403) && endpoint === this.endpoints(parsed.registry).at(-1)) break;
      }
    }
    throw new RegistryError(`failed to pull image "${name}": ${errors.join('; ')}`);
  }

  private async pullFrom(endpoint: string, repo: string, reference: string, name: string, tagged: boolean, auth: AuthConfig | undefined, onProgress?: ProgressFn): Promise<string> {
    const top = await this.fetchManifest(endpoint, repo, reference, auth);
    let manifestDigest = top.digest;
    let manifestBody = top.body;
    if (top.mediaType === mediaTypes.ociIndex || top.mediaType === mediaTypes.dockerList) {
      await this.store.writeBlob(top.body);
      const chosen = pickPlatform(JSON.parse(top.body.toString()).manifests);
      const inner = await this.fetchManifest(endpoint, repo, chosen.digest, auth);
      manifestDigest = inner.digest;
      manifestBody = inner.body;
    }
    const manifest: Manifest = JSON.parse(manifestBody.toString());
    if (!manifest.config || !Array.isArray(manifest.layers)) throw new RegistryError(`unsupported manifest (schema ${manifest.schemaVersion}, ${top.mediaType})`);
    const bytesTotal = manifest.layers.reduce((s, l) => s + l.size, 0) + manifest.config.size;
    let bytesDone = 0;
    let layersDone = 0;
    const report = (status: string) => onProgress?.({ ref: name, bytesDone, bytesTotal, layersDone, layersTotal: manifest.layers.length, status });
    let lastReport = 0;
    const onBytes = (n: number) => {
      bytesDone += n;
      if (bytesDone - lastReport >= 1 << 20) { lastReport = bytesDone; report('downloading'); }
    };
    await this.fetchBlob(endpoint, repo, manifest.config, auth, onBytes);
    report('config fetched');
    for (const layer of manifest.layers) {
      await this.fetchBlob(endpoint, repo, layer, auth, onBytes);
      layersDone++;
      report(`layer ${layer.digest.slice(7, 19)} fetched`);
    }
    await this.store.writeBlob(manifestBody);
    await this.store.commitImage(manifestDigest, tagged ? [name] : [], top.digest, onProgress, { ref: name, bytesDone, bytesTotal });
    report('done');
    return manifest.config.digest;
  }
}
