// TaintToleration: NoSchedule and NoExecute taints keep away pods that do not tolerate
// them; PreferNoSchedule taints only lower a node's score (fewer untolerated = better).
import { defaultNormalizeScore, status, type CycleState, type Plugin } from '../framework.js';
import type { NodeInfo, PodInfo, Taint } from '../node-info.js';

export interface Toleration {
  key?: string;
  operator?: 'Equal' | 'Exists';
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** v1.Toleration.ToleratesTaint: empty effect matches every effect; empty key with Exists matches every taint. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  const op = t.operator || 'Equal';
  if (op === 'Exists') return true;
  if (op === 'Equal') return (t.value ?? '') === (taint.value ?? '');
  return false;
}

export function tolerated(tolerations: Toleration[], taint: Taint): boolean {
  for (const t of tolerations) if (toleratesTaint(t, taint)) return true;
  return false;
}

/** The first NoSchedule/NoExecute taint `tolerations` do not tolerate. */
export function findUntoleratedTaint(taints: Taint[], tolerations: Toleration[], effects: (effect: string) => boolean): Taint | undefined {
  for (const taint of taints) if (effects(taint.effect) && !tolerated(tolerations, taint)) return taint;
  return undefined;
}

export const doNotScheduleEffects = (effect: string) => effect === 'NoSchedule' || effect === 'NoExecute';

export function untoleratedTaintReason(taint: Taint): string {
  return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
}

const preferTolerationsKey = 'TaintToleration/prefer';

export function taintToleration(): Plugin {
  return {
    name: 'TaintToleration',
    filter(_state, pod: PodInfo, node: NodeInfo) {
      if (node.taints.length === 0) return undefined;
      const taint = findUntoleratedTaint(node.taints, pod.pod.spec?.tolerations ?? [], doNotScheduleEffects);
      return taint ? status('UnschedulableAndUnresolvable', untoleratedTaintReason(taint)) : undefined;
    },
    preScore(state: CycleState, pod: PodInfo) {
      const prefer = (pod.pod.spec?.tolerations ?? []).filter((t: Toleration) => !t.effect || t.effect === 'PreferNoSchedule');
      state.write(preferTolerationsKey, prefer);
      return undefined;
    },
    score(state, _pod, node) {
      if (node.taints.length === 0) return 0;
      const prefer = state.read<Toleration[]>(preferTolerationsKey) ?? [];
      let count = 0;
      for (const taint of node.taints) if (taint.effect === 'PreferNoSchedule' && !tolerated(prefer, taint)) count++;
      return count;
    },
    normalizeScore(_state, _pod, _nodes, scores) {
      defaultNormalizeScore(scores, true);
    },
  };
}
