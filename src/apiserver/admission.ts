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
  /** Set by the REST layer on writes: lets a plugin tie side effects it made in storage to the write's outcome. */
  transaction?: AdmissionTransaction;
}

type CommitHook = (stored: KubeObject | null) => Promise<void> | void;
type RevertHook = () => Promise<void> | void;

/**
 * What Kubernetes' Service REST storage does with its allocator transactions, for any plugin:
 * a plugin that reserved something outside the object (a ClusterIP, a nodePort) registers how
 * to undo it if the write never lands (`onRevert`), and what to let go once it has landed
 * (`onCommit`, given the stored object, or null when the write removed it). Exactly one of the
 * two runs. Hook failures are logged, not thrown: the write's outcome is already decided, and
 * repair loops catch up with whatever a hook failed to undo.
 */
export class AdmissionTransaction {
  private readonly commitHooks: CommitHook[] = [];
  private readonly revertHooks: RevertHook[] = [];
  private settled = false;

  onCommit(hook: CommitHook): void {
    this.commitHooks.push(hook);
  }

  onRevert(hook: RevertHook): void {
    this.revertHooks.push(hook);
  }

  async commit(stored: KubeObject | null): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    for (const hook of this.commitHooks) await runHook('commit', () => hook(stored));
  }

  async revert(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    for (const hook of this.revertHooks.reverse()) await runHook('revert', hook);
  }
}

async function runHook(phase: string, hook: () => Promise<void> | void): Promise<void> {
  try {
    await hook();
  } catch (e) {
    console.error(JSON.stringify({ component: 'admission', level: 'warn', msg: `${phase} hook failed`, error: (e as Error).message }));
  }
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
