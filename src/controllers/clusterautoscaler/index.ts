// What `navarch server --cluster-autoscaler ...` runs: the autoscaler over simulated node
// groups whose members are hollow kubelets in this process.
import { createClient } from '../../client/client.js';
import { systemClock, type Clock } from '../../client/clock.js';
import { SharedInformerFactory, stderrLogger, type Logger } from '../../client/informer.js';
import type { Transport } from '../../client/transport.js';
import { createEventRecorder } from '../framework/events.js';
import { createClusterAutoscaler, type ClusterAutoscalerOptions } from './autoscaler.js';
import type { NodeGroupSpec } from './node-group.js';
import { hollowKubeletStarter, SimulatedNodeGroupProvider } from './simulated.js';

export { createClusterAutoscaler, statusConfigMapName, type ClusterAutoscaler, type ClusterAutoscalerOptions } from './autoscaler.js';
export { nodeGroupLabel, parseNodeGroupSpec, type NodeGroup, type NodeGroupProvider, type NodeGroupSpec } from './node-group.js';
export { hollowKubeletStarter, simulatedTemplateNode, SimulatedNodeGroup, SimulatedNodeGroupProvider, type HollowNode, type HollowNodeStarter } from './simulated.js';

export interface SimulatedClusterAutoscalerOptions {
  /** The autoscaler's own API identity. */
  transport: Transport;
  /** The API as system:node:<nodeName>, for each hollow kubelet. */
  nodeTransport(nodeName: string): Transport;
  groups: NodeGroupSpec[];
  /** Hollow kubelets keep their state under here. */
  dataDir: string;
  clusterDns?: string;
  clock?: Clock;
  logger?: Logger;
  tuning?: Pick<ClusterAutoscalerOptions, 'scanIntervalMs' | 'scaleDownUnneededTimeMs' | 'scaleDownDelayAfterAddMs' | 'scaleDownUtilizationThreshold'>;
}

/** Runs until `signal` aborts; then stops every hollow kubelet it started. */
export async function runSimulatedClusterAutoscaler(options: SimulatedClusterAutoscalerOptions, signal: AbortSignal): Promise<void> {
  const clock = options.clock ?? systemClock();
  const logger = options.logger ?? stderrLogger;
  const client = createClient(options.transport);
  const informerFactory = new SharedInformerFactory(client, { clock, logger });
  const recorder = createEventRecorder({ client, component: 'cluster-autoscaler', clock, logger });
  const provider = new SimulatedNodeGroupProvider(options.groups, {
    client,
    start: hollowKubeletStarter({
      transportFor: options.nodeTransport,
      dataDir: options.dataDir,
      clusterDns: options.clusterDns,
      log: (level, msg, fields) => logger(level, msg, { component: 'hollow-kubelet', ...fields }),
    }),
    log: (msg, fields) => logger('warn', msg, { component: 'cluster-autoscaler', ...fields }),
  });
  const autoscaler = createClusterAutoscaler({ client, informerFactory, clock, recorder, provider, logger, ...options.tuning });
  // A node group is created at its minimum size, as a cloud creates one.
  for (const group of provider.groups) if (group.minSize > 0) await group.increaseSize(group.minSize);
  informerFactory.start(signal);
  try {
    await autoscaler.start(signal);
  } finally {
    await informerFactory.shutdown();
    await recorder.flush();
    await provider.stopAll();
  }
}
