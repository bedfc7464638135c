// The scheduler's view of the cluster: one NodeInfo per node (the node plus the pods on it
// and their summed requests) and a Snapshot of all of them. Everything a plugin needs per
// pod or per node is computed once here (requests, parsed affinity terms, host ports,
// taints), so Filter and Score stay cheap when they run for hundreds of nodes per pod.
import type { KubeObject } from '../api/types.js';
import { everything, labelSelectorAsSelector, matches, nothing, type Selector } from '../api/selectors/labels.js';
import { addResource, emptyResource, podRequests, resourceFromList, type Resource } from './resources.js';

export type Pod = KubeObject;
export type Node = KubeObject;

export function podKey(pod: Pod): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

export function podPriority(pod: Pod): number {
  return typeof pod.spec?.priority === 'number' ? pod.spec.priority : 0;
}

/** An inter-pod (anti-)affinity term with its selectors parsed. */
export interface AffinityTerm {
  selector: Selector;
  /** Explicit namespaces; with namespaceSelector undefined and this empty, the owning pod's namespace. */
  namespaces: Set<string>;
  /** undefined = not set; `everything` = all namespaces. */
  namespaceSelector?: Selector;
  topologyKey: string;
  weight: number;
}

export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

export interface PodInfo {
  pod: Pod;
  key: string;
  requests: Resource;
  /** Requests with Kubernetes' defaults for containers that request nothing (scoring). */
  nonZeroRequests: Resource;
  requiredAffinity: AffinityTerm[];
  requiredAntiAffinity: AffinityTerm[];
  preferredAffinity: AffinityTerm[];
  preferredAntiAffinity: AffinityTerm[];
  hostPorts: HostPort[];
  priority: number;
}

function parseTerm(term: any, ownNamespace: string, weight: number): AffinityTerm | undefined {
  if (!term?.topologyKey) return undefined;
  let selector: Selector;
  try {
    selector = term.labelSelector ? labelSelectorAsSelector(term.labelSelector) : nothing;
  } catch {
    selector = nothing;
  }
  let namespaceSelector: Selector | undefined;
  if (term.namespaceSelector) {
    try {
      namespaceSelector = labelSelectorAsSelector(term.namespaceSelector);
    } catch {
      namespaceSelector = nothing;
    }
  }
  const namespaces = new Set<string>(term.namespaces ?? []);
  if (namespaces.size === 0 && !namespaceSelector) namespaces.add(ownNamespace);
  return { selector, namespaces, namespaceSelector, topologyKey: term.topologyKey, weight };
}

function parseTerms(terms: any[] | undefined, ns: string): AffinityTerm[] {
  const out: AffinityTerm[] = [];
  for (const t of terms ?? []) {
    const parsed = parseTerm(t, ns, 1);
    if (parsed) out.push(parsed);
  }
  return out;
}

function parseWeighted(terms: any[] | undefined, ns: string): AffinityTerm[] {
  const out: AffinityTerm[] = [];
  for (const t of terms ?? []) {
    const parsed = parseTerm(t?.podAffinityTerm, ns, t?.weight ?? 0);
    if (parsed) out.push(parsed);
  }
  return out;
}

/** Does `term` (owned by a pod) select `pod`? Namespace labels come from the snapshot when a namespaceSelector is used. */
export function termMatches(term: AffinityTerm, pod: Pod, namespaceLabels?: (ns: string) => Record<string, string> | undefined): boolean {
  const ns = pod.metadata.namespace ?? '';
  if (!term.namespaces.has(ns)) {
    if (!term.namespaceSelector) return false;
    if (term.namespaceSelector !== everything && !matches(term.namespaceSelector, namespaceLabels?.(ns))) return false;
  }
  return matches(term.selector, pod.metadata.labels);
}

export function newPodInfo(pod: Pod): PodInfo {
  const ns = pod.metadata.namespace ?? '';
  const affinity = pod.spec?.affinity ?? {};
  const hostPorts: HostPort[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      hostPorts.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort });
    }
  }
  return {
    pod,
    key: podKey(pod),
    requests: podRequests(pod),
    nonZeroRequests: podRequests(pod, true),
    requiredAffinity: parseTerms(affinity.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution, ns),
    requiredAntiAffinity: parseTerms(affinity.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution, ns),
    preferredAffinity: parseWeighted(affinity.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution, ns),
    preferredAntiAffinity: parseWeighted(affinity.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution, ns),
    hostPorts,
    priority: podPriority(pod),
  };
}

