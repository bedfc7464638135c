// InterPodAffinity: required pod affinity / anti-affinity of the incoming pod, and the
// required anti-affinity of pods already running (a pod may not land in a topology domain
// whose pods refuse it). Preferred terms on both sides, and existing pods' required
// affinity (hardPodAffinityWeight), add to or subtract from a domain's score.
import { status, maxNodeScore, type CycleState, type Plugin } from '../framework.js';
import { termMatches, type AffinityTerm, type NodeInfo, type Pod, type PodInfo } from '../node-info.js';

export const errReasonExistingAntiAffinity = "node(s) didn't satisfy existing pods anti-affinity rules";
export const errReasonAffinity = "node(s) didn't match pod affinity rules";
export const errReasonAntiAffinity = "node(s) didn't match pod anti-affinity rules";

/** topologyKey → value → count (or score). */
type TopologyCounts = Map<string, Map<string, number>>;

function bump(counts: TopologyCounts, key: string, value: string, by: number): void {
  let values = counts.get(key);
  if (!values) counts.set(key, (values = new Map()));
  values.set(value, (values.get(value) ?? 0) + by);
}

function countOf(counts: TopologyCounts, node: NodeInfo): number {
  let total = 0;
  for (const [key, values] of counts) {
    const value = node.labels[key];
    if (value !== undefined) total += values.get(value) ?? 0;
  }
  return total;
}

interface FilterState {
  existingAntiAffinity: TopologyCounts;
  affinity: TopologyCounts;
  antiAffinity: TopologyCounts;
  /** Some pod in the cluster matches all the incoming pod's affinity terms. */
  affinityPodsExist: boolean;
  selfMatchesAffinity: boolean;
}

const filterKey = 'InterPodAffinity/filter';

function copyCounts(counts: TopologyCounts): TopologyCounts {
  return new Map([...counts].map(([k, v]) => [k, new Map(v)]));
}

/** What-if: `other` on `node` joins (+1) or leaves (−1) the cluster the PreFilter state describes. */
function adjust(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, sign: number): void {
  const old = state.read<FilterState>(filterKey);
  if (!old) return;
  const nsLabels = state.snapshot.namespaceLabels;
  const s: FilterState = { ...old, existingAntiAffinity: copyCounts(old.existingAntiAffinity), affinity: copyCounts(old.affinity), antiAffinity: copyCounts(old.antiAffinity) };
  for (const term of other.requiredAntiAffinity) {
    const value = node.labels[term.topologyKey];
    if (value !== undefined && termMatches(term, pod.pod, nsLabels)) bump(s.existingAntiAffinity, term.topologyKey, value, sign);
  }
  if (pod.requiredAffinity.length && pod.requiredAffinity.every((t) => termMatches(t, other.pod, nsLabels))) {
    for (const t of pod.requiredAffinity) {
      const value = node.labels[t.topologyKey];
      if (value !== undefined) bump(s.affinity, t.topologyKey, value, sign);
    }
    let any = false;
    for (const values of s.affinity.values()) for (const n of values.values()) if (n > 0) any = true;
    s.affinityPodsExist = any;
  }
  for (const t of pod.requiredAntiAffinity) {
    const value = node.labels[t.topologyKey];
    if (value !== undefined && termMatches(t, other.pod, nsLabels)) bump(s.antiAffinity, t.topologyKey, value, sign);
  }
  state.write(filterKey, s);
}
const scoreKey = 'InterPodAffinity/score';

