// Types for status.js, so the Node tests are type-checked.
type Obj = any;
export function podStatus(pod: Obj): { status: string; ready: string; restarts: number };
export function statusTone(status: string): 'ok' | 'warn' | 'error' | 'done';
export function nodeStatus(node: Obj): string;
export function nodeRoles(node: Obj): string;
export function nodeInternalIP(node: Obj): string;
export function deploymentColumns(d: Obj): { ready: string; upToDate: number; available: number; desired: number };
export function replicaSetColumns(rs: Obj): { desired: number; current: number; ready: number };
export function statefulSetColumns(sts: Obj): { ready: string };
export function daemonSetColumns(ds: Obj): { desired: number; current: number; ready: number; upToDate: number; available: number };
export function jobColumns(job: Obj, now?: number): { status: string; completions: string; duration: string };
export function cronJobColumns(cj: Obj, now?: number): { schedule: string; timeZone: string; suspend: string; active: number; lastSchedule: string };
export function servicePorts(service: Obj): string;
export function serviceExternalIP(service: Obj): string;
export function containerState(containerStatus: Obj, now?: number): { text: string; tone: string; message?: string };
export function podPhaseCounts(pods: Obj[]): Record<'Running' | 'Pending' | 'Succeeded' | 'Failed' | 'Unknown', number>;
export function eventTime(event: Obj): string | undefined;
export function sortEventsNewestFirst<T>(events: T[]): T[];
