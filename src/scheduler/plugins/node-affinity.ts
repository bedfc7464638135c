// NodeAffinity: spec.nodeSelector and requiredDuringScheduling node affinity must both
// match (filter); preferredDuringScheduling terms add their weights (score).
import { defaultNormalizeScore, status, type CycleState, type Plugin } from '../framework.js';
import type { Node, NodeInfo, PodInfo } from '../node-info.js';

export const errReasonNodeAffinity = "node(s) didn't match Pod's node affinity/selector";

export interface NodeSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt' | string;
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

const integerPattern = /^[-+]?\d+$/;

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const has = value !== undefined;
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return has && values.includes(value);
    case 'NotIn':
      return !has || !values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1 || !integerPattern.test(value) || !integerPattern.test(values[0])) return false;
      const have = BigInt(value);
      const want = BigInt(values[0]);
      return r.operator === 'Gt' ? have > want : have < want;
    }
    default:
      return false;
  }
}

/** One term: all its expressions (on labels) and fields (only metadata.name) match; an empty term matches nothing. */
export function nodeSelectorTermMatches(term: NodeSelectorTerm, labels: Record<string, string>, nodeName: string): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  for (const r of expressions) if (!requirementMatches(r, Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined)) return false;
  for (const r of fields) {
    if (r.key !== 'metadata.name' || (r.operator !== 'In' && r.operator !== 'NotIn')) return false;
    if (!requirementMatches(r, nodeName)) return false;
  }
  return true;
}

/** Terms are ORed. */
export function nodeSelectorMatches(selector: { nodeSelectorTerms?: NodeSelectorTerm[] } | undefined, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const term of selector?.nodeSelectorTerms ?? []) if (nodeSelectorTermMatches(term, labels, node.metadata.name!)) return true;
  return false;
}

/** nodeSelector and required node affinity, as the filter and PodTopologySpread's nodeAffinityPolicy use them. */
export function podMatchesNodeSelectorAndAffinity(pod: PodInfo['pod'], labels: Record<string, string>, nodeName: string): boolean {
  const selector: Record<string, string> | undefined = pod.spec?.nodeSelector;
  if (selector) for (const key in selector) if (labels[key] !== selector[key]) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  for (const term of required.nodeSelectorTerms ?? []) if (nodeSelectorTermMatches(term, labels, nodeName)) return true;
  return false;
}

export interface NodeAffinityArgs {
  /** Profile-wide affinity added to every pod's (NodeAffinityArgs.addedAffinity). */
  addedAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] } };
}

export function nodeAffinity(args: NodeAffinityArgs = {}): Plugin {
  const added = args.addedAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return {
    name: 'NodeAffinity',
    preFilter(_state, pod) {
      const spec = pod.pod.spec ?? {};
      const empty = !spec.nodeSelector && !spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution && !added;
      return empty ? { code: 'Skip', reasons: [] } : undefined;
    },
    filter(_state, pod, node: NodeInfo) {
      if (added && !(added.nodeSelectorTerms ?? []).some((t) => nodeSelectorTermMatches(t, node.labels, node.name))) return status('UnschedulableAndUnresolvable', errReasonNodeAffinity);
      return podMatchesNodeSelectorAndAffinity(pod.pod, node.labels, node.name) ? undefined : status('UnschedulableAndUnresolvable', errReasonNodeAffinity);
    },
    preScore(_state: CycleState, pod) {
      const preferred = pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
      return preferred?.length ? undefined : { code: 'Skip', reasons: [] };
    },
    score(_state, pod, node) {
      let total = 0;
      for (const p of pod.pod.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution) {
        if (p.weight && p.preference && nodeSelectorTermMatches(p.preference, node.labels, node.name)) total += p.weight;
      }
      return total;
    },
    normalizeScore(_state, _pod, _nodes, scores) {
      defaultNormalizeScore(scores, false);
    },
  };
}
