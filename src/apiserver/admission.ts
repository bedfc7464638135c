// The admission chain: mutating plugins run first (in order), then validating ones.
// Plugins see the object after defaulting and before validation, as in Kubernetes.
import type { KubeObject } from '../api/types.js';
import type { ServedResource } from './registry.js';

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface AdmissionAttributes {
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  resource: ServedResource;
  subresource: string;
  namespace: string;
  name: string;
  object?: KubeObject;
  oldObject?: KubeObject;
  user: UserInfo;
  dryRun: boolean;
}

export interface AdmissionPlugin {
  name: string;
  /** Mutating phase: may change attributes.object. Throw an ApiError to reject. */
  admit?(attributes: AdmissionAttributes): Promise<void> | void;
  /** Validating phase: must not change anything. Throw an ApiError to reject. */
  validate?(attributes: AdmissionAttributes): Promise<void> | void;
}

export class AdmissionChain {
  constructor(private readonly plugins: AdmissionPlugin[] = []) {}

  add(plugin: AdmissionPlugin): void {
    this.plugins.push(plugin);
  }

  async admit(attributes: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.admit) await p.admit(attributes);
  }

  async validate(attributes: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.validate) await p.validate(attributes);
  }
}
