// The `navarch` command line.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, flag } from './args.js';
import { defaultDataDir, runServerCommand } from './server.js';
import { runAgentCommand } from './agent.js';
import { runClusterCommand } from './cluster.js';
import { runImageCommand } from './image.js';
import { runFederationCommand } from './federation.js';
import { runCertificateCommand, runResetCommand, runSnapshotCommand, runStatusCommand } from './ops/commands.js';
import { navarchVersion, kubernetesVersion } from '../util/version.js';

const usage = `navarch — a Kubernetes-compatible container orchestrator

Usage:
  navarch up [--data-dir DIR] [server flags]   start a one-node cluster in the background and wait until it is ready
  navarch down [--data-dir DIR]                stop the cluster started by 'up'
  navarch server [flags]                       run the all-in-one server in the foreground
  navarch agent --server URL --token-file FILE [--data-dir DIR] [--node-name N] [--node-ip IP] [--runtime R]
                                               join a node to a cluster
  navarch cluster create|delete|list [--name N] [--nodes N] [--runtime runc|fake]
                                               a local multi-node cluster (agents in network namespaces)
  navarch image import FILE|ls|rm REF [--data-dir DIR]
                                               the node's image store (docker-archive / OCI-archive tarballs)
  navarch federation init|join NAME --cluster-kubeconfig FILE|unjoin NAME|list [--kubeconfig HOST]
                                               federate clusters (KubeFed API): make this a host, join members
  navarch status [--data-dir DIR]              server, readiness, datastore size, certificate expiry, nodes and pods
  navarch snapshot save|restore FILE [--data-dir DIR]
                                               copy the sqlite datastore out/in (database only, not tls/ or token;
                                               the server must be stopped)
  navarch certificate rotate [--data-dir DIR]  re-issue the serving and admin certificates (the CA is kept)
  navarch reset [--data-dir DIR] [--network-name NAME] [--yes]
                                               stop the server, remove its pods, host network state and data dir
                                               (without --yes: only list what would be removed)
  navarch kubectl ARGS...                      run kubectl against the local cluster
  navarch dashboard [--data-dir DIR]           print the dashboard URL and a sign-in token
  navarch version                              print versions

Server flags:
  --data-dir DIR            state, certificates and kubeconfig (default ~/.navarch)
  --port 6443               HTTPS port of the API server
  --bind-address 0.0.0.0    address to listen on
  --datastore sqlite|etcd|memory   (default sqlite, embedded)
  --etcd-endpoints URL,...  with --datastore etcd
  --node-name NAME          name of this node (default: host name)
  --runtime runc|crun|process|fake
  --disable-agent           run no node agent in this process
  --disable NAME,...        components to leave out (controllers, scheduler, dns, dashboard, ...)
  --node-ip IP              this node's InternalIP (default: first non-loopback address)
  --node-label k=v          (repeatable)   --node-taint k=v:NoSchedule (repeatable)
  --cluster-autoscaler group=NAME,min=0,max=5,cpu=2,memory=4Gi[,label=k=v][,taint=k=v:Effect]
                            (repeatable) autoscale simulated node groups of hollow nodes
  --cluster-cidr 10.42.0.0/16  --service-cidr 10.43.0.0/16  --cluster-dns 10.43.0.10
  --token-file FILE         join token of an existing cluster (HA servers on one etcd)
  --kubelet-port 10250      the node agent's streaming port (0: any free port)
  --network-name navarch    prefix of host network names (bridge navarch0, device navarch-svc, chains NAVARCH-*)
  --federation-health-period 10  seconds between a federation host's probes of each member
  --ingress-http-port 80  --ingress-https-port 443  --ingress-bind-address ADDR   the built-in ingress (0: off)
  --audit-policy-file FILE  --audit-log-path PATH|-   audit log (audit.k8s.io/v1 Policy; no policy: off)
  --audit-log-maxsize MB  --audit-log-maxbackup N  --audit-log-maxage DAYS   audit log rotation
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  // `navarch server --help` must print help, never start a server with default flags.
  if (command && command !== 'kubectl' && (rest.includes('--help') || rest.includes('-h'))) {
    console.log(usage);
    return;
  }
  switch (command) {
    case 'server':
      return runServerCommand(parseArgs(rest));
    case 'agent':
      return runAgentCommand(parseArgs(rest));
    case 'cluster':
      return runClusterCommand(rest);
    case 'image': { process.exitCode = await runImageCommand(rest); return; }
    case 'federation': { process.exitCode = await runFederationCommand(rest); return; }
    case 'status': { process.exitCode = await runStatusCommand(rest); return; }
    case 'snapshot': { process.exitCode = await runSnapshotCommand(rest); return; }
    case 'certificate': { process.exitCode = await runCertificateCommand(rest); return; }
    case 'reset': { process.exitCode = await runResetCommand(rest); return; }
    case 'up':
      return up(rest);
    case 'down':
      return down(rest);
    case 'dashboard':
      return dashboard(rest);
    case 'version':
    case '--version':
      console.log(`navarch ${navarchVersion} (serves Kubernetes API ${kubernetesVersion.gitVersion})`);
      return;
    case 'kubectl': {
      const dataDir = defaultDataDir();
      const kubeconfig = process.env.KUBECONFIG ?? join(dataDir, 'kubeconfig');
      const result = spawnSync('kubectl', ['--kubeconfig', kubeconfig, ...rest], { stdio: 'inherit' });
      process.exit(result.status ?? 1);
    }
    // falls through (process.exit never returns)
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(usage);
      return;
    default:
      console.error(`navarch: unknown command "${command}"\n\n${usage}`);
      process.exit(2);
  }
}

/** Starts `navarch server` detached, logs to DATA/server.log, and waits for /readyz with progress. */
async function up(rest: string[]): Promise<void> {
  const args = parseArgs(rest);
  const dataDir = flag(args, 'data-dir') ?? defaultDataDir();
  const port = flag(args, 'port', '6443')!;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pidFile = join(dataDir, 'server.pid');
  const logFile = join(dataDir, 'server.log');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (pid && isAlive(pid)) {
      console.log(`navarch is already running (pid ${pid}).`);
      printNext(dataDir);
      return;
    }
  }
  const started = Date.now();
  const { buildBusyboxImage, provideImage } = await import('./images.js');
  const busybox = buildBusyboxImage((line) => console.log(line));
  if (busybox) provideImage(busybox, [dataDir]);
  process.stdout.write(`==> starting navarch server (data dir ${dataDir}, log ${logFile})\n`);
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [process.argv[1], 'server', ...rest], { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  const { writeFileSync } = await import('node:fs');
  writeFileSync(pidFile, String(child.pid));
  const deadline = Date.now() + 60_000;
  let dots = 0;
  for (;;) {
    if (!isAlive(child.pid!)) {
      console.error(`\nnavarch server exited during start. Last lines of ${logFile}:`);
      const lines = readFileSync(logFile, 'utf8').trim().split('\n').slice(-15);
      console.error(lines.join('\n'));
      process.exit(1);
    }
    if (await ready(port)) break;
    if (Date.now() > deadline) {
      console.error(`\nnavarch server did not become ready in 60 s; see ${logFile}`);
      process.exit(1);
    }
    if (++dots % 10 === 0) process.stdout.write('.');
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`==> ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  printNext(dataDir);
}

