// The federation API as CustomResourceDefinitions (apiextensions.k8s.io/v1), in the shapes
// kubefed's charts install, plus the default FederatedTypeConfigs `kubefedctl enable` would
// create for the federated types navarch ships. `navarch federation init` applies them to
// the host; the federation controllers start once kubefedclusters.core.kubefed.io exists.
import type { KubeObject } from '../api/types.js';
import type { FederatedTypeConfig } from './api.js';
import { coreGroup, federationSystemNamespace, multiclusterDnsGroup, schedulingGroup, typesGroup } from './api.js';

/** The CRD whose presence turns a cluster into a federation host. */
export const kubeFedClustersCrdName = `kubefedclusters.${coreGroup}`;

type Schema = Record<string, unknown>;

const freeForm: Schema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

const conditionsSchema: Schema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['type', 'status'],
    properties: {
      type: { type: 'string' },
      status: { type: 'string' },
      reason: { type: 'string' },
      message: { type: 'string' },
      lastProbeTime: { type: 'string', format: 'date-time' },
      lastUpdateTime: { type: 'string', format: 'date-time' },
      lastTransitionTime: { type: 'string', format: 'date-time' },
    },
  },
};

const labelSelectorSchema: Schema = {
  type: 'object',
  properties: {
    matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'operator'],
        properties: { key: { type: 'string' }, operator: { type: 'string' }, values: { type: 'array', items: { type: 'string' } } },
      },
    },
  },
};

const ageColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

interface CrdSpec {
  group: string;
  version: string;
  kind: string;
  plural: string;
  scope: 'Namespaced' | 'Cluster';
  schema: Schema;
  status?: boolean;
  columns?: { name: string; type: string; jsonPath: string; description?: string }[];
  shortNames?: string[];
  categories?: string[];
  /** kubefed lists Age before its own columns for KubeFedCluster. */
  ageFirst?: boolean;
}

