// TaintToleration: NoSchedule/NoExecute taints must be tolerated; PreferNoSchedule taints
// lower a node's score by how many of them the pod does not tolerate.
import type { FilterPlugin, ScorePlugin } from '../framework.js';

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}
export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  if (!toleration.key && toleration.operator !== 'Exists') return false;
  if (toleration.operator === 'Exists') return true;
  return (toleration.value ?? '') === (taint.value ?? '');
}

export const taintToleration: FilterPlugin & ScorePlugin = {
  name: 'TaintToleration',
  weight: 3,
  filter(_state, pod, node) {
    const tolerations: Toleration[] = pod.spec?.tolerations ?? [];
    for (const taint of (node.node.spec?.taints ?? []) as Taint[]) {
      if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
      if (!tolerations.some((t) => tolerates(t, taint))) {
        return { reasons: [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`], unresolvable: true };
      }
    }
    return undefined;
  },
  score(_state, pod, node) {
    const tolerations: Toleration[] = (pod.spec?.tolerations ?? []).filter((t: Toleration) => !t.effect || t.effect === 'PreferNoSchedule');
    return ((node.node.spec?.taints ?? []) as Taint[]).filter((t) => t.effect === 'PreferNoSchedule' && !tolerations.some((x) => tolerates(x, t))).length;
  },
  // Fewer intolerable taints is better: invert against the worst node.
  normalize(scores) {
    const max = Math.max(...scores, 0);
    return scores.map((s) => (max === 0 ? 100 : Math.round(100 - (s * 100) / max)));
  },
};
