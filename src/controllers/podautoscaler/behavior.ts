// spec.behavior: stabilization windows over recent recommendations and scaling policies that
// limit how fast replicas change, after Kubernetes' normalizeDesiredReplicasWithBehaviors. An
// HPA without behavior gets the autoscaling/v2 defaults (scale-down stabilization 300 s).
// Recommendations and scale events live in memory per HPA, as in kube-controller-manager.

export interface ScalingPolicy { type: 'Pods' | 'Percent'; value: number; periodSeconds: number }
export interface ScalingRules { stabilizationWindowSeconds?: number; selectPolicy?: 'Max' | 'Min' | 'Disabled'; policies?: ScalingPolicy[] }
export interface Behavior { scaleUp?: ScalingRules; scaleDown?: ScalingRules }

export const defaultScaleUp: Required<ScalingRules> = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
};
export const defaultScaleDown: Required<ScalingRules> = {
  stabilizationWindowSeconds: 300,
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

/** SetDefaults_HorizontalPodAutoscalerBehavior: every unset field takes the default. */
export function withDefaults(behavior: Behavior | undefined): { scaleUp: Required<ScalingRules>; scaleDown: Required<ScalingRules> } {
  const fill = (rules: ScalingRules | undefined, d: Required<ScalingRules>): Required<ScalingRules> => ({
    stabilizationWindowSeconds: rules?.stabilizationWindowSeconds ?? d.stabilizationWindowSeconds,
    selectPolicy: rules?.selectPolicy ?? d.selectPolicy,
    policies: rules?.policies?.length ? rules.policies : d.policies,
  });
  return { scaleUp: fill(behavior?.scaleUp, defaultScaleUp), scaleDown: fill(behavior?.scaleDown, defaultScaleDown) };
}

interface Recommendation { replicas: number; at: number }
interface ScaleEvent { change: number; at: number; outdated?: boolean }

export interface Decision {
  replicas: number;
  /** AbleToScale reason/message (stabilization). */
  ableToScale: { reason: string; message: string };
  /** ScalingLimited status/reason/message (rate and min/max limits). */
  scalingLimited: { status: 'True' | 'False'; reason: string; message: string };
}

/** Per-HPA memory of recommendations and scale events; one per controller, keyed "namespace/name". */
export class BehaviorState {
  private readonly recommendations = new Map<string, Recommendation[]>();
  private readonly scaleUpEvents = new Map<string, ScaleEvent[]>();
  private readonly scaleDownEvents = new Map<string, ScaleEvent[]>();

  forget(key: string): void {
    this.recommendations.delete(key);
    this.scaleUpEvents.delete(key);
    this.scaleDownEvents.delete(key);
  }

  /** normalizeDesiredReplicasWithBehaviors: stabilize, then apply the rate policies and min/max. */
  normalize(key: string, args: { currentReplicas: number; desiredReplicas: number; minReplicas: number; maxReplicas: number; behavior: Behavior | undefined; nowMs: number }): Decision {
    const behavior = withDefaults(args.behavior);
    const now = args.nowMs;
    // A new HPA starts its scale-down window with the current size, so it does not shrink at once.
    if (!this.recommendations.has(key)) this.recommendations.set(key, [{ replicas: args.currentReplicas, at: now }]);
    const stabilized = this.stabilize(key, args.currentReplicas, args.desiredReplicas, behavior, now);
    const ableToScale = stabilized.replicas !== args.desiredReplicas ? { reason: stabilized.reason, message: stabilized.message } : { reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
    const limited = this.limitRate(key, { ...args, desiredReplicas: stabilized.replicas }, behavior, now);
    return {
      replicas: limited.replicas,
      ableToScale,
      scalingLimited: { status: limited.replicas === stabilized.replicas ? 'False' : 'True', reason: limited.reason, message: limited.message },
    };
  }

  /** storeScaleEvent: what the rate policies count against. */
  recordScale(key: string, args: { from: number; to: number; behavior: Behavior | undefined; nowMs: number }): void {
    const behavior = withDefaults(args.behavior);
    if (args.to > args.from) this.push(this.scaleUpEvents, key, { change: args.to - args.from, at: args.nowMs }, behavior.scaleUp, args.nowMs);
    else if (args.to < args.from) this.push(this.scaleDownEvents, key, { change: args.from - args.to, at: args.nowMs }, behavior.scaleDown, args.nowMs);
  }

  private push(into: Map<string, ScaleEvent[]>, key: string, event: ScaleEvent, rules: Required<ScalingRules>, now: number): void {
    const longest = Math.max(0, ...rules.policies.map((p) => p.periodSeconds)) * 1000;
    const kept = (into.get(key) ?? []).filter((e) => e.at > now - longest);
    kept.push(event);
    into.set(key, kept);
  }

  private stabilize(key: string, current: number, desired: number, behavior: ReturnType<typeof withDefaults>, now: number): { replicas: number; reason: string; message: string } {
    const upCutoff = now - behavior.scaleUp.stabilizationWindowSeconds * 1000;
    const downCutoff = now - behavior.scaleDown.stabilizationWindowSeconds * 1000;
    let up = desired;
    let down = desired;
    const history = this.recommendations.get(key)!;
    let oldIndex = -1;
    history.forEach((r, i) => {
      if (r.at > upCutoff) up = Math.min(up, r.replicas);
      if (r.at > downCutoff) down = Math.max(down, r.replicas);
      if (r.at < upCutoff && r.at < downCutoff) oldIndex = i;
    });
    let recommendation = current;
    if (recommendation < up) recommendation = up;
    if (recommendation > down) recommendation = down;
    if (oldIndex >= 0) history[oldIndex] = { replicas: desired, at: now };
    else history.push({ replicas: desired, at: now });
    return desired >= current
      ? { replicas: recommendation, reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
      : { replicas: recommendation, reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
  }

  private changeInPeriod(events: ScaleEvent[] | undefined, periodSeconds: number, now: number): number {
    const cutoff = now - periodSeconds * 1000;
    return (events ?? []).filter((e) => e.at > cutoff).reduce((n, e) => n + e.change, 0);
  }

  private limitRate(key: string, args: { currentReplicas: number; desiredReplicas: number; minReplicas: number; maxReplicas: number }, behavior: ReturnType<typeof withDefaults>, now: number): { replicas: number; reason: string; message: string } {
    const { currentReplicas: current, desiredReplicas: desired } = args;
    const periodStart = (p: ScalingPolicy) => current - this.changeInPeriod(this.scaleUpEvents.get(key), p.periodSeconds, now) + this.changeInPeriod(this.scaleDownEvents.get(key), p.periodSeconds, now);
    if (desired > current) {
      const rules = behavior.scaleUp;
      let limit: number;
      if (rules.selectPolicy === 'Disabled') limit = current;
      else {
        const proposals = rules.policies.map((p) => (p.type === 'Pods' ? periodStart(p) + p.value : Math.ceil(periodStart(p) * (1 + p.value / 100))));
        limit = rules.selectPolicy === 'Min' ? Math.min(...proposals) : Math.max(...proposals);
      }
      limit = Math.max(limit, current);
      const [maximum, reason, message] =
        args.maxReplicas > limit
          ? [limit, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate']
          : [args.maxReplicas, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
      if (desired > maximum) return { replicas: maximum, reason, message };
    } else if (desired < current) {
      const rules = behavior.scaleDown;
      let limit: number;
      if (rules.selectPolicy === 'Disabled') limit = current;
      else {
        const proposals = rules.policies.map((p) => (p.type === 'Pods' ? periodStart(p) - p.value : Math.trunc(periodStart(p) * (1 - p.value / 100))));
        limit = rules.selectPolicy === 'Min' ? Math.max(...proposals) : Math.min(...proposals);
      }
      limit = Math.min(limit, current);
      const [minimum, reason, message] =
        args.minReplicas < limit
          ? [limit, 'ScaleDownLimit', 'the desired replica count is decreasing faster than the maximum scale rate']
          : [args.minReplicas, 'TooFewReplicas', 'the desired replica count is less than the minimum replica count'];
      if (desired < minimum) return { replicas: minimum, reason, message };
    }
    return { replicas: desired, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
  }
}
