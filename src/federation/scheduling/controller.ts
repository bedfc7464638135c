// The ReplicaSchedulingPreference controller (KubeFed's RSP controller): for each RSP in the
// host, spreads `totalReplicas` over the ready member clusters with planReplicas and writes the
// result into the same-named FederatedDeployment (or FederatedReplicaSet): `spec.placement.clusters`
// and one `/spec/replicas` override per cluster. The sync controller then propagates it.
// Failover is the same reconcile: a member turning not ready (MemberClusters.onChange) drops out
// of the plan and its replicas go to the ready ones.
import { objectKey, retryOnConflict, splitObjectKey, type ResourceRef } from '../../client/client.js';
import { Controller } from '../../client/controller.js';
import { isNotFound } from '../../client/errors.js';
import { objectFromDeleted, SharedInformerFactory, type SharedIndexInformer } from '../../client/informer.js';
import { createEventRecorder } from '../../controllers/framework/events.js';
import { schedulingGroup, typesGroup, type ClusterOverride, type FederatedResource, type ReplicaSchedulingPreference } from '../api.js';
import type { FederationControllerDeps } from '../members.js';

export type { FederationControllerDeps };
import { planReplicas, type ReplicaPlan } from './planner.js';

export const replicaSchedulingPreferencesRef: ResourceRef = { group: schedulingGroup, version: 'v1alpha1', resource: 'replicaschedulingpreferences', namespaced: true, kind: 'ReplicaSchedulingPreference' };
export const federatedDeploymentsRef: ResourceRef = { group: typesGroup, version: 'v1beta1', resource: 'federateddeployments', namespaced: true, kind: 'FederatedDeployment' };
export const federatedReplicaSetsRef: ResourceRef = { group: typesGroup, version: 'v1beta1', resource: 'federatedreplicasets', namespaced: true, kind: 'FederatedReplicaSet' };

const replicasPath = '/spec/replicas';
const component = 'replicaschedulingpreference-controller';

function targetRef(rsp: ReplicaSchedulingPreference): ResourceRef | undefined {
  if (rsp.spec?.targetKind === 'FederatedDeployment') return federatedDeploymentsRef;
  if (rsp.spec?.targetKind === 'FederatedReplicaSet') return federatedReplicaSetsRef;
  return undefined;
}

/** Replicas each placed cluster runs as far as the federated object says (override, else the template's). */
export function currentReplicas(target: FederatedResource): ReplicaPlan {
  const fromTemplate = typeof target.spec?.template?.spec?.replicas === 'number' ? target.spec.template.spec.replicas : 1;
  const current: ReplicaPlan = {};
  for (const { name } of target.spec?.placement?.clusters ?? []) {
    const override = target.spec?.overrides?.find((o) => o.clusterName === name)?.clusterOverrides?.find((o) => o.path === replicasPath && (o.op ?? 'replace') !== 'remove');
    current[name] = typeof override?.value === 'number' ? override.value : fromTemplate;
  }
  return current;
}

/**
 * The federated object's spec with the plan applied: placement lists exactly the planned
 * clusters; `/spec/replicas` overrides follow the plan; every other override is kept as it was.
 */
export function applyPlan(spec: FederatedResource['spec'], plan: ReplicaPlan): FederatedResource['spec'] {
  const names = Object.keys(plan).sort();
  const overrides: NonNullable<FederatedResource['spec']['overrides']> = [];
  const seen = new Set<string>();
  for (const entry of spec.overrides ?? []) {
    const kept: ClusterOverride[] = (entry.clusterOverrides ?? []).filter((o) => o.path !== replicasPath);
    if (entry.clusterName in plan && !seen.has(entry.clusterName)) {
      kept.push({ path: replicasPath, value: plan[entry.clusterName] });
      seen.add(entry.clusterName);
    }
    if (kept.length > 0) overrides.push({ ...entry, clusterOverrides: kept });
  }
  for (const name of names) {
    if (!seen.has(name)) overrides.push({ clusterName: name, clusterOverrides: [{ path: replicasPath, value: plan[name] }] });
  }
  const next: FederatedResource['spec'] = { ...spec, placement: { ...spec.placement, clusters: names.map((name) => ({ name })) } };
  if (overrides.length > 0) next.overrides = overrides;
  else delete next.overrides;
  return next;
}

