// kube-scheduler: watches pods, nodes and storage through informers, keeps the cache and the
// scheduling queue current, and runs one scheduling cycle at a time (pure, over the cache's
// snapshot) followed by an asynchronous binding cycle per pod (Permit wait, PreBind, Bind),
// so the next pod is placed while earlier bindings are still on the wire.
import { setMaxListeners } from 'node:events';
import type { KubeObject } from '../api/types.js';
import { createClient, type ResourceRef } from '../client/client.js';
import type { Clock } from '../client/clock.js';
import { systemClock } from '../client/clock.js';
import { objectFromDeleted, SharedInformerFactory, stderrLogger, type Logger } from '../client/informer.js';
import type { Transport } from '../client/transport.js';
import { apiEventRecorder, type EventRecorder } from './events.js';
import { fitErrorMessage, schedulePod, type CycleState, type Framework, type Status } from './framework.js';
import { newPodInfo, podKey, type Pod, type PodInfo } from './node-info.js';
import { defaultFramework } from './plugins/index.js';
import type { NodeResourcesFitArgs } from './plugins/node-resources-fit.js';
import { SchedulerCache } from './cache.js';
import { SchedulingQueue, type ClusterEvent, type QueuedPodInfo } from './queue.js';

export const refs = {
  pods: { group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' },
  nodes: { group: '', version: 'v1', resource: 'nodes', namespaced: false, kind: 'Node' },
  namespaces: { group: '', version: 'v1', resource: 'namespaces', namespaced: false, kind: 'Namespace' },
  pvcs: { group: '', version: 'v1', resource: 'persistentvolumeclaims', namespaced: true, kind: 'PersistentVolumeClaim' },
  pvs: { group: '', version: 'v1', resource: 'persistentvolumes', namespaced: false, kind: 'PersistentVolume' },
  storageClasses: { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses', namespaced: false, kind: 'StorageClass' },
  priorityClasses: { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses', namespaced: false, kind: 'PriorityClass' },
  pdbs: { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', namespaced: true, kind: 'PodDisruptionBudget' },
} satisfies Record<string, ResourceRef>;

export interface SchedulerOptions {
  transport: Transport;
  clock?: Clock;
  schedulerName?: string;
  recorder?: EventRecorder;
  /** 0 (default) = Kubernetes' adaptive percentage. */
  percentageOfNodesToScore?: number;
  /** Replaces the default profile (plugins get the client through their own handles). */
  framework?: Framework;
  nodeResourcesFit?: NodeResourcesFitArgs;
  podInitialBackoffMs?: number;
  podMaxBackoffMs?: number;
  random?: () => number;
  logger?: Logger;
  /** Share informers with other components in the same process. */
  informerFactory?: SharedInformerFactory;
}

export interface Scheduler {
  start(signal: AbortSignal): Promise<void>;
  hasSynced(): boolean;
  /** Permit plugins that answered Wait: let the pod through, or reject it. */
  allowWaitingPod(key: string): boolean;
  rejectWaitingPod(key: string, message: string): boolean;
  readonly queue: SchedulingQueue;
  readonly cache: SchedulerCache;
  readonly framework: Framework;
  /** Pods bound so far (for the benchmark and readiness checks). */
  boundCount(): number;
}

const isTerminal = (pod: Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** Fields whose change may make a pending pod schedulable (status-only writes, our own included, do not). */
function schedulingRelevant(pod: Pod): string {
  return JSON.stringify([pod.spec, pod.metadata.labels, pod.metadata.annotations]);
}

function nodeSchedulingProperties(node: KubeObject): string {
  return JSON.stringify([node.spec?.unschedulable, node.spec?.taints, node.metadata.labels, node.status?.allocatable, node.status?.images?.length]);
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

interface WaitingPod {
  resolve: (s: Status | undefined) => void;
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const clock = options.clock ?? systemClock();
  const schedulerName = options.schedulerName ?? 'default-scheduler';
  const logger = options.logger ?? stderrLogger;
  const client = createClient(options.transport);
  const recorder = options.recorder ?? apiEventRecorder(client, schedulerName, clock);
  const random = options.random ?? Math.random;
  const factory = options.informerFactory ?? new SharedInformerFactory(client, { clock, logger });
  const cache = new SchedulerCache();
  const queue = new SchedulingQueue({ clock, podInitialBackoffMs: options.podInitialBackoffMs, podMaxBackoffMs: options.podMaxBackoffMs });
  const pods = client.resource(refs.pods);

  const podInformer = factory.forResource<Pod>(refs.pods);
  const nodeInformer = factory.forResource(refs.nodes);
  const namespaceInformer = factory.forResource(refs.namespaces);
  const pvcInformer = factory.forResource(refs.pvcs);
  const pvInformer = factory.forResource(refs.pvs);
  const scInformer = factory.forResource(refs.storageClasses);
  const priorityClassInformer = factory.forResource(refs.priorityClasses);
  const pdbInformer = factory.forResource(refs.pdbs);
  const informers = [podInformer, nodeInformer, namespaceInformer, pvcInformer, pvInformer, scInformer, priorityClassInformer, pdbInformer];

  const framework =
    options.framework ??
    defaultFramework({
      client,
      recorder,
      schedulerName,
      pdbs: () => pdbInformer.getIndexer().list(),
      now: () => new Date(clock.now()),
      nodeResourcesFit: options.nodeResourcesFit,
    });
  const snapshot = cache.snapshot;
  snapshot.namespaceLabels = (ns) => namespaceInformer.getIndexer().getByName(undefined, ns)?.metadata.labels;
  const cursor = { nextStartNodeIndex: 0 };
  const waiting = new Map<string, WaitingPod>();
  let bound = 0;

  const responsible = (pod: Pod) => (pod.spec?.schedulerName ?? 'default-scheduler') === schedulerName;
  const move = (event: ClusterEvent) => queue.moveAllToActiveOrBackoff(event);

  /** Priority for pods created before their PriorityClass existed, or by a server without the Priority admission plugin. */
  function withPriority(pod: Pod): Pod {
    if (typeof pod.spec?.priority === 'number' || !pod.spec?.priorityClassName) return pod;
    const pc = priorityClassInformer.getIndexer().getByName(undefined, pod.spec.priorityClassName);
    return pc ? { ...pod, spec: { ...pod.spec, priority: pc.value ?? 0 } } : pod;
  }

  /** Pods held back by spec.schedulingGates say so, as Kubernetes' SchedulingGates plugin does. */
  function reportGated(pod: Pod): void {
    if (!pod.spec?.schedulingGates?.length) return;
    void updatePodStatus(pod, 'SchedulingGated', 'Scheduling is blocked due to non-empty scheduling gates');
  }

  /** Nominations come from status.nominatedNodeName, ours or another scheduler's. */
  function trackNomination(pod: Pod): void {
    const node = !pod.spec?.nodeName && !pod.metadata.deletionTimestamp ? pod.status?.nominatedNodeName || undefined : undefined;
    snapshot.setNominated(newPodInfo(withPriority(pod)), node);
  }

  podInformer.addEventHandler({
    onAdd(pod) {
      if (pod.status?.nominatedNodeName) trackNomination(pod);
      if (pod.spec?.nodeName) {
        if (isTerminal(pod)) return;
        cache.addPod(pod);
        move('AssignedPodAdd');
      } else if (responsible(pod) && !isTerminal(pod) && !pod.metadata.deletionTimestamp) {
        queue.add(withPriority(pod));
        reportGated(pod);
      }
    },
    onUpdate(old, pod) {
      if (pod.status?.nominatedNodeName || old.status?.nominatedNodeName) trackNomination(pod);
      if (pod.spec?.nodeName) {
        if (!old.spec?.nodeName) queue.delete(pod);
        if (isTerminal(pod)) {
          cache.removePod(pod);
          move('AssignedPodDelete');
          return;
        }
        const confirming = cache.isAssumed(podKey(pod));
        cache.updatePod(pod);
        if (!confirming) move(old.spec?.nodeName ? 'AssignedPodUpdate' : 'AssignedPodAdd');
      } else if (responsible(pod)) {
        if (isTerminal(pod) || pod.metadata.deletionTimestamp) queue.delete(pod);
        else if (schedulingRelevant(old) !== schedulingRelevant(pod) || !queue.has(podKey(pod))) {
          queue.update(withPriority(pod));
          reportGated(pod);
        }
      }
    },
    onDelete(obj) {
      const pod = objectFromDeleted(obj);
      if (pod.status?.nominatedNodeName) snapshot.setNominated(newPodInfo(pod), undefined);
      if (pod.spec?.nodeName || cache.isAssumed(podKey(pod))) {
        cache.removePod(pod);
        move('AssignedPodDelete');
      } else {
        queue.delete(pod);
        waiting.get(podKey(pod))?.resolve({ code: 'Unschedulable', reasons: ['pod was deleted'] });
      }
    },
  });
  nodeInformer.addEventHandler({
    onAdd(node) {
      cache.addNode(node);
      move('NodeAdd');
    },
    onUpdate(old, node) {
      cache.updateNode(node);
      if (nodeSchedulingProperties(old) !== nodeSchedulingProperties(node)) move('NodeUpdate');
    },
    onDelete(obj) {
      cache.removeNode(objectFromDeleted(obj));
    },
  });
  const storageHandler = (map: Map<string, KubeObject>, key: (o: KubeObject) => string, event: ClusterEvent) => ({
    onAdd(o: KubeObject) {
      map.set(key(o), o);
      move(event);
    },
    onUpdate(_old: KubeObject, o: KubeObject) {
      map.set(key(o), o);
      move(event);
    },
    onDelete(obj: any) {
      map.delete(key(objectFromDeleted(obj)));
    },
  });
  pvcInformer.addEventHandler(storageHandler(snapshot.storage.pvcs, (o) => `${o.metadata.namespace}/${o.metadata.name}`, 'PvcChange'));
  pvInformer.addEventHandler(storageHandler(snapshot.storage.pvs, (o) => o.metadata.name!, 'PvChange'));
  scInformer.addEventHandler(storageHandler(snapshot.storage.storageClasses, (o) => o.metadata.name!, 'StorageClassChange'));

  /** PodScheduled=False with the reason, and the nominated node; written only when they change. */
  async function updatePodStatus(pod: Pod, reason: string, message: string, nominatedNodeName?: string): Promise<void> {
    const current = (pod.status?.conditions ?? []).find((c: any) => c.type === 'PodScheduled');
    const conditionChanged = !current || current.status !== 'False' || current.reason !== reason || current.message !== message;
    const nominationChanged = nominatedNodeName !== undefined && (pod.status?.nominatedNodeName ?? '') !== nominatedNodeName;
    if (!conditionChanged && !nominationChanged) return;
    const status: Record<string, unknown> = {};
    if (conditionChanged) {
      const transition = current && current.status === 'False' ? current.lastTransitionTime : rfc3339(clock.now());
      status.conditions = [{ type: 'PodScheduled', status: 'False', reason, message, lastProbeTime: null, lastTransitionTime: transition }];
    }
    if (nominationChanged) status.nominatedNodeName = nominatedNodeName || null;
    try {
      await pods.patchStatus(pod.metadata.namespace, pod.metadata.name!, 'strategic', { status });
    } catch (err) {
      logger('warn', 'updating pod scheduling status failed', { component: 'scheduler', pod: podKey(pod), error: String(err) });
    }
  }

  function handleFailure(q: QueuedPodInfo, cycle: number, reason: 'Unschedulable' | 'SchedulerError', message: string, nominatedNodeName?: string): void {
    const pod = q.podInfo.pod;
    // A pod deleted or bound meanwhile needs no retry and no event.
    const latest = podInformer.getIndexer().get(q.key);
    if (!latest || latest.spec?.nodeName || latest.metadata.uid !== pod.metadata.uid) {
      queue.done(q.key);
      return;
    }
    queue.requeue(q, cycle, reason === 'Unschedulable');
    recorder.event(latest, 'Warning', 'FailedScheduling', message);
    void updatePodStatus(latest, reason, message, nominatedNodeName);
  }

  async function runPostFilter(state: CycleState, pod: PodInfo, statuses: Map<string, Status>): Promise<{ message?: string; nominatedNodeName?: string }> {
    let message: string | undefined;
    for (const p of framework.postFilterPlugins) {
      const result = await p.postFilter!(state, pod, statuses);
      if (result.status.code === 'Success') return { nominatedNodeName: result.nominatedNodeName };
      if (result.status.code === 'Error') {
        logger('warn', 'postFilter failed', { component: 'scheduler', plugin: p.name, pod: pod.key, error: result.status.reasons.join('; ') });
      }
      message = result.status.reasons.join(', ');
    }
    return { message };
  }

  async function scheduleOne(q: QueuedPodInfo): Promise<void> {
    const latest = podInformer.getIndexer().get(q.key);
    if (!latest || latest.spec?.nodeName || latest.metadata.deletionTimestamp || !responsible(latest)) {
      queue.done(q.key);
      return;
    }
    if (latest !== q.podInfo.pod) q.podInfo = newPodInfo(withPriority(latest));
    const cycle = queue.schedulingCycle;
    const result = schedulePod(snapshot, q.podInfo, framework, { percentageOfNodesToScore: options.percentageOfNodesToScore, cursor, random });
    if ('error' in result) {
      handleFailure(q, cycle, 'SchedulerError', result.error.reasons.join(', '));
      return;
    }
    if ('failure' in result) {
      const f = result.failure;
      q.unschedulablePlugins = f.unschedulablePlugins;
      const post = await runPostFilter(result.state, q.podInfo, f.statuses);
      // Hold the freed room at once; the status write that records it comes back later.
      if (post.nominatedNodeName) snapshot.setNominated(q.podInfo, post.nominatedNodeName);
      handleFailure(q, cycle, 'Unschedulable', fitErrorMessage(f.numAllNodes, f.statuses, f.preFilterStatus, post.message), post.nominatedNodeName);
      return;
    }
    const nodeName = result.node;
    const state = result.state;
    const assumed: PodInfo = { ...q.podInfo, pod: { ...q.podInfo.pod, spec: { ...q.podInfo.pod.spec, nodeName } } };
    cache.assumePod(assumed, nodeName);
    // Placed: its nomination, if any, has served its purpose.
    snapshot.setNominated(q.podInfo, undefined);
    const reserveStatus = framework.runReserve(state, q.podInfo, nodeName);
    if (reserveStatus) {
      framework.runUnreserve(state, q.podInfo, nodeName);
      cache.forgetPod(q.key);
      handleFailure(q, cycle, reserveStatus.code === 'Error' ? 'SchedulerError' : 'Unschedulable', reserveStatus.reasons.join(', '));
      return;
    }
    let permitWait: Promise<Status | undefined> | undefined;
    for (const p of framework.permitPlugins) {
      const r = p.permit!(state, q.podInfo, nodeName);
      if (!r?.status || r.status.code === 'Success') continue;
      if (r.status.code === 'Wait') {
        permitWait ??= new Promise<Status | undefined>((resolve) => {
          const timer = clock.setTimeout(() => resolve({ code: 'Unschedulable', reasons: [`rejected due to timeout after waiting ${r.timeoutMs ?? 0}ms at plugin ${p.name}`] }), r.timeoutMs ?? 0);
          waiting.set(q.key, {
            resolve: (s) => {
              clock.clearTimeout(timer);
              waiting.delete(q.key);
              resolve(s);
            },
          });
        });
        continue;
      }
      framework.runUnreserve(state, q.podInfo, nodeName);
      cache.forgetPod(q.key);
      handleFailure(q, cycle, 'Unschedulable', r.status.reasons.join(', '));
      return;
    }
    void bindingCycle(q, state, nodeName, cycle, permitWait);
  }

  async function bindingCycle(q: QueuedPodInfo, state: CycleState, nodeName: string, cycle: number, permitWait?: Promise<Status | undefined>): Promise<void> {
    const fail = (s: Status) => {
      framework.runUnreserve(state, q.podInfo, nodeName);
      cache.forgetPod(q.key);
      // The space it held is free again: pods waiting for room may fit now.
      move('AssignedPodDelete');
      handleFailure(q, cycle, s.code === 'Unschedulable' ? 'Unschedulable' : 'SchedulerError', s.reasons.join(', '));
    };
    try {
      if (permitWait) {
        const s = await permitWait;
        if (s && s.code !== 'Success') return fail(s);
      }
      for (const p of framework.preBindPlugins) {
        const s = await p.preBind!(state, q.podInfo, nodeName);
        if (s && s.code !== 'Success' && s.code !== 'Skip') return fail(s);
      }
      let boundBy: string | undefined;
      for (const p of framework.bindPlugins) {
        const s = await p.bind!(state, q.podInfo, nodeName);
        if (s?.code === 'Skip') continue;
        if (s && s.code !== 'Success') return fail(s);
        boundBy = p.name;
        break;
      }
      if (!boundBy) return fail({ code: 'Error', reasons: ['no bind plugin bound the pod'] });
    } catch (err) {
      return fail({ code: 'Error', reasons: [(err as Error).message] });
    }
    bound++;
    queue.done(q.key);
    const pod = q.podInfo.pod;
    recorder.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${nodeName}`);
  }

  let synced = false;
  return {
    queue,
    cache,
    framework,
    hasSynced: () => synced,
    boundCount: () => bound,
    allowWaitingPod(key) {
      const w = waiting.get(key);
      w?.resolve(undefined);
      return !!w;
    },
    rejectWaitingPod(key, message) {
      const w = waiting.get(key);
      w?.resolve({ code: 'Unschedulable', reasons: [message] });
      return !!w;
    },
    async start(outer) {
      // Eight informers, the queue and the loop all listen for the stop: one inner signal, sized for them.
      const inner = new AbortController();
      setMaxListeners(32, inner.signal);
      if (outer.aborted) inner.abort();
      else outer.addEventListener('abort', () => inner.abort(), { once: true });
      const signal = inner.signal;
      factory.start(signal);
      if (!(await Promise.all(informers.map((i) => i.waitForSync(signal)))).every(Boolean)) return;
      synced = true;
      queue.run();
      const onAbort = () => queue.close();
      signal.addEventListener('abort', onAbort, { once: true });
      let sinceYield = 0;
      try {
        while (!signal.aborted) {
          const q = await queue.pop();
          if (!q) break;
          try {
            await scheduleOne(q);
          } catch (err) {
            logger('error', 'scheduling cycle failed', { component: 'scheduler', pod: q.key, error: String((err as Error)?.stack ?? err) });
            queue.requeue(q, queue.schedulingCycle, false);
          }
          // Cycles are synchronous: let watch events and bindings in between now and then.
          if (++sinceYield >= 16) {
            sinceYield = 0;
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
        }
      } finally {
        signal.removeEventListener('abort', onAbort);
        queue.close();
        for (const w of [...waiting.values()]) w.resolve({ code: 'Unschedulable', reasons: ['scheduler stopped'] });
      }
    },
  };
}
