// The seam between the autoscaler and whatever makes machines: shaped after the
// cluster-autoscaler's cloudprovider.CloudProvider / cloudprovider.NodeGroup. The autoscaler
// only ever asks a group to change its target size or to remove named members; it learns
// what a new member would look like from templateNode(), never from a real machine.
import type { KubeObject } from '../../api/types.js';
import { parseQuantity } from '../../scheduler/resources.js';

/** The label every member of a node group carries, so a Node maps back to its group. */
export const nodeGroupLabel = 'autoscaling.navarch.io/node-group';

export interface NodeGroup {
  /** Unique, and a valid DNS label (members are named `<name>-<n>`). */
  readonly name: string;
  readonly minSize: number;
  readonly maxSize: number;
  /** Members asked for, registered or not (cloudprovider: TargetSize). */
  targetSize(): number;
  /** Asks for `delta` more members (> 0); fails when that would pass maxSize. */
  increaseSize(delta: number): Promise<void>;
  /** Removes these members (their Node objects included) and lowers the target; fails below minSize. */
  deleteNodes(nodes: KubeObject[]): Promise<void>;
  /** The Node a new member would register as: capacity/allocatable, labels, taints. */
  templateNode(): KubeObject;
  /** Names of the members asked for (registered or still coming up). */
  memberNames(): string[];
}

export interface NodeGroupProvider {
  readonly name: string;
  nodeGroups(): NodeGroup[];
  /** The group a Node belongs to; undefined for nodes no group manages (never scaled down). */
  nodeGroupForNode(node: KubeObject): NodeGroup | undefined;
}

/** What `--cluster-autoscaler group=NAME,min=0,max=5,cpu=2,memory=4Gi[,label=k=v][,taint=k=v:Effect]` asks for. */
export interface NodeGroupSpec {
  name: string;
  minSize: number;
  maxSize: number;
  /** Cores (fractions allowed: "500m" = 0.5). */
  cpu: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
  maxPods: number;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function parseNodeGroupSpec(text: string): NodeGroupSpec {
  const spec: NodeGroupSpec = { name: '', minSize: 0, maxSize: 0, cpu: 0, memoryBytes: 0, ephemeralStorageBytes: 100 * 2 ** 30, maxPods: 110, labels: {}, taints: [] };
  let sawMax = false;
  const quantity = (key: string, value: string) => {
    const n = parseQuantity(value);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--cluster-autoscaler: ${key} must be a positive quantity (got "${value}")`);
    return n;
  };
  const count = (key: string, value: string) => {
    if (!/^\d+$/.test(value)) throw new Error(`--cluster-autoscaler: ${key} must be a non-negative integer (got "${value}")`);
    return Number(value);
  };
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`--cluster-autoscaler: expected key=value, got "${part}"`);
    const key = part.slice(0, eq);
    const value = part.slice(eq + 1);
    switch (key) {
      case 'group':
      case 'name':
        spec.name = value;
        break;
      case 'min':
        spec.minSize = count(key, value);
        break;
      case 'max':
        spec.maxSize = count(key, value);
        sawMax = true;
        break;
      case 'cpu':
        spec.cpu = quantity(key, value);
        break;
      case 'memory':
        spec.memoryBytes = quantity(key, value);
        break;
      case 'ephemeral-storage':
        spec.ephemeralStorageBytes = quantity(key, value);
        break;
      case 'pods':
        spec.maxPods = count(key, value);
        break;
      case 'label': {
        const at = value.indexOf('=');
        if (at <= 0) throw new Error(`--cluster-autoscaler: label must be key=value (got "${value}")`);
        spec.labels[value.slice(0, at)] = value.slice(at + 1);
        break;
      }
      case 'taint': {
        const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(value);
        if (!m) throw new Error(`--cluster-autoscaler: taint must be key[=value]:Effect (got "${value}")`);
        spec.taints.push(m[2] !== undefined ? { key: m[1], value: m[2], effect: m[3] } : { key: m[1], effect: m[3] });
        break;
      }
      default:
        throw new Error(`--cluster-autoscaler: unknown key "${key}" (group, min, max, cpu, memory, ephemeral-storage, pods, label, taint)`);
    }
  }
  if (!dnsLabel.test(spec.name) || spec.name.length > 50) throw new Error(`--cluster-autoscaler: group=NAME must be a DNS label of at most 50 characters (got "${spec.name}")`);
  if (!sawMax || spec.maxSize < 1) throw new Error(`--cluster-autoscaler ${spec.name}: max must be at least 1`);
  if (spec.minSize > spec.maxSize) throw new Error(`--cluster-autoscaler ${spec.name}: min (${spec.minSize}) is above max (${spec.maxSize})`);
  if (!spec.cpu || !spec.memoryBytes) throw new Error(`--cluster-autoscaler ${spec.name}: cpu and memory are required`);
  return spec;
}
