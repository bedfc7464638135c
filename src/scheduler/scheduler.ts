// The scheduler component: watches pods and nodes, keeps a queue of pods waiting for a node
// (highest priority first, then oldest), runs one scheduling cycle per pod on a snapshot,
// and binds through pods/binding. Pods that fit nowhere get a FailedScheduling event and the
// PodScheduled=False condition, and are retried when the cluster changes.
import type { KubeObject } from '../api/types.js';
import type { Client } from '../client/client.js';
import { createEventRecorder } from '../client/events.js';
import { SharedInformerFactory } from '../client/informer.js';
import { log } from '../util/log.js';
import { addPod, newNodeInfo, schedulePod, type Framework, type NodeInfo } from './framework.js';
import { defaultFramework } from './plugins/index.js';

const podsRef = { group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' };
const nodesRef = { group: '', version: 'v1', resource: 'nodes', namespaced: false, kind: 'Node' };

export interface SchedulerOptions {
  client: Client;
  schedulerName?: string;
  framework?: Framework;
  /** Retry pods that fit nowhere at least this often, even without cluster events. */
  unschedulableRetryMs?: number;
}

function key(pod: KubeObject): string {
  return `${pod.metadata.namespace}/${pod.metadata.name}`;
}

function isTerminal(pod: KubeObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function createScheduler(options: SchedulerOptions) {
  const schedulerName = options.schedulerName ?? 'default-scheduler';
  const framework = options.framework ?? defaultFramework();
  const client = options.client;
  const pods = client.resource(podsRef);
  const factory = new SharedInformerFactory(client);
  const podInformer = factory.forResource(podsRef);
  const nodeInformer = factory.forResource(nodesRef);
  const recorder = createEventRecorder({ client, component: schedulerName });
  /** Pods bound by us that the informer has not shown bound yet: counted on their node meanwhile. */
  const assumed = new Map<string, KubeObject>();
  const active = new Map<string, KubeObject>();
  const unschedulable = new Map<string, KubeObject>();
  let wake: (() => void) | undefined;
  const signalWork = () => {
    wake?.();
    wake = undefined;
  };

  const wantsScheduling = (pod: KubeObject) => !pod.spec?.nodeName && (pod.spec?.schedulerName ?? 'default-scheduler') === schedulerName && !pod.metadata.deletionTimestamp && !isTerminal(pod);
  const enqueue = (pod: KubeObject) => {
    if (!wantsScheduling(pod)) {
      active.delete(key(pod));
      unschedulable.delete(key(pod));
      return;
    }
    if (unschedulable.has(key(pod))) unschedulable.set(key(pod), pod);
    else active.set(key(pod), pod);
    signalWork();
  };
  // Something that could make room happened: give every waiting pod another try.
  const retryUnschedulable = () => {
    for (const [k, p] of unschedulable) active.set(k, p);
    unschedulable.clear();
    signalWork();
  };

  podInformer.addEventHandler({
    onAdd: (p) => enqueue(p),
    onUpdate: (_, p) => {
      if (p.spec?.nodeName) assumed.delete(key(p));
      enqueue(p);
    },
    onDelete: (p) => {
      const pod = (p as { obj?: KubeObject }).obj ?? (p as KubeObject);
      active.delete(key(pod));
      unschedulable.delete(key(pod));
      assumed.delete(key(pod));
      if (pod.spec?.nodeName) retryUnschedulable();
    },
  });
  nodeInformer.addEventHandler({ onAdd: retryUnschedulable, onUpdate: retryUnschedulable });

  function snapshot(): NodeInfo[] {
    const byNode = new Map<string, NodeInfo>();
    for (const node of nodeInformer.getIndexer().list()) byNode.set(node.metadata.name!, newNodeInfo(node));
    const counted = new Set<string>();
    for (const pod of podInformer.getIndexer().list()) {
      if (!pod.spec?.nodeName || isTerminal(pod)) continue;
      const info = byNode.get(pod.spec.nodeName);
      if (info) addPod(info, pod);
      counted.add(key(pod));
    }
    for (const [k, pod] of assumed) if (!counted.has(k)) { const info = byNode.get(pod.spec.nodeName); if (info) addPod(info, pod); }
    return [...byNode.values()];
  }

  function next(): KubeObject | undefined {
    let best: KubeObject | undefined;
    for (const p of active.values()) {
      if (!best) best = p;
      else {
        const pa = p.spec?.priority ?? 0;
        const pb = best.spec?.priority ?? 0;
        if (pa > pb || (pa === pb && (p.metadata.creationTimestamp ?? '') < (best.metadata.creationTimestamp ?? ''))) best = p;
      }
    }
    if (best) active.delete(key(best));
    return best;
  }

  async function scheduleOne(pod: KubeObject): Promise<void> {
    const nodes = snapshot();
    const result = schedulePod({ nodes }, pod, framework);
    if ('node' in result) {
      try {
        await pods.bind(pod.metadata.namespace, pod.metadata.name!, result.node);
        assumed.set(key(pod), { ...pod, spec: { ...pod.spec, nodeName: result.node } });
        recorder.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${result.node}`);
      } catch (e) {
        const message = (e as Error).message;
        // Already bound or gone: the informer will tell; otherwise try again shortly.
        if (!/already assigned|not found|being deleted/.test(message)) {
          log.warn('scheduler', 'binding failed', { pod: key(pod), node: result.node, error: message });
          setTimeout(() => enqueue(pod), 1000).unref();
        }
      }
      return;
    }
    unschedulable.set(key(pod), pod);
    const message = result.failure.message;
    const current: KubeObject[] = pod.status?.conditions ?? [];
    const existing = current.find((c) => c.type === 'PodScheduled');
    if (!existing || existing.status !== 'False' || existing.message !== message) {
      recorder.event(pod, 'Warning', 'FailedScheduling', message);
      const conditions = current.filter((c) => c.type !== 'PodScheduled');
      conditions.push({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') } as unknown as KubeObject);
      await pods.patchStatus(pod.metadata.namespace, pod.metadata.name!, 'merge', { status: { conditions } }).catch(() => undefined);
    }
  }

  return {
    name: 'scheduler',
    hasSynced: () => podInformer.hasSynced() && nodeInformer.hasSynced(),
    async start(signal: AbortSignal): Promise<void> {
      factory.start(signal);
      await factory.waitForCacheSync(signal);
      const retry = setInterval(retryUnschedulable, options.unschedulableRetryMs ?? 30_000);
      retry.unref();
      signal.addEventListener('abort', () => {
        clearInterval(retry);
        signalWork();
      });
      while (!signal.aborted) {
        const pod = next();
        if (!pod) {
          await new Promise<void>((r) => (wake = r));
          continue;
        }
        // Re-read from the cache: the pod may have been bound or deleted meanwhile.
        const current = podInformer.getIndexer().get(key(pod)) as KubeObject | undefined;
        if (!current || !wantsScheduling(current)) continue;
        try {
          await scheduleOne(current);
        } catch (e) {
          log.warn('scheduler', 'scheduling cycle failed', { pod: key(pod), error: (e as Error).message });
          unschedulable.set(key(pod), current);
        }
      }
    },
  };
}
