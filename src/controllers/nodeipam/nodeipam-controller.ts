// Node IPAM (kube-controller-manager's range allocator): every Node gets spec.podCIDR and
// spec.podCIDRs, a /24 (by default) of the cluster CIDR no other Node holds. The set of taken
// subnets is rebuilt from the Nodes themselves before the first allocation, so a restarted
// controller never hands out a subnet twice.
import type { KubeObject } from '../../api/types.js';
import type { Client, ResourceRef } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { Controller } from '../../client/controller.js';
import { isNotFound } from '../../client/errors.js';
import type { EventRecorder } from '../../client/events.js';
import { dropManagedFields, SharedInformerFactory, type Logger, type SharedIndexInformer } from '../../client/informer.js';
import { CidrSet } from './cidr.js';

export const nodesRef: ResourceRef = { group: '', version: 'v1', resource: 'nodes', namespaced: false, kind: 'Node' };

export interface NodeIpamOptions {
  client: Client;
  /** Default 10.42.0.0/16 (k3s' default cluster CIDR). */
  clusterCidr?: string;
  /** Default 24: 254 pods per node. */
  nodeCidrMaskSize?: number;
  informers?: SharedInformerFactory;
  /** Optional: CIDRNotAvailable events on Nodes when the cluster CIDR is full. */
  events?: EventRecorder;
  clock?: Clock;
  logger?: Logger;
}

export interface NodeIpamController {
  controller: Controller;
  nodes: SharedIndexInformer;
  cidrs: CidrSet;
  start(signal: AbortSignal): Promise<void>;
}

export function createNodeIpamController(options: NodeIpamOptions): NodeIpamController {
  const cidrs = new CidrSet(options.clusterCidr ?? '10.42.0.0/16', options.nodeCidrMaskSize ?? 24);
  const ownFactory = !options.informers;
  const factory = options.informers ?? new SharedInformerFactory(options.client, { transform: dropManagedFields, clock: options.clock, logger: options.logger });
  const nodes = factory.forResource(nodesRef);
  const nodeClient = options.client.resource(nodesRef);
  /** What we know each node holds: released when the node goes away. */
  const held = new Map<string, string>();
  let recovered = false;

  const podCidrsOf = (node: KubeObject): string[] => {
    const list: string[] = node.spec?.podCIDRs?.length ? node.spec.podCIDRs : node.spec?.podCIDR ? [node.spec.podCIDR] : [];
    return list.filter((c) => !c.includes(':'));
  };

  const recover = () => {
    // Workers start only after the cache synced, so this sees every Node that exists.
    for (const node of nodes.getIndexer().list()) {
      for (const cidr of podCidrsOf(node)) if (cidrs.occupy(cidr)) held.set(node.metadata.name!, cidr);
    }
    recovered = true;
  };

  async function reconcile(name: string): Promise<{ requeueAfterMs?: number } | void> {
    if (!recovered) recover();
    const node = nodes.getIndexer().get(name);
    if (!node) {
      const cidr = held.get(name);
      if (cidr) {
        cidrs.release(cidr);
        held.delete(name);
      }
      return;
    }
    const existing = podCidrsOf(node);
    if (existing.length > 0) {
      for (const cidr of existing) if (cidrs.occupy(cidr)) held.set(name, cidr);
      return;
    }
    // Our own earlier write may not have reached the cache yet: write the same subnet again.
    const cidr = held.get(name) ?? cidrs.allocate();
    if (!cidr) {
      options.events?.event(node, 'Normal', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
      return { requeueAfterMs: 30_000 };
    }
    held.set(name, cidr);
    try {
      await nodeClient.patch(undefined, name, 'merge', { spec: { podCIDR: cidr, podCIDRs: [cidr] } });
    } catch (e) {
      if (isNotFound(e)) {
        cidrs.release(cidr);
        held.delete(name);
        return;
      }
      throw e;
    }
  }

  // One worker: allocation order is then the only order, and the set needs no locking.
  const controller = new Controller({ name: 'nodeipam', reconciler: { reconcile }, clock: options.clock, logger: options.logger, workers: 1 });
  controller.watch(nodes);
  return {
    controller,
    nodes,
    cidrs,
    async start(signal) {
      if (ownFactory) factory.start(signal);
      await controller.start(signal);
      if (ownFactory) await factory.shutdown();
    },
  };
}
