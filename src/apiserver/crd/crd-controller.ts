// The apiextensions side of the API server: watches CustomResourceDefinitions through the
// server's own API (an in-process client, as kube-apiserver's apiextensions controllers use a
// loopback client) and serves, for each served version, a resource with the CRD's names, scope,
// subresources, schema (validation, defaulting, pruning) and printer columns. It reports
// NamesAccepted/Established and acceptedNames/storedVersions in the CRD's status, and on deletion
// removes every custom resource (finalizer customresourcecleanup.apiextensions.k8s.io) before
// the resources stop being served.
import type { FieldError, KubeObject, SchemaNode } from '../../api/types.js';
import { groupKind } from '../../api/types.js';
import { schemaForCustomResource } from '../../api/schema/index.js';
import { validateObject } from '../../api/validation/index.js';
import type { Client, ResourceRef } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { systemClock } from '../../client/clock.js';
import { Controller } from '../../client/controller.js';
import { isConflict, isNotFound } from '../../client/errors.js';
import { SharedIndexInformer, stderrLogger, type Logger } from '../../client/informer.js';
import { deepEqual } from '../../util/json.js';
import type { ResourceRegistry, ServedResource } from '../registry.js';
import { printerForColumns, type PrinterColumn } from './printer.js';
import { applySchemaDefaults } from './schema-defaults.js';
import { validateCustomResource } from './schema-validation.js';

export const cleanupFinalizer = 'customresourcecleanup.apiextensions.k8s.io';

export const customResourceDefinitionsRef: ResourceRef = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  resource: 'customresourcedefinitions',
  namespaced: false,
  kind: 'CustomResourceDefinition',
};

const customResourceVerbs = ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'];

export interface ServedResourcesOptions {
  /** ObjectMeta's schema, so metadata of custom resources is pruned and tracked like built-ins'. */
  objectMeta?: SchemaNode;
}

/** The resources one CRD serves: one per served version, all sharing the storage version's prefix. */
export function servedResourcesFor(crd: KubeObject, options: ServedResourcesOptions = {}): ServedResource[] {
  const spec = crd.spec ?? {};
  const names = spec.names ?? {};
  const group: string = spec.group;
  const plural: string = names.plural;
  const kind: string = names.kind;
  if (!group || !plural || !kind) return [];
  const versions: KubeObject[] = Array.isArray(spec.versions) ? spec.versions : [];
  const storageVersion = versions.find((v) => v?.storage === true)?.name ?? versions[0]?.name;
  const out: ServedResource[] = [];
  for (const v of versions) {
    if (!v?.served || !v.name) continue;
    const openAPIV3Schema = v.schema?.openAPIV3Schema;
    // Validation and defaulting read the CRD's own schema; pruning, apply and patching the full
    // object schema, with metadata described by ObjectMeta.
    const ownSchema = schemaForCustomResource(openAPIV3Schema);
    const objectSchema = schemaForCustomResource(openAPIV3Schema, { objectMeta: options.objectMeta });
    const subresources: string[] = [];
    if (v.subresources?.status) subresources.push('status');
    const scale = v.subresources?.scale;
    if (scale) subresources.push('scale');
    out.push({
      group,
      version: v.name,
      kind,
      resource: plural,
      singular: names.singular || kind.toLowerCase(),
      namespaced: spec.scope !== 'Cluster',
      shortNames: names.shortNames?.length ? [...names.shortNames] : undefined,
      categories: names.categories?.length ? [...names.categories] : undefined,
      verbs: customResourceVerbs,
      subresources,
      scale: scale
        ? { specReplicasPath: scale.specReplicasPath, statusReplicasPath: scale.statusReplicasPath, labelSelectorPath: scale.labelSelectorPath }
        : undefined,
      groupKind: groupKind(group, kind),
      storagePrefix: `/registry/${group}/${plural}/`,
      storageVersion,
      custom: {
        crdName: crd.metadata.name!,
        schema: objectSchema,
        printer: printerForColumns(v.additionalPrinterColumns as PrinterColumn[] | undefined),
        preserveUnknownFields: spec.preserveUnknownFields === true,
        // ObjectMeta first (names are DNS subdomains, as for any custom resource), then the schema.
        validate: (obj: KubeObject): FieldError[] => [
          ...validateObject(groupKind(group, kind), obj, { namespaced: spec.scope !== 'Cluster' }),
          ...validateCustomResource(obj, ownSchema),
        ],
        applyDefaults: (obj: KubeObject): void => applySchemaDefaults(obj, ownSchema),
      },
    });
  }
  return out;
}

function isEstablished(crd: KubeObject): boolean {
  return (crd.status?.conditions ?? []).some((c: KubeObject) => c.type === 'Established' && c.status === 'True');
}

export interface CustomResourceDefinitionControllerOptions extends ServedResourcesOptions {
  registry: ResourceRegistry;
  /** A client of this same API server (in-process transport, acting as the API server itself). */
  client: Client;
  clock?: Clock;
  logger?: Logger;
  /** How soon to look again while custom resources of a deleted CRD are still going (finalizers). */
  cleanupRetryMs?: number;
}