export function interPodAffinity(args: { hardPodAffinityWeight?: number } = {}): Plugin {
  const hardWeight = args.hardPodAffinityWeight ?? 1;
  return {
    name: 'InterPodAffinity',
    preFilter(state: CycleState, pod: PodInfo) {
      const snapshot = state.snapshot;
      const nsLabels = snapshot.namespaceLabels;
      const antiNodes = snapshot.havePodsWithRequiredAntiAffinityList();
      const hasOwn = pod.requiredAffinity.length > 0 || pod.requiredAntiAffinity.length > 0;
      if (!hasOwn && antiNodes.length === 0) return { code: 'Skip', reasons: [] };
      const s: FilterState = { existingAntiAffinity: new Map(), affinity: new Map(), antiAffinity: new Map(), affinityPodsExist: false, selfMatchesAffinity: false };
      for (const node of antiNodes) {
        for (const existing of node.pods) {
          for (const term of existing.requiredAntiAffinity) {
            const value = node.labels[term.topologyKey];
            if (value !== undefined && termMatches(term, pod.pod, nsLabels)) bump(s.existingAntiAffinity, term.topologyKey, value, 1);
          }
        }
      }
      if (hasOwn) {
        for (const node of snapshot.nodeInfoList()) {
          for (const existing of node.pods) {
            if (pod.requiredAffinity.length && pod.requiredAffinity.every((t) => termMatches(t, existing.pod, nsLabels))) {
              s.affinityPodsExist = true;
              for (const t of pod.requiredAffinity) {
                const value = node.labels[t.topologyKey];
                if (value !== undefined) bump(s.affinity, t.topologyKey, value, 1);
              }
            }
            for (const t of pod.requiredAntiAffinity) {
              const value = node.labels[t.topologyKey];
              if (value !== undefined && termMatches(t, existing.pod, nsLabels)) bump(s.antiAffinity, t.topologyKey, value, 1);
            }
          }
        }
        s.selfMatchesAffinity = pod.requiredAffinity.every((t) => termMatches(t, pod.pod, nsLabels));
      }
      state.write(filterKey, s);
      return undefined;
    },
    addPod(state, pod, other, node) {
      adjust(state, pod, other, node, 1);
    },
    removePod(state, pod, other, node) {
      adjust(state, pod, other, node, -1);
    },
    filter(state, pod, node) {
      const s = state.read<FilterState>(filterKey)!;
      if (pod.requiredAffinity.length) {
        let podsExist = true;
        for (const t of pod.requiredAffinity) {
          const value = node.labels[t.topologyKey];
          if (value === undefined) return status('UnschedulableAndUnresolvable', errReasonAffinity);
          if (!(s.affinity.get(t.topologyKey)?.get(value) ?? 0)) podsExist = false;
        }
        // The first pod of a group with affinity to itself must be able to land somewhere.
        if (!podsExist && !(!s.affinityPodsExist && s.selfMatchesAffinity)) return status('UnschedulableAndUnresolvable', errReasonAffinity);
      }
      if (s.antiAffinity.size && countOf(s.antiAffinity, node) > 0) return status('Unschedulable', errReasonAntiAffinity);
      if (s.existingAntiAffinity.size && countOf(s.existingAntiAffinity, node) > 0) return status('Unschedulable', errReasonExistingAntiAffinity);
      return undefined;
    },
    preScore(state, pod) {
      const snapshot = state.snapshot;
      const nsLabels = snapshot.namespaceLabels;
      const hasPreferred = pod.preferredAffinity.length > 0 || pod.preferredAntiAffinity.length > 0;
      const nodes = hasPreferred ? snapshot.nodeInfoList() : snapshot.havePodsWithAffinityList();
      if (nodes.length === 0) return { code: 'Skip', reasons: [] };
      const scores: TopologyCounts = new Map();
      const apply = (terms: AffinityTerm[], target: Pod, node: NodeInfo, sign: number, weightOverride?: number) => {
        for (const t of terms) {
          const value = node.labels[t.topologyKey];
          if (value !== undefined && termMatches(t, target, nsLabels)) bump(scores, t.topologyKey, value, sign * (weightOverride ?? t.weight));
        }
      };
      for (const node of nodes) {
        for (const existing of node.pods) {
          if (hasPreferred) {
            apply(pod.preferredAffinity, existing.pod, node, 1);
            apply(pod.preferredAntiAffinity, existing.pod, node, -1);
          }
          // Existing pods' wishes about the incoming one count too.
          if (hardWeight > 0) apply(existing.requiredAffinity, pod.pod, node, 1, hardWeight);
          apply(existing.preferredAffinity, pod.pod, node, 1);
          apply(existing.preferredAntiAffinity, pod.pod, node, -1);
        }
      }
      if (scores.size === 0) return { code: 'Skip', reasons: [] };
      state.write(scoreKey, scores);
      return undefined;
    },
    score(state, _pod, node) {
      return countOf(state.read<TopologyCounts>(scoreKey)!, node);
    },
    normalizeScore(_state, _pod, _nodes, scores) {
      let min = Infinity;
      let max = -Infinity;
      for (const s of scores) {
        min = Math.min(min, s);
        max = Math.max(max, s);
      }
      const diff = max - min;
      for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.floor((maxNodeScore * (scores[i] - min)) / diff) : 0;
    },
  };
}
