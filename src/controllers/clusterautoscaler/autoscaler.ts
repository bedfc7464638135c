// The cluster autoscaler: every scan interval (10 s) it looks at the informer caches and
//  - scales up: pods the scheduler marked Unschedulable, that no existing or upcoming node can
//    take, are binpacked onto new nodes of each node group's template; the group that helps
//    the most pods (then needs the fewest nodes) grows, bounded by its maxSize;
//  - scales down: a node of a group whose requested utilization stays under the threshold for
//    scale-down-unneeded-time, and whose pods (but DaemonSet and mirror pods) can all move
//    elsewhere without breaking a PodDisruptionBudget, is tainted ToBeDeletedByClusterAutoscaler,
//    drained through the eviction API, and removed from its group — never below minSize;
//  - writes kube-system/cluster-autoscaler-status.
import { stringify } from 'yaml';
import type { KubeObject } from '../../api/types.js';
import { retryOnConflict, type Client } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { isAlreadyExists, isNotFound, isTooManyRequests } from '../../client/errors.js';
import type { Logger, SharedInformerFactory } from '../../client/informer.js';
import type { Controller } from '../framework/controller.js';
import { formatTime, type EventRecorder } from '../framework/events.js';
import { configMapsResource, podsResource } from '../framework/resources.js';
import { podDisruptionBudgetsResource } from '../disruption/controller.js';
import { nodesResource } from '../nodelifecycle/controller.js';
import { newPodInfo, type PodInfo } from '../../scheduler/node-info.js';
import type { NodeGroup, NodeGroupProvider } from './node-group.js';
import {
  addNode, blockingReason, largestFirst, clusterSnapshot, estimateNodes, findPlace, isDaemonSetPod, isMirrorPod, isTerminal, isUnschedulable,
  newNodeFromTemplate, pdbBlocks, placePod, podsToMove, scaleDownDisabledAnnotation, simulateRemoval, simulationFramework,
  toBeDeletedTaint, utilization,
} from './simulation.js';

export const statusConfigMapName = 'cluster-autoscaler-status';

export interface ClusterAutoscalerOptions {
  client: Client;
  informerFactory: SharedInformerFactory;
  clock: Clock;
  recorder: EventRecorder;
  provider: NodeGroupProvider;
  /** --scan-interval (10 s). */
  scanIntervalMs?: number;
  /** --scale-down-unneeded-time (10 min). */
  scaleDownUnneededTimeMs?: number;
  /** --scale-down-delay-after-add (10 min). */
  scaleDownDelayAfterAddMs?: number;
  /** --scale-down-utilization-threshold (0.5). */
  scaleDownUtilizationThreshold?: number;
  /** --max-pod-eviction-time (2 min): a drain still blocked after this is given up. */
  maxPodEvictionTimeMs?: number;
  /** --max-empty-bulk-delete (10). */
  maxEmptyBulkDelete?: number;
  logger?: Logger;
}

export interface ClusterAutoscaler extends Controller {
  /** One autoscaler loop (what every scan interval runs); tests call it directly. */
  runOnce(): Promise<void>;
  /** Nodes currently judged unneeded, with the time since when. */
  unneededNodes(): Map<string, number>;
}

interface Deletion {
  group: NodeGroup;
  startedAt: number;
  empty: boolean;
}

interface Probe {
  status: string;
  lastProbeTime: number;
  lastTransitionTime: number;
}

