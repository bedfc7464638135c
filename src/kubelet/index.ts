// The node agent's public surface. See README.md.
export { createKubelet, type Kubelet, type KubeletOptions } from './kubelet.js';
export { noopPodNetwork, type PodNetwork, type PodNetworkInput, type NoopPodNetworkOptions } from './network.js';
export { startStreamingServer, type StreamingServer, type StreamingServerOptions } from './streaming/server.js';
export { computePodStatus, podPhase, qosClass } from './status.js';
export { labels as runtimeLabels, annotations as runtimeAnnotations } from './pod-sync.js';
