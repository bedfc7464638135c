// Subresources with their own semantics: scale (Deployments, ReplicaSets, StatefulSets,
// ReplicationControllers, CRDs), pods/binding, pods/eviction (honouring PodDisruptionBudgets).
import type { KubeObject } from '../api/types.js';
import { labelSelectorMatches, formatLabelSelector } from '../api/selectors/labels.js';
import { ApiError, badRequest, conflict, invalid, methodNotAllowed, notFound, successStatus, tooManyRequests } from './errors.js';
import type { ApiRequest, ApiResponse, SubresourceHandler } from './handler.js';
import type { ResourceRegistry, ServedResource } from './registry.js';
import type { RequestContext, ResourceStore } from './resource-store.js';
import YAML from 'yaml';

function bodyOf(request: ApiRequest): KubeObject {
  const b = request.body;
  if (Buffer.isBuffer(b)) {
    try {
      const text = b.toString('utf8');
      return (request.headers['content-type'] ?? '').includes('yaml') ? YAML.parse(text) : JSON.parse(text);
    } catch (e) {
      throw badRequest(`error decoding request body: ${(e as Error).message}`);
    }
  }
  return b as KubeObject;
}

function readPath(obj: KubeObject, path: string): unknown {
  let cur: unknown = obj;
  for (const p of path.replace(/^\./, '').split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function writePath(obj: KubeObject, path: string, value: unknown): void {
  const parts = path.replace(/^\./, '').split('.');
  let cur = obj as Record<string, unknown>;
  for (const p of parts.slice(0, -1)) {
    if (typeof cur[p] !== 'object' || cur[p] === null) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}

const defaultScalePaths = { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' };

function toScale(resource: ServedResource, object: KubeObject): KubeObject {
  const paths = resource.scale ?? defaultScalePaths;
  let selector = '';
  if (resource.custom && paths.labelSelectorPath) {
    selector = String(readPath(object, paths.labelSelectorPath) ?? '');
  } else if (object.spec?.selector) {
    // ReplicationControllers have a plain map selector; apps kinds a LabelSelector.
    selector = resource.kind === 'ReplicationController' ? Object.entries(object.spec.selector).map(([k, v]) => `${k}=${v}`).join(',') : formatLabelSelector(object.spec.selector);
  }
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: object.metadata.name,
      namespace: object.metadata.namespace,
      uid: object.metadata.uid,
      resourceVersion: object.metadata.resourceVersion,
      creationTimestamp: object.metadata.creationTimestamp,
    },
    spec: { replicas: Number(readPath(object, paths.specReplicasPath) ?? 0) },
    status: { replicas: Number(readPath(object, paths.statusReplicasPath) ?? 0), selector },
  };
}

export function subresourceHandlers(deps: { registry: () => ResourceRegistry; resources: () => ResourceStore; now: () => Date }): Record<string, SubresourceHandler> {
  const scale: SubresourceHandler = async (request, resource, info, context) => {
    const resources = deps.resources();
    const namespace = info.namespace;
    const paths = resource.scale ?? defaultScalePaths;
    if (info.verb === 'get') {
      return { status: 200, body: toScale(resource, await resources.get(resource, namespace, info.name)) };
    }
    if (info.verb === 'update' || info.verb === 'patch') {
      let replicas: number;
      let pinned: string | undefined;
      if (info.verb === 'update') {
        const scaleObject = bodyOf(request);
        replicas = scaleObject?.spec?.replicas;
        pinned = scaleObject?.metadata?.resourceVersion;
      } else {
        const current = toScale(resource, await resources.get(resource, namespace, info.name));
        const contentType = (request.headers['content-type'] ?? '').split(';')[0];
        const type = contentType === 'application/json-patch+json' ? 'json' : contentType === 'application/merge-patch+json' ? 'merge' : 'strategic';
        const patched = (await import('./patch-engines.js')).patchEngines()[type](current, bodyOf(request), undefined) as KubeObject;
        replicas = patched?.spec?.replicas;
        pinned = patched?.metadata?.resourceVersion !== current.metadata.resourceVersion ? patched?.metadata?.resourceVersion : undefined;
      }
      if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
        throw invalid('Scale.autoscaling', 'autoscaling', 'Scale', info.name, [{ type: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${replicas}: must be greater than or equal to 0` }]);
      }
      const current = await resources.get(resource, namespace, info.name);
      if (pinned && pinned !== current.metadata.resourceVersion) throw conflict(resource.group, resource.resource, info.name, 'the object has been modified; please apply your changes to the latest version and try again');
      writePath(current, paths.specReplicasPath, replicas);
      const { object } = await resources.update(resource, namespace, info.name, current, context);
      return { status: 200, body: toScale(resource, object) };
    }
    throw methodNotAllowed();
  };

  const binding: SubresourceHandler = async (request, resource, info, context) => {
    if (info.verb !== 'create') throw methodNotAllowed();
    return bind(deps.resources(), resource, info.namespace, info.name, bodyOf(request), context, deps.now);
  };

  const eviction: SubresourceHandler = async (request, resource, info, context) => {
    if (info.verb !== 'create') throw methodNotAllowed();
    return evict(deps.registry(), deps.resources(), resource, info.namespace, info.name, bodyOf(request), context, deps.now);
  };

  // PUT /api/v1/namespaces/<name>/finalize: the namespace controller removes "kubernetes" from
  // spec.finalizers once the namespace is empty; with none left, a terminating namespace goes.
  const finalize: SubresourceHandler = async (request, resource, info, context) => {
    if (info.verb !== 'update') throw methodNotAllowed();
    const body = bodyOf(request);
    const finalizers: string[] = Array.isArray(body?.spec?.finalizers) ? body.spec.finalizers : [];
    const resources = deps.resources();
    const updated = await resources.mutate(resource, '', info.name, (ns) => {
      ns.spec = { ...(ns.spec ?? {}), finalizers };
    }, context);
    if (updated.metadata.deletionTimestamp && finalizers.length === 0 && !(updated.metadata.finalizers?.length)) {
      await resources.delete(resource, '', info.name, {}, context).catch((e) => {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      });
    }
    return { status: 200, body: updated };
  };

  // PUT .../certificatesigningrequests/<name>/approval (kubectl certificate approve|deny): only the
  // Approved/Denied conditions change; the request itself is immutable.
  const approval: SubresourceHandler = async (request, resource, info, context) => {
    const resources = deps.resources();
    if (info.verb === 'get') return { status: 200, body: await resources.get(resource, '', info.name) };
    if (info.verb !== 'update') throw methodNotAllowed();
    const body = bodyOf(request);
    const conditions: KubeObject[] = body?.status?.conditions ?? [];
    for (const [i, c] of conditions.entries()) {
      if (!['Approved', 'Denied', 'Failed'].includes(c.type)) {
        throw invalid('CertificateSigningRequest.certificates.k8s.io', 'certificates.k8s.io', 'CertificateSigningRequest', info.name, [{ type: 'FieldValueNotSupported', field: `status.conditions[${i}].type`, message: `Unsupported value: "${c.type}": supported values: "Approved", "Denied", "Failed"` }]);
      }
    }
    if (conditions.some((c) => c.type === 'Approved') && conditions.some((c) => c.type === 'Denied')) {
      throw invalid('CertificateSigningRequest.certificates.k8s.io', 'certificates.k8s.io', 'CertificateSigningRequest', info.name, [{ type: 'FieldValueInvalid', field: 'status.conditions', message: 'Invalid value: "Approved": Approved and Denied conditions are mutually exclusive' }]);
    }
    const updated = await resources.mutate(resource, '', info.name, (csr) => {
      if (body?.metadata?.resourceVersion && body.metadata.resourceVersion !== csr.metadata.resourceVersion) {
        throw conflict(resource.group, resource.resource, info.name, 'the object has been modified; please apply your changes to the latest version and try again');
      }
      csr.status = { ...(csr.status ?? {}), conditions };
    }, context);
    return { status: 200, body: updated };
  };

  return {
    'certificates.k8s.io/certificatesigningrequests/approval': approval,
    '/namespaces/finalize': finalize,
    'apps/deployments/scale': scale,
    'apps/replicasets/scale': scale,
    'apps/statefulsets/scale': scale,
    '/replicationcontrollers/scale': scale,
    '*/*/scale': scale,
    '/pods/binding': binding,
    '/bindings/': binding,
    '/pods/eviction': eviction,
  };
}

async function bind(resources: ResourceStore, podsResource: ServedResource, namespace: string, podName: string, binding: KubeObject, context: RequestContext, now: () => Date): Promise<ApiResponse> {
  const name: string = podName || binding?.metadata?.name || "";
  const target = binding?.target;
  if (!target?.name) {
    throw invalid('Binding', '', 'Binding', name ?? '', [{ type: 'FieldValueRequired', field: 'target.name', message: 'Required value' }]);
  }
  // spec.nodeName is otherwise immutable: the binding writes through its own storage path, as in Kubernetes.
  await resources.mutate(podsResource, namespace, name, (pod) => {
    if (pod.metadata.deletionTimestamp) throw conflict('', 'pods', name, `pod ${name} is being deleted, cannot be assigned to a host`);
    if (pod.spec?.nodeName) throw conflict('', 'pods', name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
    if (binding.metadata?.uid && binding.metadata.uid !== pod.metadata.uid) {
      throw conflict('', 'pods', name, `Precondition failed: UID in precondition: ${binding.metadata.uid}, UID in object meta: ${pod.metadata.uid}`);
    }
    pod.spec.nodeName = target.name;
    for (const [k, v] of Object.entries(binding.metadata?.annotations ?? {})) {
      pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [k]: String(v) };
    }
    // The API server, not the scheduler, marks the pod scheduled when it binds it.
    const conditions = (pod.status?.conditions ?? []).filter((c: KubeObject) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now().toISOString().replace(/\.\d{3}Z$/, 'Z') });
    pod.status = { ...(pod.status ?? {}), conditions };
  }, context);
  return { status: 201, body: successStatus() };
}

async function evict(registry: ResourceRegistry, resources: ResourceStore, podsResource: ServedResource, namespace: string, name: string, eviction: KubeObject, context: RequestContext, now: () => Date): Promise<ApiResponse> {
  const pod = await resources.get(podsResource, namespace, name);
  const deleteOptions = eviction?.deleteOptions ?? {};
  const deleted = async () => {
    await resources.delete(podsResource, namespace, name, deleteOptions, context);
    return { status: 201, body: successStatus() };
  };
  // Pods that are done, or already going, need no budget.
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' || pod.metadata.deletionTimestamp) return deleted();
  const pdbResource = registry.lookup('policy', 'v1', 'poddisruptionbudgets');
  if (!pdbResource) return deleted();
  const { items } = await resources.list(pdbResource, namespace, {});
  const matching = items.filter((pdb) => pdb.spec?.selector && labelSelectorMatches(pdb.spec.selector, pod.metadata.labels ?? {}));
  if (matching.length > 1) {
    throw new ApiError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  }
  if (matching.length === 1) {
    const pdb = matching[0];
    const unhealthyOk = pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow' && !isReady(pod);
    if (!unhealthyOk) {
      if ((pdb.status?.observedGeneration ?? 0) < (pdb.metadata.generation ?? 1)) {
        throw tooManyRequests('Cannot evict pod as it would violate the pod\'s disruption budget.', 10);
      }
      const allowed = pdb.status?.disruptionsAllowed ?? 0;
      if (allowed <= 0) {
        throw new ApiError(429, 'TooManyRequests', 'Cannot evict pod as it would violate the pod\'s disruption budget.', {
          causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} needs ${pdb.status?.desiredHealthy ?? 0} healthy pods and has ${pdb.status?.currentHealthy ?? 0} currently`, field: '' }],
        });
      }
      // Record the disruption before deleting, so concurrent evictions see the reduced budget.
      pdb.status = {
        ...pdb.status,
        disruptionsAllowed: allowed - 1,
        disruptedPods: { ...(pdb.status?.disruptedPods ?? {}), [name]: now().toISOString().replace(/\.\d{3}Z$/, 'Z') },
      };
      try {
        await resources.update(pdbResource, namespace, pdb.metadata.name!, pdb, context, 'status');
      } catch (e) {
        if (e instanceof ApiError && e.code === 409) throw tooManyRequests('Cannot evict pod as it would violate the pod\'s disruption budget.', 1);
        throw e;
      }
    }
  }
  try {
    return await deleted();
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) throw notFound('', 'pods', name);
    throw e;
  }
}

function isReady(pod: KubeObject): boolean {
  return (pod.status?.conditions ?? []).some((c: KubeObject) => c.type === 'Ready' && c.status === 'True');
}
