// The federation API, in KubeFed's documented shapes (the modern form of Kubernetes 1.3's
// "Ubernetes" federation): member clusters, federated types with template/placement/overrides,
// replica scheduling preferences and multi-cluster DNS. These objects live in the *host*
// cluster as custom resources (installed by `navarch federation init`); every controller in
// this folder is an API client of the host and of each member cluster.
import type { KubeObject, ObjectMeta } from '../api/types.js';

/** Namespace of KubeFedCluster objects, their credential Secrets and Domains (kubefed's default). */
export const federationSystemNamespace = 'kube-federation-system';
/** Label on every object the sync controller created in a member cluster. */
export const managedLabel = 'kubefed.io/managed';

export const coreGroup = 'core.kubefed.io';
export const typesGroup = 'types.kubefed.io';
export const schedulingGroup = 'scheduling.kubefed.io';
export const multiclusterDnsGroup = 'multiclusterdns.kubefed.io';

export interface FederationCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastProbeTime?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

/** core.kubefed.io/v1beta1 KubeFedCluster: one member cluster and how to reach it. */
export interface KubeFedCluster extends KubeObject {
  metadata: ObjectMeta;
  spec: {
    /** https://host:port of the member's API server. */
    apiEndpoint: string;
    /** Base64 PEM of the CA that signed the member's serving certificate. */
    caBundle?: string;
    /** Secret in kube-federation-system whose `token` key is a bearer token for the member. */
    secretRef: { name: string };
    disabledTLSValidations?: string[];
  };
  status?: {
    /** Ready True/False/Unknown (reasons ClusterReady, ClusterNotReady, ClusterNotReachable); Offline True when unreachable. */
    conditions?: FederationCondition[];
    zones?: string[];
    region?: string;
  };
}

/** core.kubefed.io/v1beta1 FederatedTypeConfig: which target type a Federated<Kind> propagates. */
export interface FederatedTypeConfig extends KubeObject {
  spec: {
    targetType: { group?: string; version: string; kind: string; pluralName: string; scope: 'Namespaced' | 'Cluster' };
    federatedType: { group: string; version: string; kind: string; pluralName: string; scope: 'Namespaced' | 'Cluster' };
    propagation: 'Enabled' | 'Disabled';
    statusCollection?: 'Enabled' | 'Disabled';
  };
}

export interface ClusterOverride {
  /** JSON-pointer path into the target object, e.g. "/spec/replicas". */
  path: string;
  /** add, remove or replace (default replace). */
  op?: 'add' | 'remove' | 'replace';
  value?: unknown;
}

export interface Placement {
  clusters?: { name: string }[];
  /** Used only when `clusters` is absent; an empty selector selects every member. */
  clusterSelector?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
}

/** types.kubefed.io/v1beta1 Federated<Kind> (FederatedDeployment, FederatedService, …). */
export interface FederatedResource extends KubeObject {
  spec: {
    /** The target object without apiVersion/kind/name/namespace (those come from the federated object). */
    template: Record<string, any>;
    placement?: Placement;
    overrides?: { clusterName: string; clusterOverrides: ClusterOverride[] }[];
  };
  status?: {
    observedGeneration?: number;
    /** Propagation True when every placed cluster has the current version. */
    conditions?: FederationCondition[];
    /** One entry per placed cluster; `status` is set only when propagation there failed (e.g. ClusterNotReady, CreationFailed, UpdateFailed). */
    clusters?: { name: string; status?: string }[];
  };
}

/** scheduling.kubefed.io/v1alpha1 ReplicaSchedulingPreference: spreads a FederatedDeployment's replicas. */
export interface ReplicaSchedulingPreference extends KubeObject {
  spec: {
    targetKind: 'FederatedDeployment' | 'FederatedReplicaSet';
    totalReplicas: number;
    /** Move replicas already running when a better spread is possible. */
    rebalance?: boolean;
    /** Per member name, or "*" for every member not named. */
    clusters?: Record<string, { minReplicas?: number; maxReplicas?: number; weight?: number }>;
  };
}

/** multiclusterdns.kubefed.io/v1alpha1 Domain: the DNS zone federated services are published in (fields at top level, as in kubefed). */
export interface Domain extends KubeObject {
  domain: string;
  nameServer?: string;
}

/** multiclusterdns.kubefed.io/v1alpha1 ServiceDNSRecord: publish a (federated) Service under a Domain. */
export interface ServiceDNSRecord extends KubeObject {
  spec: { domainRef: string; recordTTL?: number; dnsPrefix?: string; externalName?: string; allowServiceWithoutEndpoints?: boolean };
  status?: {
    domain?: string;
    dns?: { cluster: string; loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] }; zones?: string[]; region?: string }[];
  };
}

/** multiclusterdns.kubefed.io/v1alpha1 DNSEndpoint: the records a DNS provider serves (external-dns's shape). */
export interface DNSEndpoint extends KubeObject {
  spec: { endpoints?: { dnsName: string; recordTTL?: number; recordType: string; targets: string[]; labels?: Record<string, string> }[] };
  status?: { observedGeneration?: number };
}

/** Where the federation objects are served in the host (ResourceRefs for clients and informers). */
export const kubeFedClustersResource = { group: coreGroup, version: 'v1beta1', resource: 'kubefedclusters', namespaced: true, kind: 'KubeFedCluster' } as const;
export const federatedTypeConfigsResource = { group: coreGroup, version: 'v1beta1', resource: 'federatedtypeconfigs', namespaced: true, kind: 'FederatedTypeConfig' } as const;
export const secretsResource = { group: '', version: 'v1', resource: 'secrets', namespaced: true, kind: 'Secret' } as const;
export const namespacesResource = { group: '', version: 'v1', resource: 'namespaces', namespaced: false, kind: 'Namespace' } as const;