export function createClusterAutoscaler(options: ClusterAutoscalerOptions): ClusterAutoscaler {
  const { client, clock, recorder, provider } = options;
  const log = options.logger ?? (() => undefined);
  const scanIntervalMs = options.scanIntervalMs ?? 10_000;
  const unneededTimeMs = options.scaleDownUnneededTimeMs ?? 10 * 60_000;
  const delayAfterAddMs = options.scaleDownDelayAfterAddMs ?? 10 * 60_000;
  const threshold = options.scaleDownUtilizationThreshold ?? 0.5;
  const maxEvictionMs = options.maxPodEvictionTimeMs ?? 2 * 60_000;
  const maxEmptyBulk = options.maxEmptyBulkDelete ?? 10;
  const nodeInformer = options.informerFactory.forResource(nodesResource);
  const podInformer = options.informerFactory.forResource(podsResource);
  const pdbInformer = options.informerFactory.forResource(podDisruptionBudgetsResource);
  const informers = [nodeInformer, podInformer, pdbInformer];
  const framework = simulationFramework();
  const unneeded = new Map<string, number>();
  const deletions = new Map<string, Deletion>();
  let lastScaleUp = -Infinity;
  const probes = new Map<string, Probe>();

  const probe = (key: string, status: string): Probe => {
    const now = clock.now();
    const old = probes.get(key);
    const next = { status, lastProbeTime: now, lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now };
    probes.set(key, next);
    return next;
  };

  const registered = (group: NodeGroup, nodes: KubeObject[]) => {
    const members = new Set(group.memberNames());
    return nodes.filter((n) => members.has(n.metadata.name!));
  };
  const isReady = (node: KubeObject) => (node.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
  const hasDeletionTaint = (node: KubeObject) => (node.spec?.taints ?? []).some((t: any) => t.key === toBeDeletedTaint);

  async function runOnce(): Promise<void> {
    const nodes = nodeInformer.getIndexer().list() as KubeObject[];
    const pods = (podInformer.getIndexer().list() as KubeObject[]).filter((p) => !isTerminal(p));
    const pdbs = pdbInformer.getIndexer().list() as KubeObject[];
    await advanceDeletions(nodes, pods);
    const scaledUp = await scaleUp(nodes, pods, pdbs);
    if (scaledUp) lastScaleUp = clock.now();
    const candidates = scaledUp || clock.now() - lastScaleUp < delayAfterAddMs ? (unneeded.clear(), 0) : await scaleDown(nodes, pods, pdbs);
    await writeStatus(nodes, candidates);
  }

  /** Returns true when some group was asked to grow. */
  async function scaleUp(nodes: KubeObject[], pods: KubeObject[], pdbs: KubeObject[]): Promise<boolean> {
    const pending = pods.filter(isUnschedulable);
    if (pending.length === 0) return false;
    const groups = provider.nodeGroups();
    // Existing nodes plus the members asked for that have not registered yet: pods that fit
    // there are waiting for the scheduler or for a node already on its way (no double scale-up).
    const base = () => {
      const snapshot = clusterSnapshot(nodes.filter((n) => !hasDeletionTaint(n)), pods, pdbs);
      for (const group of groups) {
        const upcoming = group.targetSize() - registered(group, nodes).length;
        for (let i = 0; i < upcoming; i++) addNode(snapshot, newNodeFromTemplate(group.templateNode(), `upcoming-${group.name}-${i + 1}`));
      }
      return snapshot;
    };
    const snapshot = base();
    const remaining: PodInfo[] = [];
    // Largest first, as the estimate packs: placing small pods first could strand a big one.
    for (const info of largestFirst(pending.map(newPodInfo), groups[0]?.templateNode())) {
      const place = findPlace(snapshot, framework, info);
      if (place) placePod(snapshot, info, place);
      else remaining.push(info);
    }
    if (remaining.length === 0) return false;

    const reasons = new Map<string, Map<string, number>>(remaining.map((p) => [p.key, new Map()]));
    const note = (key: string, reason: string) => reasons.get(key)!.set(reason, (reasons.get(key)!.get(reason) ?? 0) + 1);
    let best: { group: NodeGroup; nodeCount: number; helped: PodInfo[] } | undefined;
    for (const group of groups) {
      const room = group.maxSize - group.targetSize();
      const trial = base();
      const estimate = estimateNodes(trial, framework, remaining, group.templateNode(), Math.max(0, room), `template-node-for-${group.name}`);
      for (const [key, why] of estimate.rejected) for (const r of why) note(key, r);
      for (const pod of estimate.overLimit) note(pod.key, 'max node group size reached');
      if (estimate.nodeCount === 0) continue;
      if (!best || estimate.helped.length > best.helped.length || (estimate.helped.length === best.helped.length && estimate.nodeCount < best.nodeCount)) {
        best = { group, nodeCount: estimate.nodeCount, helped: estimate.helped };
      }
    }
    const helped = new Set(best?.helped.map((p) => p.key) ?? []);
    if (best) {
      const from = best.group.targetSize();
      const to = from + best.nodeCount;
      try {
        await best.group.increaseSize(best.nodeCount);
      } catch (err) {
        log('warn', 'scale-up failed', { group: best.group.name, error: String((err as Error)?.message ?? err) });
        for (const pod of best.helped) recorder.event(pod.pod, 'Warning', 'FailedToScaleUpGroup', `Scale-up failed for group ${best.group.name}: ${(err as Error)?.message ?? err}`);
        return false;
      }
      log('info', 'scale-up', { group: best.group.name, from, to, pods: best.helped.length });
      const info = `[{${best.group.name} ${from}->${to} (max: ${best.group.maxSize})}]`;
      for (const pod of best.helped) recorder.event(pod.pod, 'Normal', 'TriggeredScaleUp', `pod triggered scale-up: ${info}`);
    }
    for (const pod of remaining) {
      if (helped.has(pod.key)) continue;
      const histogram = [...reasons.get(pod.key)!].map(([r, n]) => `${n} ${r}`).sort();
      const why = groups.length === 0 ? 'no node groups configured' : histogram.join(', ') || `${groups.length} node group(s) could not take it`;
      recorder.event(pod.pod, 'Normal', 'NotTriggerScaleUp', `pod didn't trigger scale-up: ${why}`);
    }
    return !!best;
  }

  /** Updates the unneeded set and starts deletions that are due; returns the candidate count. */
  async function scaleDown(nodes: KubeObject[], pods: KubeObject[], pdbs: KubeObject[]): Promise<number> {
    const now = clock.now();
    const live = nodes.filter((n) => !deletions.has(n.metadata.name!) && !hasDeletionTaint(n));
    const snapshot = clusterSnapshot(live, pods, pdbs);
    const podsByNode = new Map<string, KubeObject[]>();
    for (const p of pods) if (p.spec?.nodeName) podsByNode.set(p.spec.nodeName, [...(podsByNode.get(p.spec.nodeName) ?? []), p]);
    const ranked = live
      .filter((n) => provider.nodeGroupForNode(n) && n.metadata.annotations?.[scaleDownDisabledAnnotation] !== 'true')
      .map((n) => ({ node: n, utilization: snapshot.get(n.metadata.name!) ? utilization(snapshot.get(n.metadata.name!)!) : 0 }))
      .sort((a, b) => a.utilization - b.utilization || a.node.metadata.name!.localeCompare(b.node.metadata.name!));
    const stillUnneeded = new Set<string>();
    for (const { node, utilization: used } of ranked) {
      const name = node.metadata.name!;
      if (used >= threshold) continue;
      const onNode = podsByNode.get(name) ?? [];
      const moving = podsToMove(onNode);
      if (moving.some((p) => blockingReason(p, pdbs))) continue;
      if (pdbBlocks(moving, pdbs)) continue;
      if (!simulateRemoval(snapshot, framework, name, onNode)) continue;
      stillUnneeded.add(name);
      if (!unneeded.has(name)) unneeded.set(name, now);
    }
    for (const name of [...unneeded.keys()]) if (!stillUnneeded.has(name)) unneeded.delete(name);

    // Due nodes, respecting each group's minSize (counting deletions already under way).
    const deleting = new Map<NodeGroup, number>();
    for (const d of deletions.values()) deleting.set(d.group, (deleting.get(d.group) ?? 0) + 1);
    const drainInProgress = [...deletions.values()].some((d) => !d.empty);
    let emptyStarted = 0;
    let drainStarted = false;
    for (const { node } of ranked) {
      const name = node.metadata.name!;
      const since = unneeded.get(name);
      if (since === undefined || now - since < unneededTimeMs) continue;
      const group = provider.nodeGroupForNode(node)!;
      if (group.targetSize() - (deleting.get(group) ?? 0) <= group.minSize) continue;
      const empty = podsToMove(podsByNode.get(name) ?? []).length === 0;
      if (empty ? emptyStarted >= maxEmptyBulk : drainInProgress || drainStarted) continue;
      if (!(await taintForDeletion(node))) continue;
      if (empty) emptyStarted++;
      else drainStarted = true;
      deleting.set(group, (deleting.get(group) ?? 0) + 1);
      deletions.set(name, { group, startedAt: now, empty });
      unneeded.delete(name);
      if (empty) recorder.event(node, 'Normal', 'ScaleDownEmpty', `Scale-down: removing empty node "${name}"`);
    }
    if (deletions.size) await advanceDeletions(nodeInformer.getIndexer().list() as KubeObject[], pods);
    return stillUnneeded.size;
  }

  async function taintForDeletion(node: KubeObject): Promise<boolean> {
    const nodes = client.resource(nodesResource);
    try {
      await retryOnConflict(async () => {
        const current = await nodes.get(undefined, node.metadata.name!);
        const taints = (current.spec?.taints ?? []).filter((t: any) => t.key !== toBeDeletedTaint);
        taints.push({ key: toBeDeletedTaint, value: String(Math.floor(clock.now() / 1000)), effect: 'NoSchedule' });
        await nodes.update({ ...current, spec: { ...current.spec, taints } });
      });
    } catch (err) {
      log('warn', 'could not taint node for deletion', { node: node.metadata.name, error: String((err as Error)?.message ?? err) });
      return false;
    }
    recorder.event(node, 'Normal', 'ScaleDown', 'marked the node as toBeDeleted/unschedulable');
    return true;
  }

  async function untaint(name: string): Promise<void> {
    const nodes = client.resource(nodesResource);
    await retryOnConflict(async () => {
      const current = await nodes.get(undefined, name);
      const taints = (current.spec?.taints ?? []).filter((t: any) => t.key !== toBeDeletedTaint);
      await nodes.update({ ...current, spec: { ...current.spec, taints } });
    }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }

  /** Drives each deletion on: evict what is left, then remove the node once its pods are gone. */
  async function advanceDeletions(nodes: KubeObject[], cachedPods: KubeObject[]): Promise<void> {
    const now = clock.now();
    for (const [name, deletion] of [...deletions]) {
      const node = nodes.find((n) => n.metadata.name === name);
      if (!node) {
        deletions.delete(name);
        continue;
      }
      // Fresh from the API: evicting twice is harmless, missing a just-created pod is not.
      const onNode = (await client.resource(podsResource).list(undefined, { fieldSelector: `spec.nodeName=${name}` }).catch(() => ({ items: cachedPods.filter((p) => p.spec?.nodeName === name) }))).items;
      const left = podsToMove(onNode);
      let blocked = false;
      for (const pod of left) {
        if (pod.metadata.deletionTimestamp) continue;
        try {
          await client.resource(podsResource).evict(pod.metadata.namespace, pod.metadata.name!);
          recorder.event(pod, 'Normal', 'ScaleDown', 'deleting pod for node scale down');
        } catch (err) {
          if (isNotFound(err)) continue;
          blocked = true;
          if (!isTooManyRequests(err)) log('warn', 'eviction failed', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, error: String((err as Error)?.message ?? err) });
        }
      }
      // Pods being deleted get their grace period plus headroom, as the autoscaler waits for them.
      const waiting = left.filter((p) => !p.metadata.deletionTimestamp || Date.parse(p.metadata.deletionTimestamp) + 30_000 > now);
      if (!blocked && waiting.every((p) => p.metadata.deletionTimestamp)) {
        if (waiting.length === 0) {
          try {
            await deletion.group.deleteNodes([node]);
            deletions.delete(name);
            log('info', 'scale-down', { node: name, group: deletion.group.name });
          } catch (err) {
            log('warn', 'node deletion failed', { node: name, error: String((err as Error)?.message ?? err) });
            deletions.delete(name);
            await untaint(name).catch(() => undefined);
            recorder.event(node, 'Warning', 'ScaleDownFailed', `failed to delete node: ${(err as Error)?.message ?? err}`);
          }
          continue;
        }
      }
      if (now - deletion.startedAt >= maxEvictionMs && left.some((p) => !p.metadata.deletionTimestamp)) {
        deletions.delete(name);
        await untaint(name).catch(() => undefined);
        recorder.event(node, 'Warning', 'ScaleDownFailed', 'failed to drain the node, aborting ScaleDown');
      }
    }
  }

  async function writeStatus(nodes: KubeObject[], candidates: number): Promise<void> {
    const now = clock.now();
    const time = (ms: number) => new Date(ms).toISOString();
    const counts = (list: KubeObject[]) => {
      const ready = list.filter(isReady).length;
      return { registered: { total: list.length, ready, notStarted: 0, unready: { total: list.length - ready, resourceUnready: 0 } }, longUnregistered: 0, unregistered: 0 };
    };
    const groups = provider.nodeGroups().map((group) => {
      const members = registered(group, nodes);
      const health = probe(`health/${group.name}`, 'Healthy');
      const up = probe(`scaleUp/${group.name}`, members.length < group.targetSize() ? 'InProgress' : 'NoActivity');
      const groupCandidates = [...unneeded.keys()].filter((n) => group.memberNames().includes(n)).length;
      const down = probe(`scaleDown/${group.name}`, groupCandidates ? 'CandidatesPresent' : 'NoCandidates');
      return {
        name: group.name,
        health: { status: health.status, nodeCounts: counts(members), cloudProviderTarget: group.targetSize(), minSize: group.minSize, maxSize: group.maxSize, lastProbeTime: time(health.lastProbeTime), lastTransitionTime: time(health.lastTransitionTime) },
        scaleUp: { status: up.status, lastProbeTime: time(up.lastProbeTime), lastTransitionTime: time(up.lastTransitionTime) },
        scaleDown: { status: down.status, candidates: groupCandidates, lastProbeTime: time(down.lastProbeTime), lastTransitionTime: time(down.lastTransitionTime) },
      };
    });
    const health = probe('health', 'Healthy');
    const up = probe('scaleUp', groups.some((g) => g.scaleUp.status === 'InProgress') ? 'InProgress' : 'NoActivity');
    const down = probe('scaleDown', candidates ? 'CandidatesPresent' : 'NoCandidates');
    const status = {
      time: time(now),
      autoscalerStatus: 'Running',
      clusterWide: {
        health: { status: health.status, nodeCounts: counts(nodes), lastProbeTime: time(health.lastProbeTime), lastTransitionTime: time(health.lastTransitionTime) },
        scaleUp: { status: up.status, lastProbeTime: time(up.lastProbeTime), lastTransitionTime: time(up.lastTransitionTime) },
        scaleDown: { status: down.status, candidates, lastProbeTime: time(down.lastProbeTime), lastTransitionTime: time(down.lastTransitionTime) },
      },
      nodeGroups: groups,
    };
    const configMaps = client.resource(configMapsResource);
    const desired = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: statusConfigMapName, namespace: 'kube-system', annotations: { 'cluster-autoscaler.kubernetes.io/last-updated': formatTime(now).replace('T', ' ').replace('Z', ' +0000 UTC') } },
      data: { status: stringify(status) },
    } as KubeObject;
    try {
      await retryOnConflict(async () => {
        let current: KubeObject;
        try {
          current = await configMaps.get('kube-system', statusConfigMapName);
        } catch (err) {
          if (!isNotFound(err)) throw err;
          await configMaps.create('kube-system', desired).catch((e) => {
            if (!isAlreadyExists(e)) throw e;
          });
          return;
        }
        await configMaps.update({ ...current, metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, ...desired.metadata.annotations } }, data: desired.data });
      });
    } catch (err) {
      log('warn', 'could not write the status ConfigMap', { error: String((err as Error)?.message ?? err) });
    }
  }

  let running: Promise<void> = Promise.resolve();
  const runExclusive = () => (running = running.then(runOnce, runOnce));

  return {
    name: 'cluster-autoscaler',
    hasSynced: () => informers.every((i) => i.hasSynced()),
    reconcile: async () => {
      await runExclusive();
    },
    runOnce: () => runExclusive(),
    unneededNodes: () => new Map(unneeded),
    async start(signal) {
      const synced = await Promise.all(informers.map((i) => i.waitForSync(signal)));
      if (!synced.every(Boolean)) return;
      await new Promise<void>((resolve) => {
        let timer: ReturnType<Clock['setTimeout']> | undefined;
        const tick = () => {
          if (signal.aborted) return;
          runExclusive()
            .catch((err) => log('warn', 'autoscaler loop failed', { error: String((err as Error)?.message ?? err) }))
            .finally(() => {
              if (!signal.aborted) timer = clock.setTimeout(tick, scanIntervalMs);
            });
        };
        signal.addEventListener('abort', () => {
          if (timer) clock.clearTimeout(timer);
          running.finally(resolve);
        }, { once: true });
        tick();
      });
    },
  };
}

export { isDaemonSetPod, isMirrorPod };