/** A CRD status condition. */
interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

export class CustomResourceDefinitionController {
  private readonly informer: SharedIndexInformer;
  private readonly controller: Controller;
  private readonly clock: Clock;
  /** CRD name → the resources it currently serves. */
  private readonly served = new Map<string, ServedResource[]>();
  /** CRDs present when the informer first synced, and those reconciled since: readiness waits for the former. */
  private initial: Set<string> | undefined;
  private readonly reconciled = new Set<string>();

  constructor(private readonly options: CustomResourceDefinitionControllerOptions) {
    this.clock = options.clock ?? systemClock();
    const logger = options.logger ?? stderrLogger;
    this.informer = new SharedIndexInformer(options.client.resource(customResourceDefinitionsRef), { clock: this.clock, logger });
    this.controller = new Controller({ name: 'customresourcedefinition', reconciler: { reconcile: (key) => this.reconcile(key) }, clock: this.clock, logger, workers: 1 });
    // A CRD's name acceptance depends on the other CRDs of its group, so any change re-checks them all.
    this.controller.watch(this.informer, {
      mapToKeys: (crd) => this.informer.getIndexer().list().filter((o) => o.spec?.group === crd.spec?.group).map((o) => o.metadata.name!).concat(crd.metadata.name!),
    });
  }

  /** Runs until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    await Promise.all([this.informer.run(signal), this.controller.start(signal)]);
  }

  /** True once every CRD that existed at start has been reconciled once (kube-apiserver's crd-informer-synced). */
  hasSynced(): boolean {
    if (!this.informer.hasSynced()) return false;
    this.initial ??= new Set(this.informer.getIndexer().list().map((crd) => crd.metadata.name!));
    for (const name of this.initial) if (!this.reconciled.has(name)) return false;
    return true;
  }

  /** Established CRDs, for OpenAPI. */
  customResourceDefinitions(): KubeObject[] {
    return this.informer.getIndexer().list().filter((crd) => isEstablished(crd) && !crd.metadata.deletionTimestamp && this.served.has(crd.metadata.name!));
  }

  async reconcile(name: string): Promise<{ requeueAfterMs?: number } | void> {
    const result = await this.reconcileOnce(name);
    this.reconciled.add(name);
    return result;
  }

