// PodTopologySpread: keeps matching pods spread across topology domains (zones, hosts).
// DoNotSchedule constraints filter: placing the pod in a domain may not make that domain
// exceed the least-populated eligible domain by more than maxSkew (the minimum counts as 0
// while fewer than minDomains domains exist). ScheduleAnyway constraints score: fewer
// matching pods in the node's domains = better. Pods owned by a ReplicaSet,
// ReplicationController or StatefulSet without constraints get the system defaults
// (hostname maxSkew 3, zone maxSkew 5, ScheduleAnyway).
import { everything, labelSelectorAsSelector, matches, nothing, type Selector } from '../../api/selectors/labels.js';
import { maxNodeScore, status, type CycleState, type Plugin } from '../framework.js';
import type { NodeInfo, PodInfo } from '../node-info.js';
import { podMatchesNodeSelectorAndAffinity } from './node-affinity.js';
import { doNotScheduleEffects, findUntoleratedTaint } from './taint-toleration.js';

export const errReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints";
export const errReasonNodeLabelNotMatch = errReasonConstraintsNotMatch + ' (missing required label)';

const hostnameKey = 'kubernetes.io/hostname';
const zoneKey = 'topology.kubernetes.io/zone';

interface Constraint {
  maxSkew: number;
  topologyKey: string;
  selector: Selector;
  minDomains: number;
  honorNodeAffinity: boolean;
  honorNodeTaints: boolean;
}

interface FilterState {
  constraints: Constraint[];
  /** Per constraint: domain value → matching pods. */
  counts: Map<string, number>[];
  /** Per constraint: the smallest count over eligible domains. */
  minCounts: number[];
}

interface ScoreState {
  constraints: Constraint[];
  counts: Map<string, number>[];
  weights: number[];
  ignored: Set<string>;
}

const filterKey = 'PodTopologySpread/filter';
const scoreKey = 'PodTopologySpread/score';

export const systemDefaultConstraints = [
  { topologyKey: hostnameKey, maxSkew: 3, whenUnsatisfiable: 'ScheduleAnyway' },
  { topologyKey: zoneKey, maxSkew: 5, whenUnsatisfiable: 'ScheduleAnyway' },
];

const defaultingOwners = new Set(['ReplicaSet', 'ReplicationController', 'StatefulSet']);

function buildConstraints(pod: PodInfo, when: string, systemDefaults: boolean): Constraint[] {
  const p = pod.pod;
  let raw: any[] = p.spec?.topologySpreadConstraints ?? [];
  let defaultSelector: Selector | undefined;
  if (raw.length === 0 && systemDefaults && (p.metadata.ownerReferences ?? []).some((o: any) => o.controller && defaultingOwners.has(o.kind))) {
    // Kubernetes derives the selector from the owning workload's; its pods carry exactly those labels.
    raw = systemDefaultConstraints;
    const labels = p.metadata.labels ?? {};
    defaultSelector = Object.keys(labels).length ? labelSelectorAsSelector({ matchLabels: labels }) : nothing;
  }
  const out: Constraint[] = [];
  for (const c of raw) {
    if (c.whenUnsatisfiable !== when) continue;
    let selector: Selector;
    if (defaultSelector) selector = defaultSelector;
    else {
      // matchLabelKeys: the pod's own values for those keys join the selector.
      const ls = c.labelSelector ? structuredClone(c.labelSelector) : undefined;
      if (ls && c.matchLabelKeys?.length) {
        ls.matchExpressions ??= [];
        for (const key of c.matchLabelKeys) {
          const value = p.metadata.labels?.[key];
          if (value !== undefined) ls.matchExpressions.push({ key, operator: 'In', values: [value] });
        }
      }
      try {
        selector = ls ? labelSelectorAsSelector(ls) : nothing;
      } catch {
        selector = nothing;
      }
    }
    out.push({
      maxSkew: c.maxSkew ?? 1,
      topologyKey: c.topologyKey,
      selector,
      minDomains: c.minDomains ?? 1,
      honorNodeAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
      honorNodeTaints: c.nodeTaintsPolicy === 'Honor',
    });
  }
  return out;
}

function eligible(c: Constraint, pod: PodInfo, node: NodeInfo): boolean {
  if (c.honorNodeAffinity && !podMatchesNodeSelectorAndAffinity(pod.pod, node.labels, node.name)) return false;
  if (c.honorNodeTaints && findUntoleratedTaint(node.taints, pod.pod.spec?.tolerations ?? [], doNotScheduleEffects)) return false;
  return true;
}

function countMatching(node: NodeInfo, selector: Selector, namespace: string): number {
  if (selector === nothing) return 0;
  let n = 0;
  for (const p of node.pods) {
    if (p.pod.metadata.namespace !== namespace || p.pod.metadata.deletionTimestamp) continue;
    if (selector === everything || matches(selector, p.pod.metadata.labels)) n++;
  }
  return n;
}

function hasAllKeys(node: NodeInfo, constraints: Constraint[]): boolean {
  for (const c of constraints) if (node.labels[c.topologyKey] === undefined) return false;
  return true;
}

function minCount(c: Constraint, counts: Map<string, number>): number {
  if (counts.size < c.minDomains) return 0;
  let min = Infinity;
  for (const v of counts.values()) min = Math.min(min, v);
  return min === Infinity ? 0 : min;
}

