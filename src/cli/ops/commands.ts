// The `navarch status|snapshot|certificate|reset` commands: argument handling and messages only.
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { flag, parseArgs } from '../args.js';
import { defaultDataDir } from '../server.js';
import { runningServerPid, stopServer } from './server-process.js';
import { DatastoreLockedError, restoreSnapshot, saveSnapshot, stopFirstHint } from './snapshot.js';
import { collectApiStatus, collectLocalStatus, formatStatus, kubeconfigPath } from './status.js';
import { forceRotateLeafCertificates } from './cert-rotation.js';
import { describeReset, planNetworkCleanup, readHostNetworkState, runHostCommands } from './reset.js';

function dataDirOf(rest: string[], booleans: string[] = []): { dataDir: string; dataDirFlag: string; positional: string[]; has: (f: string) => boolean; value: (f: string) => string | undefined } {
  const args = parseArgs(rest, new Set(booleans));
  const given = flag(args, 'data-dir');
  const dataDir = resolve(given ?? defaultDataDir());
  return { dataDir, dataDirFlag: given ? ` --data-dir ${given}` : '', positional: args.positional, has: (f) => args.flags.has(f), value: (f) => flag(args, f) };
}

export async function runStatusCommand(rest: string[]): Promise<number> {
  const { dataDir } = dataDirOf(rest);
  const status = collectLocalStatus(dataDir, runningServerPid(dataDir));
  const kubeconfig = kubeconfigPath(dataDir);
  if (existsSync(kubeconfig)) {
    const { fromKubeconfig, loadKubeconfig } = await import('../../client/transport.js');
    status.apiServer = loadKubeconfig(kubeconfig).server;
    await collectApiStatus(status, fromKubeconfig(kubeconfig, { userAgent: 'navarch-status' }));
  }
  console.log(formatStatus(status, new Date()));
  return status.readyz?.ok ? 0 : 1;
}

export const snapshotHelp = `navarch snapshot save FILE [--data-dir DIR]      copy the sqlite datastore (server must be stopped)
navarch snapshot restore FILE [--data-dir DIR]   put a snapshot in place (server must be stopped)

A snapshot is the datastore (DATA/db/state.db) only: not the certificates (DATA/tls) nor the
token (DATA/token). Restore it into the data dir it came from, or keep those files alongside.`;

export async function runSnapshotCommand(rest: string[]): Promise<number> {
  const [verb, ...more] = rest;
  const { dataDir, dataDirFlag, positional } = dataDirOf(more);
  const file = positional[0];
  if ((verb !== 'save' && verb !== 'restore') || !file) {
    console.error(snapshotHelp);
    return 2;
  }
  if (verb === 'save') {
    try {
      const { bytes } = await saveSnapshot(dataDir, resolve(file));
      console.log(`saved snapshot ${file} (${bytes} bytes) of ${join(dataDir, 'db', 'state.db')}`);
      return 0;
    } catch (e) {
      if (e instanceof DatastoreLockedError) {
        console.error(`navarch: ${stopFirstHint(file, dataDirFlag)}`);
        return 1;
      }
      throw e;
    }
  }
  const pid = runningServerPid(dataDir);
  if (pid) {
    console.error(`navarch: the server is running (pid ${pid}); stop it first:\n  navarch down${dataDirFlag}\n  navarch snapshot restore ${file}${dataDirFlag}\n  navarch up${dataDirFlag}`);
    return 1;
  }
  const { previous } = restoreSnapshot(dataDir, resolve(file));
  console.log(`restored ${file} into ${join(dataDir, 'db', 'state.db')}${previous ? `; the previous datastore is kept as ${previous}` : ''}`);
  console.log(`start the cluster with: navarch up${dataDirFlag}`);
  return 0;
}

export async function runCertificateCommand(rest: string[]): Promise<number> {
  const [verb, ...more] = rest;
  if (verb !== 'rotate') {
    console.error('usage: navarch certificate rotate [--data-dir DIR]');
    return 2;
  }
  const { dataDir, dataDirFlag } = dataDirOf(more);
  const { pki, renewed } = await forceRotateLeafCertificates(dataDir);
  const kubeconfig = kubeconfigPath(dataDir);
  if (existsSync(kubeconfig)) {
    // The admin credentials embedded in the kubeconfig are the ones just re-issued.
    const { loadKubeconfig } = await import('../../client/transport.js');
    const { writeKubeconfig } = await import('../../apiserver/auth/kubeconfig.js');
    await writeKubeconfig(kubeconfig, { server: loadKubeconfig(kubeconfig).server, caPem: pki.ca.certPem, clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem });
  }
  console.log(`re-issued the ${renewed.join(' and ')} certificate${renewed.length === 1 ? '' : 's'} in ${pki.paths.tlsDir} (the CA is unchanged; existing kubeconfigs stay valid)`);
  if (runningServerPid(dataDir)) {
    console.log(`the running server picks them up at its next 12-hourly rotation check; to serve them now: navarch down${dataDirFlag} && navarch up${dataDirFlag}`);
  }
  return 0;
}

export async function runResetCommand(rest: string[]): Promise<number> {
  const { dataDir, dataDirFlag, has, value } = dataDirOf(rest, ['yes']);
  // The server's --network-name (host bridge <name>0, chains <NAME>-*): reset removes only that network's state.
  const networkName = value('network-name') ?? 'navarch';
  const pid = runningServerPid(dataDir);
  const hasPods = existsSync(join(dataDir, 'node', 'oci'));
  const plan = planNetworkCleanup(networkName, readHostNetworkState());
  if (!has('yes')) {
    console.log(`navarch reset would:\n${describeReset(dataDir, pid, hasPods, plan)}\n\nRun 'navarch reset${dataDirFlag}${networkName === 'navarch' ? '' : ` --network-name ${networkName}`} --yes' to do it.`);
    return 1;
  }
  if (pid) console.log(`stopped navarch server (pid ${await stopServer(dataDir)})`);
  if (hasPods) {
    const { removeNodeWorkloads } = await import('../node.js');
    console.log(`removed ${await removeNodeWorkloads(dataDir)} pod sandbox(es)`);
  }
  // Read again: stopping the server may have removed some of it already.
  const failures = runHostCommands(planNetworkCleanup(networkName, readHostNetworkState()));
  for (const f of failures) console.error(`warning: ${f.command.argv.join(' ')}: ${f.error}`);
  rmSync(dataDir, { recursive: true, force: true });
  console.log(`removed ${dataDir}`);
  return failures.length ? 1 : 0;
}
