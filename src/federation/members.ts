// How federation controllers reach member clusters. The implementation (members.ts's
// `createMemberClusters`, built from KubeFedCluster objects and their Secrets) belongs to the
// federation core; replica scheduling and DNS only depend on this interface.
import type { Client } from '../client/client.js';
import type { KubeFedCluster } from './api.js';

export interface MemberCluster {
  name: string;
  /** The KubeFedCluster object as last seen in the host. */
  cluster: KubeFedCluster;
  /** A client for the member's API server (bearer token from the cluster's Secret). */
  client: Client;
  /** Ready condition True as last probed by the cluster health controller. */
  ready: boolean;
}

export interface MemberClusters {
  /** Every joined member, ready or not. */
  list(): MemberCluster[];
  get(name: string): MemberCluster | undefined;
  /** Called after the set of members or any member's readiness changed. Returns an unsubscribe function. */
  onChange(handler: () => void): () => void;
}
