// Types for api.js, so the Node tests are type-checked.
export class ApiError extends Error {
  constructor(code: number, status?: any);
  code: number;
  reason: string;
  status: any;
}
export interface ResourceRef { group: string; version: string; resource: string; namespaced: boolean; kind?: string }
export function resourcePath(ref: ResourceRef, namespace?: string, name?: string, subresource?: string): string;
export function queryString(query?: Record<string, unknown>): string;
export interface DashboardApi {
  get(path: string, query?: Record<string, unknown>, signal?: AbortSignal): Promise<any>;
  text(path: string, query?: Record<string, unknown>, signal?: AbortSignal): Promise<string>;
  post(path: string, body: unknown): Promise<any>;
  patch(path: string, body: unknown, contentType?: string): Promise<any>;
  delete(path: string, deleteOptions?: unknown): Promise<any>;
  watch(path: string, query: Record<string, string>, signal?: AbortSignal): AsyncGenerator<Uint8Array>;
}
export function createApi(options: { fetch?: typeof fetch; token: () => string | null; onUnauthorized?: (error: ApiError) => void; base?: string }): DashboardApi;