function sameSpec(a: FederatedResource['spec'], b: FederatedResource['spec']): boolean {
  const placed = (s: FederatedResource['spec']) => (s.placement?.clusters ?? []).map((c) => c.name).sort();
  return JSON.stringify(placed(a)) === JSON.stringify(placed(b)) && JSON.stringify(a.overrides ?? []) === JSON.stringify(b.overrides ?? []);
}

const describePlan = (plan: ReplicaPlan) =>
  Object.keys(plan)
    .sort()
    .map((name) => `${name}=${plan[name]}`)
    .join(', ');

export function createReplicaSchedulingController(deps: FederationControllerDeps): { stop(): void; controller: Controller } {
  const stopping = new AbortController();
  const stopAll = () => stopping.abort();
  if (deps.signal.aborted) stopAll();
  else deps.signal.addEventListener('abort', stopAll, { once: true });

  const factory = new SharedInformerFactory(deps.host, { clock: deps.clock, logger: deps.logger });
  const preferences = factory.forResource<ReplicaSchedulingPreference>(replicaSchedulingPreferencesRef);
  const targets: Record<string, SharedIndexInformer<FederatedResource>> = {
    FederatedDeployment: factory.forResource<FederatedResource>(federatedDeploymentsRef),
    FederatedReplicaSet: factory.forResource<FederatedResource>(federatedReplicaSetsRef),
  };
  const recorder = createEventRecorder({ client: deps.host, component, clock: deps.clock, logger: deps.logger });

  async function reconcile(key: string): Promise<void> {
    const rsp = preferences.getIndexer().get(key);
    if (!rsp || rsp.metadata.deletionTimestamp) return;
    const ref = targetRef(rsp);
    if (!ref) return;
    const ready = deps.members
      .list()
      .filter((m) => m.ready)
      .map((m) => m.name);
    // With no member reachable there is nowhere to move replicas to; emptying the placement
    // would only make the sync controller delete them everywhere once members come back.
    if (ready.length === 0) return;
    const resource = deps.host.resource<FederatedResource>(ref);
    const { namespace, name } = splitObjectKey(key);
    let changedTo: ReplicaPlan | undefined;
    await retryOnConflict(
      async () => {
        // Read live, not from a cache: the write below must be based on the latest spec (other
        // writers edit the same object), and the target type's informer may never sync when
        // its CRD is not installed.
        let target: FederatedResource;
        try {
          target = await resource.get(namespace, name);
        } catch (e) {
          if (isNotFound(e)) return; // its creation enqueues this key again
          throw e;
        }
        const current = currentReplicas(target);
        const plan = planReplicas(rsp.spec.totalReplicas ?? 0, rsp.spec.clusters, ready, current, rsp.spec.rebalance ?? false);
        const spec = applyPlan(target.spec, plan);
        if (sameSpec(spec, target.spec)) return;
        await resource.update({ ...target, spec });
        if (describePlan(plan) !== describePlan(current)) changedTo = plan;
      },
      undefined,
      deps.clock,
    );
    if (changedTo) {
      deps.logger('info', 'replicas scheduled', { controller: component, object: key, plan: describePlan(changedTo) });
      recorder.event(rsp, 'Normal', 'ReplicasScheduled', `Scheduled ${rsp.spec.totalReplicas} replicas of ${rsp.spec.targetKind} ${name}: ${describePlan(changedTo)}`);
    }
  }

  const controller = new Controller({ name: component, clock: deps.clock, logger: deps.logger, reconciler: { reconcile: async (key) => void (await reconcile(key)) } });
  controller.watch(preferences);
  // Not controller.watch: that would hold every reconcile until both target informers synced,
  // and a FederatedReplicaSet CRD that is not installed never syncs.
  for (const informer of Object.values(targets)) {
    const enqueue = (obj: FederatedResource) => obj?.metadata && controller.enqueue(objectKey(obj));
    informer.addEventHandler({ onAdd: enqueue, onUpdate: (_old, obj) => enqueue(obj), onDelete: (obj) => enqueue(objectFromDeleted(obj)) });
  }
  const enqueueAll = () => {
    for (const rsp of preferences.getIndexer().list()) controller.enqueue(objectKey(rsp));
  };
  const unsubscribe = deps.members.onChange(enqueueAll);
  stopping.signal.addEventListener('abort', unsubscribe, { once: true });

  factory.start(stopping.signal);
  controller.start(stopping.signal).catch((e) => deps.logger('error', 'controller stopped', { controller: component, error: String(e) }));
  return { stop: stopAll, controller };
}