/** What-if: `other` on `node` joins (+1) or leaves (−1). */
function adjust(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, sign: number): void {
  const old = state.read<FilterState>(filterKey);
  if (!old || other.pod.metadata.namespace !== pod.pod.metadata.namespace || !hasAllKeys(node, old.constraints)) return;
  const s: FilterState = { constraints: old.constraints, counts: old.counts.map((m) => new Map(m)), minCounts: [...old.minCounts] };
  s.constraints.forEach((c, i) => {
    if (!eligible(c, pod, node) || !matches(c.selector, other.pod.metadata.labels)) return;
    const value = node.labels[c.topologyKey];
    s.counts[i].set(value, (s.counts[i].get(value) ?? 0) + sign);
    s.minCounts[i] = minCount(c, s.counts[i]);
  });
  state.write(filterKey, s);
}

export function podTopologySpread(args: { systemDefaulting?: boolean } = {}): Plugin {
  const systemDefaults = args.systemDefaulting ?? true;
  return {
    name: 'PodTopologySpread',
    preFilter(state: CycleState, pod) {
      const constraints = buildConstraints(pod, 'DoNotSchedule', false);
      if (constraints.length === 0) return { code: 'Skip', reasons: [] };
      const counts = constraints.map(() => new Map<string, number>());
      const ns = pod.pod.metadata.namespace ?? '';
      for (const node of state.snapshot.nodeInfoList()) {
        if (!hasAllKeys(node, constraints)) continue;
        constraints.forEach((c, i) => {
          if (!eligible(c, pod, node)) return;
          const value = node.labels[c.topologyKey];
          counts[i].set(value, (counts[i].get(value) ?? 0) + countMatching(node, c.selector, ns));
        });
      }
      const minCounts = constraints.map((c, i) => minCount(c, counts[i]));
      state.write(filterKey, { constraints, counts, minCounts } satisfies FilterState);
      return undefined;
    },
    addPod(state, pod, other, node) {
      adjust(state, pod, other, node, 1);
    },
    removePod(state, pod, other, node) {
      adjust(state, pod, other, node, -1);
    },
    filter(state, pod, node) {
      const s = state.read<FilterState>(filterKey);
      if (!s) return undefined;
      for (let i = 0; i < s.constraints.length; i++) {
        const c = s.constraints[i];
        const value = node.labels[c.topologyKey];
        if (value === undefined) return status('UnschedulableAndUnresolvable', errReasonNodeLabelNotMatch);
        const selfMatch = matches(c.selector, pod.pod.metadata.labels) ? 1 : 0;
        const skew = (s.counts[i].get(value) ?? 0) + selfMatch - s.minCounts[i];
        if (skew > c.maxSkew) return status('Unschedulable', errReasonConstraintsNotMatch);
      }
      return undefined;
    },
    preScore(state, pod, nodes) {
      const constraints = buildConstraints(pod, 'ScheduleAnyway', systemDefaults);
      if (constraints.length === 0) return { code: 'Skip', reasons: [] };
      const ignored = new Set<string>();
      const domains = constraints.map(() => new Set<string>());
      let hostnameDomains = 0;
      for (const node of nodes) {
        // Only the defaults may be missing labels silently; explicit constraints ignore such nodes.
        if (!hasAllKeys(node, constraints)) {
          ignored.add(node.name);
          continue;
        }
        hostnameDomains++;
        constraints.forEach((c, i) => domains[i].add(node.labels[c.topologyKey]));
      }
      const ns = pod.pod.metadata.namespace ?? '';
      const counts = constraints.map(() => new Map<string, number>());
      for (const node of state.snapshot.nodeInfoList()) {
        if (!hasAllKeys(node, constraints)) continue;
        constraints.forEach((c, i) => {
          if (c.topologyKey === hostnameKey) return;
          const value = node.labels[c.topologyKey];
          if (!domains[i].has(value) || !eligible(c, pod, node)) return;
          counts[i].set(value, (counts[i].get(value) ?? 0) + countMatching(node, c.selector, ns));
        });
      }
      const weights = constraints.map((c, i) => Math.log((c.topologyKey === hostnameKey ? hostnameDomains : domains[i].size) + 2));
      state.write(scoreKey, { constraints, counts, weights, ignored } satisfies ScoreState);
      return undefined;
    },
    score(state, pod, node) {
      const s = state.read<ScoreState>(scoreKey)!;
      if (s.ignored.has(node.name)) return 0;
      let score = 0;
      const ns = pod.pod.metadata.namespace ?? '';
      s.constraints.forEach((c, i) => {
        const value = node.labels[c.topologyKey];
        if (value === undefined) return;
        const count = c.topologyKey === hostnameKey ? countMatching(node, c.selector, ns) : s.counts[i].get(value) ?? 0;
        score += count * s.weights[i] + (c.maxSkew - 1);
      });
      return Math.round(score);
    },
    normalizeScore(state, _pod, nodes, scores) {
      const s = state.read<ScoreState>(scoreKey)!;
      let min = Infinity;
      let max = 0;
      nodes.forEach((n, i) => {
        if (s.ignored.has(n.name)) return;
        min = Math.min(min, scores[i]);
        max = Math.max(max, scores[i]);
      });
      nodes.forEach((n, i) => {
        if (s.ignored.has(n.name)) scores[i] = 0;
        else if (max === 0) scores[i] = maxNodeScore;
        else scores[i] = Math.floor((maxNodeScore * (max + min - scores[i])) / max);
      });
    },
  };
}
