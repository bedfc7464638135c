// Types for watch.js, so the Node tests are type-checked.
export function createLineParser(onValue: (value: any) => void): { push(chunk: string | Uint8Array): void; end(): void };
export function parseWatchStream(text: string): any[];
export interface WatchApi {
  get(path: string, query?: Record<string, string>, signal?: AbortSignal): Promise<any>;
  watch(path: string, query: Record<string, string>, signal?: AbortSignal): AsyncIterable<Uint8Array | string>;
}
export type WatchState = 'syncing' | 'live' | 'retrying' | 'failed';
export function listAndWatch(options: {
  api: WatchApi;
  path: string;
  query?: Record<string, string>;
  signal?: AbortSignal;
  onReplace(items: any[]): void;
  onEvent(type: string, object: any): void;
  onState?(state: WatchState, error?: any): void;
  sleep?(ms: number, signal?: AbortSignal): Promise<void>;
  timeoutSeconds?: number;
  maxBackoffMs?: number;
  now?(): number;
}): Promise<void>;
export function applyEvent(map: Map<string, any>, type: string, object: any): Map<string, any>;
