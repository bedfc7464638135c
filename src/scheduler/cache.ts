// The scheduler cache: nodes and the pods assigned to them, kept current by informer events,
// plus "assumed" pods — placed by a scheduling cycle but not yet confirmed by the informer —
// so the next cycle already sees their resources while their binding is in flight.
// It owns one Snapshot and updates it in place; see Snapshot for why that is safe.
import { newPodInfo, podKey, Snapshot, type Node, type Pod, type PodInfo } from './node-info.js';

export class SchedulerCache {
  readonly snapshot = new Snapshot();
  /** pod key → node it is counted on (confirmed or assumed). */
  private readonly podNodes = new Map<string, string>();
  private readonly assumed = new Set<string>();

  addNode(node: Node): void {
    this.snapshot.ensure(node.metadata.name!).setNode(node);
    this.snapshot.nodesChanged();
  }

  updateNode(node: Node): void {
    this.addNode(node);
  }

  removeNode(node: Node): void {
    const name = node.metadata.name!;
    const info = this.snapshot.nodeInfoMap.get(name);
    if (!info) return;
    // Pods still bound to a deleted node keep their NodeInfo until they go, as Kubernetes does.
    if (info.pods.length === 0) this.snapshot.nodeInfoMap.delete(name);
    else info.node = undefined;
    this.snapshot.nodesChanged();
  }

  isAssumed(key: string): boolean {
    return this.assumed.has(key);
  }

  /** Counts `pod` on `nodeName` before the binding is confirmed. */
  assumePod(info: PodInfo, nodeName: string): void {
    if (this.podNodes.has(info.key)) throw new Error(`pod ${info.key} is already in the cache`);
    this.snapshot.addPod(info, nodeName);
    this.podNodes.set(info.key, nodeName);
    this.assumed.add(info.key);
  }

  /** Undoes assumePod after a failed Reserve/Permit/Bind. */
  forgetPod(key: string): void {
    if (!this.assumed.has(key)) return;
    this.assumed.delete(key);
    const node = this.podNodes.get(key);
    this.podNodes.delete(key);
    if (node) this.snapshot.removePod(key, node);
  }

  /** An assigned pod from the informer (new, or the confirmation of an assumed one). */
  addPod(pod: Pod): void {
    const key = podKey(pod);
    const nodeName = pod.spec.nodeName as string;
    const current = this.podNodes.get(key);
    if (current !== undefined) this.snapshot.removePod(key, current);
    this.assumed.delete(key);
    this.snapshot.addPod(newPodInfo(pod), nodeName);
    this.podNodes.set(key, nodeName);
  }

  updatePod(pod: Pod): void {
    this.addPod(pod);
  }

  removePod(pod: Pod): void {
    const key = podKey(pod);
    const node = this.podNodes.get(key);
    if (node === undefined) return;
    this.podNodes.delete(key);
    this.assumed.delete(key);
    this.snapshot.removePod(key, node);
  }

  assumedCount(): number {
    return this.assumed.size;
  }

  podCount(): number {
    return this.podNodes.size;
  }
}