function customResourceDefinition(spec: CrdSpec): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${spec.plural}.${spec.group}` },
    spec: {
      group: spec.group,
      scope: spec.scope,
      names: {
        kind: spec.kind,
        listKind: `${spec.kind}List`,
        plural: spec.plural,
        singular: spec.kind.toLowerCase(),
        ...(spec.shortNames ? { shortNames: spec.shortNames } : {}),
        ...(spec.categories ? { categories: spec.categories } : {}),
      },
      versions: [
        {
          name: spec.version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: spec.schema },
          ...(spec.status === false ? {} : { subresources: { status: {} } }),
          additionalPrinterColumns: spec.ageFirst ? [ageColumn, ...(spec.columns ?? [])] : [...(spec.columns ?? []), ageColumn],
        },
      ],
    },
  } as KubeObject;
}

function objectSchema(properties: Record<string, Schema>, required?: string[]): Schema {
  return {
    type: 'object',
    properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...properties },
    ...(required ? { required } : {}),
  };
}

const kubeFedClusterCrd = customResourceDefinition({
  group: coreGroup,
  version: 'v1beta1',
  kind: 'KubeFedCluster',
  plural: 'kubefedclusters',
  scope: 'Namespaced',
  ageFirst: true,
  columns: [{ name: 'Ready', type: 'string', jsonPath: ".status.conditions[?(@.type=='Ready')].status" }],
  schema: objectSchema(
    {
      spec: {
        type: 'object',
        required: ['apiEndpoint', 'secretRef'],
        properties: {
          apiEndpoint: { type: 'string' },
          caBundle: { type: 'string', format: 'byte' },
          secretRef: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
          disabledTLSValidations: { type: 'array', items: { type: 'string' } },
          proxyURL: { type: 'string' },
        },
      },
      status: {
        type: 'object',
        properties: { conditions: conditionsSchema, zones: { type: 'array', items: { type: 'string' } }, region: { type: 'string' } },
      },
    },
    ['spec'],
  ),
});

const typeRefSchema: Schema = {
  type: 'object',
  required: ['kind', 'pluralName', 'scope', 'version'],
  properties: {
    group: { type: 'string' },
    version: { type: 'string' },
    kind: { type: 'string' },
    pluralName: { type: 'string' },
    scope: { type: 'string' },
  },
};

const federatedTypeConfigCrd = customResourceDefinition({
  group: coreGroup,
  version: 'v1beta1',
  kind: 'FederatedTypeConfig',
  plural: 'federatedtypeconfigs',
  scope: 'Namespaced',
  shortNames: ['ftc'],
  schema: objectSchema(
    {
      spec: {
        type: 'object',
        required: ['federatedType', 'propagation', 'targetType'],
        properties: {
          targetType: typeRefSchema,
          federatedType: typeRefSchema,
          propagation: { type: 'string', enum: ['Enabled', 'Disabled'] },
          statusCollection: { type: 'string', enum: ['Enabled', 'Disabled'] },
          statusType: typeRefSchema,
        },
      },
      status: freeForm,
    },
    ['spec'],
  ),
});

/** The federated types navarch ships: target kind → its place in the API. */
export const federatedTargets: { kind: string; group: string; version: string; plural: string; scope: 'Namespaced' | 'Cluster' }[] = [
  { kind: 'Namespace', group: '', version: 'v1', plural: 'namespaces', scope: 'Cluster' },
  { kind: 'ConfigMap', group: '', version: 'v1', plural: 'configmaps', scope: 'Namespaced' },
  { kind: 'Secret', group: '', version: 'v1', plural: 'secrets', scope: 'Namespaced' },
  { kind: 'ServiceAccount', group: '', version: 'v1', plural: 'serviceaccounts', scope: 'Namespaced' },
  { kind: 'Deployment', group: 'apps', version: 'v1', plural: 'deployments', scope: 'Namespaced' },
  { kind: 'Service', group: '', version: 'v1', plural: 'services', scope: 'Namespaced' },
];

const overrideSchema: Schema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['clusterName'],
    properties: {
      clusterName: { type: 'string' },
      clusterOverrides: {
        type: 'array',
        items: {
          type: 'object',
          required: ['path'],
          properties: { op: { type: 'string', enum: ['add', 'remove', 'replace'] }, path: { type: 'string' }, value: { 'x-kubernetes-preserve-unknown-fields': true } },
        },
      },
    },
  },
};

const federatedStatusSchema: Schema = {
  type: 'object',
  properties: {
    observedGeneration: { type: 'integer', format: 'int64' },
    conditions: conditionsSchema,
    clusters: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, status: { type: 'string' } } } },
  },
};

function federatedTypeCrd(target: (typeof federatedTargets)[number]): KubeObject {
  return customResourceDefinition({
    group: typesGroup,
    version: 'v1beta1',
    kind: `Federated${target.kind}`,
    plural: `federated${target.plural}`,
    // A FederatedNamespace lives in the namespace it federates (kubefed's convention), so every federated type is namespaced.
    scope: 'Namespaced',
    categories: ['federated'],
    schema: objectSchema({
      spec: {
        type: 'object',
        properties: {
          template: freeForm,
          placement: {
            type: 'object',
            properties: {
              clusters: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } },
              clusterSelector: labelSelectorSchema,
            },
          },
          overrides: overrideSchema,
        },
      },
      status: federatedStatusSchema,
    }),
  });
}

const replicaSchedulingPreferenceCrd = customResourceDefinition({
  group: schedulingGroup,
  version: 'v1alpha1',
  kind: 'ReplicaSchedulingPreference',
  plural: 'replicaschedulingpreferences',
  scope: 'Namespaced',
  shortNames: ['rsp'],
  schema: objectSchema(
    {
      spec: {
        type: 'object',
        required: ['targetKind', 'totalReplicas'],
        properties: {
          targetKind: { type: 'string' },
          totalReplicas: { type: 'integer', format: 'int32' },
          rebalance: { type: 'boolean' },
          clusters: {
            type: 'object',
            additionalProperties: {
              type: 'object',
              properties: { minReplicas: { type: 'integer', format: 'int64' }, maxReplicas: { type: 'integer', format: 'int64' }, weight: { type: 'integer', format: 'int64' } },
            },
          },
        },
      },
      status: freeForm,
    },
    ['spec'],
  ),
});

const domainCrd = customResourceDefinition({
  group: multiclusterDnsGroup,
  version: 'v1alpha1',
  kind: 'Domain',
  plural: 'domains',
  scope: 'Namespaced',
  status: false,
  columns: [{ name: 'Domain', type: 'string', jsonPath: '.domain' }],
  schema: objectSchema({ domain: { type: 'string' }, nameServer: { type: 'string' } }, ['domain']),
});

const serviceDnsRecordCrd = customResourceDefinition({
  group: multiclusterDnsGroup,
  version: 'v1alpha1',
  kind: 'ServiceDNSRecord',
  plural: 'servicednsrecords',
  scope: 'Namespaced',
  schema: objectSchema({
    spec: {
      type: 'object',
      properties: {
        domainRef: { type: 'string' },
        recordTTL: { type: 'integer', format: 'int64' },
        dnsPrefix: { type: 'string' },
        externalName: { type: 'string' },
        allowServiceWithoutEndpoints: { type: 'boolean' },
      },
    },
    status: freeForm,
  }),
});

const dnsEndpointCrd = customResourceDefinition({
  group: multiclusterDnsGroup,
  version: 'v1alpha1',
  kind: 'DNSEndpoint',
  plural: 'dnsendpoints',
  scope: 'Namespaced',
  schema: objectSchema({
    spec: {
      type: 'object',
      properties: {
        endpoints: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              dnsName: { type: 'string' },
              recordTTL: { type: 'integer', format: 'int64' },
              recordType: { type: 'string' },
              targets: { type: 'array', items: { type: 'string' } },
              labels: { type: 'object', additionalProperties: { type: 'string' } },
            },
          },
        },
      },
    },
    status: { type: 'object', properties: { observedGeneration: { type: 'integer', format: 'int64' } } },
  }),
});

/** Every CRD of the federation API, KubeFedCluster first. */
export function federationCustomResourceDefinitions(): KubeObject[] {
  return [
    kubeFedClusterCrd,
    federatedTypeConfigCrd,
    ...federatedTargets.map(federatedTypeCrd),
    replicaSchedulingPreferenceCrd,
    domainCrd,
    serviceDnsRecordCrd,
    dnsEndpointCrd,
  ].map((crd) => structuredClone(crd));
}

/** FederatedTypeConfigs named like kubefed's (`deployments.apps`, `namespaces`), propagation Enabled. */
export function defaultFederatedTypeConfigs(): FederatedTypeConfig[] {
  return federatedTargets.map((target) => ({
    apiVersion: `${coreGroup}/v1beta1`,
    kind: 'FederatedTypeConfig',
    metadata: { name: target.group ? `${target.plural}.${target.group}` : target.plural, namespace: federationSystemNamespace },
    spec: {
      targetType: { ...(target.group ? { group: target.group } : {}), version: target.version, kind: target.kind, pluralName: target.plural, scope: target.scope },
      federatedType: { group: typesGroup, version: 'v1beta1', kind: `Federated${target.kind}`, pluralName: `federated${target.plural}`, scope: 'Namespaced' },
      propagation: 'Enabled',
    },
  }));
}