export function hostPortsConflict(a: HostPort, b: HostPort): boolean {
  return a.port === b.port && a.protocol === b.protocol && (a.ip === b.ip || a.ip === '0.0.0.0' || b.ip === '0.0.0.0');
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export class NodeInfo {
  node: Node | undefined;
  name: string;
  pods: PodInfo[] = [];
  private podIndex = new Map<string, number>();
  podsWithAffinity = 0;
  podsWithRequiredAntiAffinity = 0;
  requested: Resource = emptyResource();
  nonZeroRequested: Resource = emptyResource();
  allocatable: Resource = emptyResource();
  usedPorts: HostPort[] = [];
  taints: Taint[] = [];
  labels: Record<string, string> = {};
  /** Image name → size in bytes, for ImageLocality. */
  images = new Map<string, number>();
  /** Bumped on every change; lets callers cache per-node computations. */
  generation = 0;

  constructor(name: string, node?: Node) {
    this.name = name;
    if (node) this.setNode(node);
  }

  setNode(node: Node): void {
    this.node = node;
    this.name = node.metadata.name!;
    this.allocatable = resourceFromList(node.status?.allocatable ?? node.status?.capacity);
    this.taints = node.spec?.taints ?? [];
    this.labels = node.metadata.labels ?? {};
    this.images = new Map();
    for (const image of node.status?.images ?? []) {
      for (const name of image.names ?? []) this.images.set(normalizeImageName(name), image.sizeBytes ?? 0);
    }
    this.generation++;
  }

  addPod(info: PodInfo): void {
    if (this.podIndex.has(info.key)) this.removePod(info.key);
    this.podIndex.set(info.key, this.pods.length);
    this.pods.push(info);
    this.account(info, 1);
  }

  removePod(key: string): PodInfo | undefined {
    const index = this.podIndex.get(key);
    if (index === undefined) return undefined;
    const info = this.pods[index];
    const last = this.pods.pop()!;
    this.podIndex.delete(key);
    if (last !== info) {
      this.pods[index] = last;
      this.podIndex.set(last.key, index);
    }
    this.account(info, -1);
    return info;
  }

  hasPod(key: string): boolean {
    return this.podIndex.has(key);
  }

  private account(info: PodInfo, sign: 1 | -1): void {
    addResource(this.requested, info.requests, sign);
    addResource(this.nonZeroRequested, info.nonZeroRequests, sign);
    if (info.requiredAffinity.length || info.requiredAntiAffinity.length || info.preferredAffinity.length || info.preferredAntiAffinity.length) this.podsWithAffinity += sign;
    if (info.requiredAntiAffinity.length) this.podsWithRequiredAntiAffinity += sign;
    if (info.hostPorts.length) {
      if (sign > 0) this.usedPorts.push(...info.hostPorts);
      else for (const p of info.hostPorts) this.usedPorts.splice(this.usedPorts.indexOf(p), 1);
    }
    this.generation++;
  }

  /** A copy that preemption can remove pods from without touching the cache. */
  clone(): NodeInfo {
    const copy = new NodeInfo(this.name);
    copy.node = this.node;
    copy.allocatable = this.allocatable;
    copy.taints = this.taints;
    copy.labels = this.labels;
    copy.images = this.images;
    for (const p of this.pods) copy.addPod(p);
    return copy;
  }
}

/** Kubernetes' image names on nodes carry registry and tag; pods often do not ("nginx" = "docker.io/library/nginx:latest"). */
export function normalizeImageName(name: string): string {
  let n = name;
  if (!n.includes('@') && !/:[^/]+$/.test(n)) n += ':latest';
  const first = n.split('/')[0];
  if (!n.includes('/')) n = `docker.io/library/${n}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') n = `docker.io/${n}`;
  return n;
}

export interface StorageView {
  pvcs: Map<string, KubeObject>;
  pvs: Map<string, KubeObject>;
  storageClasses: Map<string, KubeObject>;
}

/**
 * All NodeInfos for one scheduling cycle. The live cache hands out the same Snapshot every
 * cycle and updates it in place between cycles (a cycle's filtering and scoring is
 * synchronous, so nothing changes under it), rebuilding only the derived lists it marks dirty.
 */
export class Snapshot {
  nodeInfoMap = new Map<string, NodeInfo>();
  private list: NodeInfo[] | undefined;
  private withAffinity: NodeInfo[] | undefined;
  private withAntiAffinity: NodeInfo[] | undefined;
  private imageCounts: Map<string, number> | undefined;
  storage: StorageView = { pvcs: new Map(), pvs: new Map(), storageClasses: new Map() };
  pdbs: KubeObject[] = [];
  /** Pods that preemption made room for, by nominated node: kept out of reach of lower-priority pods. */
  private nominated = new Map<string, Map<string, PodInfo>>();
  private nominatedNode = new Map<string, string>();
  namespaceLabels: (ns: string) => Record<string, string> | undefined = () => undefined;

  /** Nodes that exist (a NodeInfo may hold pods of a node not seen yet). */
  nodeInfoList(): NodeInfo[] {
    return (this.list ??= [...this.nodeInfoMap.values()].filter((n) => n.node));
  }

  havePodsWithAffinityList(): NodeInfo[] {
    return (this.withAffinity ??= this.nodeInfoList().filter((n) => n.podsWithAffinity > 0));
  }

  havePodsWithRequiredAntiAffinityList(): NodeInfo[] {
    return (this.withAntiAffinity ??= this.nodeInfoList().filter((n) => n.podsWithRequiredAntiAffinity > 0));
  }

  /** How many nodes have this image (ImageLocality spreads scores by it). */
  imageNodeCount(image: string): number {
    if (!this.imageCounts) {
      this.imageCounts = new Map();
      for (const n of this.nodeInfoList()) for (const name of n.images.keys()) this.imageCounts.set(name, (this.imageCounts.get(name) ?? 0) + 1);
    }
    return this.imageCounts.get(image) ?? 0;
  }

  /** Records (or, with nodeName undefined, clears) a pod's nomination. */
  setNominated(info: PodInfo, nodeName: string | undefined): void {
    const previous = this.nominatedNode.get(info.key);
    if (previous !== undefined) {
      const pods = this.nominated.get(previous)!;
      pods.delete(info.key);
      if (pods.size === 0) this.nominated.delete(previous);
      this.nominatedNode.delete(info.key);
    }
    if (!nodeName) return;
    let pods = this.nominated.get(nodeName);
    if (!pods) this.nominated.set(nodeName, (pods = new Map()));
    pods.set(info.key, info);
    this.nominatedNode.set(info.key, nodeName);
  }

  /** Nominated pods on `nodeName` that `pod` must leave room for (same or higher priority, not itself). */
  nominatedPodsFor(nodeName: string, pod: PodInfo): PodInfo[] | undefined {
    const pods = this.nominated.get(nodeName);
    if (!pods) return undefined;
    const out: PodInfo[] = [];
    for (const p of pods.values()) if (p.key !== pod.key && p.priority >= pod.priority) out.push(p);
    return out.length ? out : undefined;
  }

  get(name: string): NodeInfo | undefined {
    const n = this.nodeInfoMap.get(name);
    return n?.node ? n : undefined;
  }

  /** Call after a node was added, changed or removed. */
  nodesChanged(): void {
    this.list = this.withAffinity = this.withAntiAffinity = undefined;
    this.imageCounts = undefined;
  }

  /** Call after a pod with (anti-)affinity came or went. */
  affinityPodsChanged(): void {
    this.withAffinity = this.withAntiAffinity = undefined;
  }

  ensure(nodeName: string): NodeInfo {
    let info = this.nodeInfoMap.get(nodeName);
    if (!info) this.nodeInfoMap.set(nodeName, (info = new NodeInfo(nodeName)));
    return info;
  }

  addPod(info: PodInfo, nodeName: string): void {
    this.ensure(nodeName).addPod(info);
    if (hasAffinity(info)) this.affinityPodsChanged();
  }

  removePod(key: string, nodeName: string): PodInfo | undefined {
    const node = this.nodeInfoMap.get(nodeName);
    const removed = node?.removePod(key);
    if (removed && hasAffinity(removed)) this.affinityPodsChanged();
    if (node && !node.node && node.pods.length === 0) this.nodeInfoMap.delete(nodeName);
    return removed;
  }
}

function hasAffinity(info: PodInfo): boolean {
  return info.requiredAffinity.length + info.requiredAntiAffinity.length + info.preferredAffinity.length + info.preferredAntiAffinity.length > 0;
}

/** A snapshot from plain lists: what tests and the benchmark's pure path use. */
export function buildSnapshot(nodes: Node[], pods: Pod[] = [], storage: Partial<StorageView> = {}): Snapshot {
  const snapshot = new Snapshot();
  for (const node of nodes) snapshot.ensure(node.metadata.name!).setNode(node);
  for (const pod of pods) if (pod.spec?.nodeName) snapshot.addPod(newPodInfo(pod), pod.spec.nodeName);
  Object.assign(snapshot.storage, storage);
  snapshot.nodesChanged();
  return snapshot;
}