  private async reconcileOnce(name: string): Promise<{ requeueAfterMs?: number } | void> {
    const crd = this.informer.getIndexer().get(name);
    if (!crd) {
      this.serve(name, []);
      return;
    }
    if (crd.metadata.deletionTimestamp) return this.finalize(crd);

    const conflict = this.nameConflict(crd);
    if (conflict) {
      await this.writeStatus(crd, {
        conditions: [
          { type: 'NamesAccepted', status: 'False', reason: conflict.reason, message: conflict.message },
          { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' },
        ],
      });
      return;
    }
    this.serve(name, servedResourcesFor(crd, this.options));
    if (!(crd.metadata.finalizers ?? []).includes(cleanupFinalizer)) {
      await this.options.client
        .resource(customResourceDefinitionsRef)
        .patch(undefined, name, 'merge', { metadata: { finalizers: [...(crd.metadata.finalizers ?? []), cleanupFinalizer], resourceVersion: crd.metadata.resourceVersion } })
        .catch((e) => {
          if (!isConflict(e) && !isNotFound(e)) throw e;
        });
      // The informer brings the new version back; status is written from it.
      return;
    }
    const spec = crd.spec;
    const storageVersion = (spec.versions ?? []).find((v: KubeObject) => v?.storage === true)?.name;
    const storedVersions: string[] = [...(crd.status?.storedVersions ?? [])];
    if (storageVersion && !storedVersions.includes(storageVersion)) storedVersions.push(storageVersion);
    await this.writeStatus(crd, {
      acceptedNames: acceptedNamesOf(crd),
      storedVersions,
      conditions: [
        { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' },
        { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
      ],
    });
  }

  /** Serving stops only when no custom resources are left, so their finalizers can still be removed. */
  private async finalize(crd: KubeObject): Promise<{ requeueAfterMs?: number } | void> {
    const name = crd.metadata.name!;
    if (!(crd.metadata.finalizers ?? []).includes(cleanupFinalizer)) {
      this.serve(name, []);
      return;
    }
    await this.writeStatus(crd, {
      conditions: [{ type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' }],
    });
    // While its objects go, nothing new may be created (kube-apiserver answers 405 the same way).
    const resources = (this.served.get(name) ?? []).map((r) => ({ ...r, verbs: r.verbs.filter((v) => v !== 'create') }));
    this.serve(name, resources);
    const storage = resources.find((r) => r.version === r.storageVersion) ?? resources[0];
    if (storage) {
      const client = this.options.client.resource({ group: storage.group, version: storage.version, resource: storage.resource, namespaced: storage.namespaced, kind: storage.kind });
      const { items } = await client.listAll();
      if (items.length > 0) {
        const namespaces = [...new Set(items.map((o) => o.metadata.namespace ?? ''))];
        for (const namespace of namespaces) await client.deleteCollection(storage.namespaced ? namespace : undefined);
        const left = await client.listAll();
        if (left.items.length > 0) return { requeueAfterMs: this.options.cleanupRetryMs ?? 1000 };
      }
    }
    this.serve(name, []);
    await this.options.client
      .resource(customResourceDefinitionsRef)
      .patch(undefined, name, 'merge', {
        metadata: { finalizers: (crd.metadata.finalizers ?? []).filter((f: string) => f !== cleanupFinalizer), resourceVersion: crd.metadata.resourceVersion },
      })
      .catch((e) => {
        // Conflict: a newer version comes through the informer and is reconciled again.
        if (!isNotFound(e) && !isConflict(e)) throw e;
      });
  }

  /** Registers `resources` for the CRD, removing the versions it no longer serves. */
  private serve(crdName: string, resources: ServedResource[]): void {
    const before = this.served.get(crdName) ?? [];
    for (const old of before) {
      if (!resources.some((r) => r.group === old.group && r.version === old.version && r.resource === old.resource)) {
        this.options.registry.remove(old.group, old.version, old.resource);
      }
    }
    for (const r of resources) this.options.registry.add(r);
    if (resources.length) this.served.set(crdName, resources);
    else this.served.delete(crdName);
  }

  /** Names another CRD of the group has already been given, or a built-in resource of the group uses. */
  private nameConflict(crd: KubeObject): { reason: string; message: string } | undefined {
    const { group, names } = crd.spec ?? {};
    const plural = names?.plural;
    const kind = names?.kind;
    const others = this.informer.getIndexer().list().filter((o) => o.metadata.name !== crd.metadata.name && o.spec?.group === group);
    for (const other of others) {
      const accepted = other.status?.acceptedNames ?? {};
      // Only names already accepted elsewhere conflict; ties go to the older CRD.
      const older = (other.metadata.creationTimestamp ?? '') < (crd.metadata.creationTimestamp ?? '') || (other.metadata.creationTimestamp === crd.metadata.creationTimestamp && other.metadata.name! < crd.metadata.name!);
      if (!isEstablished(other) && !older) continue;
      if (accepted.plural === plural || other.spec?.names?.plural === plural) return { reason: 'PluralConflict', message: `"${plural}" is already in use` };
      if (accepted.kind === kind || other.spec?.names?.kind === kind) return { reason: 'KindConflict', message: `"${kind}" is already in use` };
    }
    for (const r of this.options.registry.all()) {
      if (r.custom || r.group !== group) continue;
      if (r.resource === plural) return { reason: 'PluralConflict', message: `"${plural}" is already in use` };
      if (r.kind === kind) return { reason: 'KindConflict', message: `"${kind}" is already in use` };
    }
    return undefined;
  }

  /** Merges conditions (keeping lastTransitionTime when a status does not change) and writes status if anything differs. */
  private async writeStatus(crd: KubeObject, change: { conditions: Condition[]; acceptedNames?: Record<string, unknown>; storedVersions?: string[] }): Promise<void> {
    const now = new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const current: Condition[] = crd.status?.conditions ?? [];
    const conditions: Condition[] = current.map((c) => ({ ...c }));
    for (const wanted of change.conditions) {
      const existing = conditions.find((c) => c.type === wanted.type);
      if (existing) {
        if (existing.status !== wanted.status) existing.lastTransitionTime = now;
        existing.status = wanted.status;
        existing.reason = wanted.reason;
        existing.message = wanted.message;
      } else {
        conditions.push({ ...wanted, lastTransitionTime: now });
      }
    }
    const status = {
      ...(crd.status ?? {}),
      conditions,
      acceptedNames: change.acceptedNames ?? crd.status?.acceptedNames ?? { kind: '', plural: '' },
      storedVersions: change.storedVersions ?? crd.status?.storedVersions ?? [],
    };
    if (deepEqual(status, crd.status)) return;
    try {
      await this.options.client.resource(customResourceDefinitionsRef).updateStatus({ ...crd, status });
    } catch (e) {
      // A newer version is on its way through the informer and will be reconciled.
      if (!isConflict(e) && !isNotFound(e)) throw e;
    }
  }
}

function acceptedNamesOf(crd: KubeObject): Record<string, unknown> {
  const names = crd.spec?.names ?? {};
  const accepted: Record<string, unknown> = { plural: names.plural, singular: names.singular || String(names.kind).toLowerCase(), kind: names.kind, listKind: names.listKind || `${names.kind}List` };
  if (names.shortNames?.length) accepted.shortNames = [...names.shortNames];
  if (names.categories?.length) accepted.categories = [...names.categories];
  return accepted;
}
