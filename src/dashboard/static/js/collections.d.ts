// Types for collections.js, so the Node tests are type-checked.
import type { ResourceRef } from './api.js';
import type { listAndWatch, WatchState } from './watch.js';
export const resources: Record<string, ResourceRef & { kind: string; scalable?: boolean }>;
export function resourceKeyOfKind(kind: string): string | undefined;
export function byNamespaceAndName(a: any, b: any): number;
export class Collections {
  constructor(deps: { api: any; onChange: () => void; watch?: typeof listAndWatch });
  use(ref: ResourceRef, namespace?: string, query?: Record<string, string>): { items: any[]; state: WatchState; error: any; synced: boolean };
  beginRender(): void;
  endRender(): void;
  overallState(): WatchState;
  stopAll(): void;
}