function printNext(dataDir: string): void {
  console.log(`\nUse your cluster:\n  export KUBECONFIG=${join(dataDir, 'kubeconfig')}\n  kubectl get nodes\nor: kubectl --kubeconfig ${join(dataDir, 'kubeconfig')} get ns\nStop it with: navarch down${dataDir === defaultDataDir() ? '' : ` --data-dir ${dataDir}`}`);
}

async function down(rest: string[]): Promise<void> {
  const args = parseArgs(rest);
  const dataDir = flag(args, 'data-dir') ?? defaultDataDir();
  const pidFile = join(dataDir, 'server.pid');
  if (!existsSync(pidFile)) {
    console.log('navarch is not running (no server.pid).');
    return;
  }
  const pid = Number(readFileSync(pidFile, 'utf8'));
  if (pid && isAlive(pid)) {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    console.log(`stopped navarch server (pid ${pid})`);
  } else {
    console.log('navarch was not running.');
  }
  const { rmSync } = await import('node:fs');
  rmSync(pidFile, { force: true });
}

/** Creates (once) an admin service account for the dashboard and prints the URL with a fresh token. */
async function dashboard(rest: string[]): Promise<void> {
  const args = parseArgs(rest);
  const dataDir = flag(args, 'data-dir') ?? defaultDataDir();
  const kubeconfig = join(dataDir, 'kubeconfig');
  if (!existsSync(kubeconfig)) {
    console.error(`no cluster at ${dataDir}: start one with 'navarch up' (or pass --data-dir)`);
    process.exit(1);
  }
  const { fromKubeconfig, loadKubeconfig } = await import('../client/transport.js');
  const { createClient } = await import('../client/client.js');
  const { createDashboardToken, dashboardLoginInstructions } = await import('../dashboard/token.js');
  const client = createClient(fromKubeconfig(kubeconfig, { userAgent: 'navarch-dashboard' }));
  const token = await createDashboardToken(client);
  console.log(dashboardLoginInstructions(loadKubeconfig(kubeconfig).server, token));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function ready(port: string): Promise<boolean> {
  const https = await import('node:https');
  return new Promise((resolve) => {
    const req = https.request({ host: '127.0.0.1', port: Number(port), path: '/readyz', rejectUnauthorized: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

main(process.argv.slice(2)).catch((e) => {
  console.error(`navarch: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
