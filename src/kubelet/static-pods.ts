// Static pods (Kubernetes' file config source): Pod manifests in a directory, run by the
// kubelet without the API server. Each becomes a pod named `<name>-<nodeName>` whose uid is
// a hash of the node, the file and its content, so a changed file is a new pod (the old one
// is killed, the new one started) and an unchanged file is the same pod across restarts.
// The API sees each as a mirror pod, which only reports: deleting it does not stop the pod
// (the kubelet recreates the mirror), removing the file does.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Clock, TimerHandle } from '../client/clock.js';
import { rfc3339 } from './status.js';

export const configAnnotations = {
  mirror: 'kubernetes.io/config.mirror',
  source: 'kubernetes.io/config.source',
  hash: 'kubernetes.io/config.hash',
  seen: 'kubernetes.io/config.seen',
} as const;

export function isMirrorPod(pod: any): boolean {
  return pod?.metadata?.annotations?.[configAnnotations.mirror] !== undefined;
}

export function isStaticPod(pod: any): boolean {
  const source = pod?.metadata?.annotations?.[configAnnotations.source];
  return source !== undefined && source !== 'api' && !isMirrorPod(pod);
}

/** The pod a manifest file describes, as the kubelet runs it; throws on anything but one Pod. */
export function staticPodFromManifest(text: string, file: string, nodeName: string, now: number): any {
  const docs = parseAllDocuments(text).filter((d) => d.contents !== null);
  if (docs.length !== 1) throw new Error(`${file}: expected exactly one Pod, found ${docs.length} documents`);
  if (docs[0]!.errors.length) throw new Error(`${file}: ${docs[0]!.errors[0]!.message}`);
  const manifest: any = docs[0]!.toJS();
  if (manifest?.kind !== 'Pod' || (manifest.apiVersion ?? 'v1') !== 'v1') throw new Error(`${file}: expected a v1 Pod, got ${manifest?.apiVersion}/${manifest?.kind}`);
  if (!manifest.metadata?.name) throw new Error(`${file}: the pod has no metadata.name`);
  if (!Array.isArray(manifest.spec?.containers) || manifest.spec.containers.length === 0) throw new Error(`${file}: the pod has no containers`);
  const pod: any = structuredClone(manifest);
  pod.apiVersion = 'v1';
  pod.kind = 'Pod';
  pod.metadata.name = `${manifest.metadata.name}-${nodeName}`;
  pod.metadata.namespace = manifest.metadata.namespace || 'default';
  pod.spec.nodeName = nodeName;
  // As in Kubernetes: the uid is a hash of where the pod comes from and what it says.
  const uid = createHash('md5').update(`host:${nodeName}`).update(`file:${file}`).update(JSON.stringify(pod)).digest('hex');
  pod.metadata.uid = uid;
  pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [configAnnotations.hash]: uid, [configAnnotations.source]: 'file', [configAnnotations.seen]: rfc3339(now) };
  // Static pods tolerate every NoExecute taint: nothing may evict them through the API.
  pod.spec.tolerations = [...(pod.spec.tolerations ?? []), { operator: 'Exists', effect: 'NoExecute' }];
  delete pod.status;
  return pod;
}

/** The API's view of a static pod. */
export function mirrorPodFor(staticPod: any, node: { name: string; uid: string }): any {
  const { uid: _uid, resourceVersion: _rv, creationTimestamp: _ct, ...metadata } = staticPod.metadata;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...metadata,
      annotations: { ...metadata.annotations, [configAnnotations.mirror]: staticPod.metadata.uid },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid, controller: true }],
    },
    spec: staticPod.spec,
  };
}

export interface StaticPodSourceOptions {
  dir: string;
  nodeName: string;
  clock: Clock;
  /** Called when the set of static pods changed. */
  onChange(): void;
  /** Kubernetes' --file-check-frequency (20 s); a watch wakes it sooner. */
  rescanMs?: number;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

/** The static pods of a manifest directory, kept current by a watch and a periodic rescan. */
export class StaticPodSource {
  private byUid = new Map<string, any>();
  /** Per file: its last content and pod, so an unchanged file keeps its pod (and config.seen). */
  private byFile = new Map<string, { text: string; pod: any }>();
  private watcher?: fs.FSWatcher;
  private timer?: TimerHandle;
  private debounce?: TimerHandle;
  private stopped = false;
  private scanning: Promise<void> = Promise.resolve();

  constructor(private readonly o: StaticPodSourceOptions) {}

  pods(): any[] {
    return [...this.byUid.values()];
  }

  get(uid: string): any | undefined {
    return this.byUid.get(uid);
  }

  /** Reads the directory; calls onChange when pods appeared, changed or went. */
  scan(): Promise<void> {
    this.scanning = this.scanning.then(() => this.scanOnce()).catch((err) => this.o.log?.('warn', 'static pod scan failed', { error: String(err) }));
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    const names = (await fsp.readdir(this.o.dir).catch(() => [] as string[]))
      .filter((n) => /\.(ya?ml|json)$/.test(n) && !n.startsWith('.'))
      .sort();
    const byFile = new Map<string, { text: string; pod: any }>();
    for (const name of names) {
      const file = path.join(this.o.dir, name);
      const text = await fsp.readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      const previous = this.byFile.get(file);
      if (previous && previous.text === text) { byFile.set(file, previous); continue; }
      try {
        byFile.set(file, { text, pod: staticPodFromManifest(text, file, this.o.nodeName, this.o.clock.now()) });
      } catch (err) {
        // A file being written may be half there: keep what ran before until it parses.
        this.o.log?.('warn', 'invalid static pod manifest', { file, error: (err as Error).message });
        if (previous) byFile.set(file, previous);
      }
    }
    const byUid = new Map<string, any>();
    for (const { pod } of byFile.values()) {
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      if ([...byUid.values()].some((p) => `${p.metadata.namespace}/${p.metadata.name}` === key)) {
        this.o.log?.('warn', 'duplicate static pod name, ignored', { pod: key });
        continue;
      }
      byUid.set(pod.metadata.uid, pod);
    }
    const changed = byUid.size !== this.byUid.size || [...byUid.keys()].some((uid) => !this.byUid.has(uid));
    this.byFile = byFile;
    this.byUid = byUid;
    if (changed) this.o.onChange();
  }

  async start(): Promise<void> {
    await fsp.mkdir(this.o.dir, { recursive: true });
    await this.scan();
    try {
      this.watcher = fs.watch(this.o.dir, () => {
        if (this.stopped || this.debounce) return;
        // Editors write in several steps; look once they are done.
        this.debounce = this.o.clock.setTimeout(() => { this.debounce = undefined; void this.scan(); }, 100);
      });
      this.watcher.on('error', () => undefined);
    } catch (err) {
      this.o.log?.('warn', 'cannot watch the static pod directory; rescanning only', { dir: this.o.dir, error: String(err) });
    }
    const tick = () => {
      if (this.stopped) return;
      this.timer = this.o.clock.setTimeout(() => { void this.scan().then(tick); }, this.o.rescanMs ?? 20_000);
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    if (this.debounce) this.o.clock.clearTimeout(this.debounce);
  }
}
