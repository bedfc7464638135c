// `navarch status`: one screen answering "is my cluster up and healthy?".
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { clusterPkiPaths } from '../../apiserver/auth/cluster-pki.js';
import { certificateExpiry } from '../../apiserver/auth/pki.js';
import { readFileSync } from 'node:fs';
import type { Transport } from '../../client/transport.js';
import { datastorePath } from './snapshot.js';

export interface ClusterStatus {
  dataDir: string;
  serverPid?: number;
  apiServer?: string;
  /** /readyz?verbose: the body, or the error reaching it. */
  readyz?: { ok: boolean; text: string };
  datastoreBytes?: number;
  certificates: { name: string; expires: Date }[];
  nodes?: { total: number; ready: number };
  podsByPhase?: Record<string, number>;
}

export function collectLocalStatus(dataDir: string, serverPid: number | undefined): ClusterStatus {
  const paths = clusterPkiPaths(dataDir);
  const certificates: ClusterStatus['certificates'] = [];
  for (const [name, file] of [['server', paths.serverCert], ['admin', paths.adminCert], ['ca', paths.caCert]] as const) {
    if (existsSync(file)) certificates.push({ name, expires: certificateExpiry(readFileSync(file, 'utf8')) });
  }
  const db = datastorePath(dataDir);
  return { dataDir, serverPid, certificates, datastoreBytes: existsSync(db) ? statSync(db).size + walBytes(db) : undefined };
}

function walBytes(db: string): number {
  return existsSync(`${db}-wal`) ? statSync(`${db}-wal`).size : 0;
}

/** Asks the API server: /readyz?verbose, nodes and pods. Failures are reported, not thrown. */
export async function collectApiStatus(status: ClusterStatus, transport: Transport): Promise<void> {
  try {
    const r = await transport.request({ method: 'GET', path: '/readyz', query: { verbose: '' } });
    status.readyz = { ok: r.status === 200, text: String(r.body).trim() };
  } catch (e) {
    status.readyz = { ok: false, text: `unreachable: ${(e as Error).message}` };
    return;
  }
  const nodes = await transport.request({ method: 'GET', path: '/api/v1/nodes' }).catch(() => undefined);
  if (nodes?.status === 200) {
    const items = (nodes.body.items ?? []) as { status?: { conditions?: { type: string; status: string }[] } }[];
    status.nodes = { total: items.length, ready: items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length };
  }
  const pods = await transport.request({ method: 'GET', path: '/api/v1/pods' }).catch(() => undefined);
  if (pods?.status === 200) {
    const byPhase: Record<string, number> = {};
    for (const p of (pods.body.items ?? []) as { status?: { phase?: string } }[]) {
      const phase = p.status?.phase ?? 'Unknown';
      byPhase[phase] = (byPhase[phase] ?? 0) + 1;
    }
    status.podsByPhase = byPhase;
  }
}

function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** The table `navarch status` prints; `now` makes "in N days" testable. */
export function formatStatus(s: ClusterStatus, now: Date): string {
  const rows: [string, string][] = [];
  rows.push(['Data dir', s.dataDir]);
  rows.push(['Server', s.serverPid ? `running (pid ${s.serverPid})` : 'not running']);
  if (s.apiServer) rows.push(['API server', s.apiServer]);
  if (s.readyz) {
    const failed = s.readyz.text.split('\n').filter((l) => l.startsWith('[-]')).map((l) => l.slice(3).split(' ')[0]);
    rows.push(['Ready', s.readyz.ok ? 'yes' : failed.length ? `no (failing: ${failed.join(', ')})` : `no (${s.readyz.text.split('\n')[0]})`]);
  }
  rows.push(['Datastore', s.datastoreBytes === undefined ? 'none (sqlite file absent)' : humanBytes(s.datastoreBytes)]);
  for (const c of s.certificates) {
    const days = Math.floor((c.expires.getTime() - now.getTime()) / 86_400_000);
    rows.push([`Cert ${c.name}`, `expires ${c.expires.toISOString().slice(0, 10)} (${days < 0 ? `EXPIRED ${-days} days ago` : `in ${days} days`})`]);
  }
  if (s.nodes) rows.push(['Nodes', `${s.nodes.ready}/${s.nodes.total} Ready`]);
  if (s.podsByPhase) {
    const phases = Object.entries(s.podsByPhase).sort(([a], [b]) => a.localeCompare(b));
    rows.push(['Pods', phases.length ? phases.map(([p, n]) => `${n} ${p}`).join(', ') : 'none']);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

export function kubeconfigPath(dataDir: string): string {
  return join(dataDir, 'kubeconfig');
}
