// The default profile: kube-scheduler's plugins, in its Filter order and with its Score weights.
import type { KubeObject } from '../../api/types.js';
import type { Client } from '../../client/client.js';
import type { EventRecorder } from '../events.js';
import { Framework, type PluginConfig } from '../framework.js';
import { balancedAllocation } from './balanced-allocation.js';
import { defaultBinder } from './default-binder.js';
import { defaultPreemption } from './default-preemption.js';
import { imageLocality } from './image-locality.js';
import { interPodAffinity } from './inter-pod-affinity.js';
import { nodeAffinity } from './node-affinity.js';
import { nodeName } from './node-name.js';
import { nodePorts } from './node-ports.js';
import { nodeResourcesFit, type NodeResourcesFitArgs } from './node-resources-fit.js';
import { nodeUnschedulable } from './node-unschedulable.js';
import { podTopologySpread } from './pod-topology-spread.js';
import { taintToleration } from './taint-toleration.js';
import { volumeBinding } from './volume-binding.js';

export interface DefaultPluginsHandle {
  client?: Client;
  recorder?: EventRecorder;
  schedulerName?: string;
  pdbs?: () => KubeObject[];
  now?: () => Date;
  nodeResourcesFit?: NodeResourcesFitArgs;
}

/** Filter/score plugins only: what the pure schedulePod needs (no API client). */
export function defaultPluginConfigs(handle: DefaultPluginsHandle = {}): PluginConfig[] {
  return [
    { plugin: nodeUnschedulable() },
    { plugin: nodeName() },
    { plugin: taintToleration(), weight: 3 },
    { plugin: nodeAffinity(), weight: 2 },
    { plugin: nodePorts() },
    { plugin: nodeResourcesFit(handle.nodeResourcesFit), weight: 1 },
    { plugin: volumeBinding({ client: handle.client }) },
    { plugin: podTopologySpread(), weight: 2 },
    { plugin: interPodAffinity(), weight: 2 },
    { plugin: balancedAllocation(), weight: 1 },
    { plugin: imageLocality(), weight: 1 },
  ];
}

/** The full profile, with preemption and binding through the API. */
export function defaultFramework(handle: DefaultPluginsHandle & { client: Client }): Framework {
  let framework: Framework | undefined;
  const configs = defaultPluginConfigs(handle);
  configs.push({
    plugin: defaultPreemption({
      framework: () => framework!,
      pdbs: handle.pdbs ?? (() => []),
      client: handle.client,
      recorder: handle.recorder,
      schedulerName: handle.schedulerName ?? 'default-scheduler',
      now: handle.now ?? (() => new Date()),
    }),
  });
  configs.push({ plugin: defaultBinder({ client: handle.client }) });
  framework = new Framework(configs);
  return framework;
}

export {
  balancedAllocation,
  defaultBinder,
  defaultPreemption,
  imageLocality,
  interPodAffinity,
  nodeAffinity,
  nodeName,
  nodePorts,
  nodeResourcesFit,
  nodeUnschedulable,
  podTopologySpread,
  taintToleration,
  volumeBinding,
};
