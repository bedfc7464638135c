// `navarch agent`: joins this machine (or network namespace) to a cluster as a node, with the
// same node components the all-in-one server runs, talking to the API over HTTPS with a node
// certificate obtained through the join token.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve, join } from 'node:path';
import { createHttpTransport } from '../client/transport.js';
import { log } from '../util/log.js';
import { flag, flagList, type ParsedArgs } from './args.js';
import { bootstrapNodeCredentials, requestServingCertificate } from './node-bootstrap.js';
import { primaryNodeIP, startNode } from './node.js';
import { evictionHardFromArgs, parseNodeLabels, parseNodeTaints, runtimeFromArgs } from './server.js';

export async function runAgentCommand(args: ParsedArgs): Promise<void> {
  const server = flag(args, 'server');
  if (!server) throw new Error('navarch agent needs --server https://<server>:6443 (and --token-file on first join)');
  const dataDir = resolve(flag(args, 'data-dir') ?? join(process.env.HOME ?? '/root', '.navarch-agent'));
  const nodeName = (flag(args, 'node-name') ?? hostname()).toLowerCase();
  const nodeIP = flag(args, 'node-ip') ?? primaryNodeIP();
  const tokenFile = flag(args, 'token-file');
  const token = tokenFile ? readFileSync(tokenFile, 'utf8').trim() : process.env.NAVARCH_TOKEN;
  const say = (message: string) => log.info('agent', message, { node: nodeName });
  const credentials = await bootstrapNodeCredentials({ server, token, dataDir, nodeName, log: say });
  const serving = await requestServingCertificate({ server, credentials, nodeName, nodeIP, dataDir });
  const transport = createHttpTransport({ server, caPem: credentials.caPem, clientCertPem: credentials.certPem, clientKeyPem: credentials.keyPem, userAgent: `navarch-agent/${nodeName}` });
  const controller = new AbortController();
  const node = await startNode(
    {
      dataDir,
      nodeName,
      nodeIP,
      runtime: runtimeFromArgs(args),
      clusterDns: flag(args, 'cluster-dns', '10.43.0.10'),
      clusterCidr: flag(args, 'cluster-cidr', '10.42.0.0/16'),
      serviceCidr: flag(args, 'service-cidr', '10.43.0.0/16'),
      nodeLabels: parseNodeLabels(flagList(args, 'node-label')),
      nodeTaints: parseNodeTaints(flagList(args, 'node-taint')),
      networkName: flag(args, 'network-name'),
      evictionHard: evictionHardFromArgs(args),
      serving: { ...serving, clientCaPem: credentials.caPem, port: Number(flag(args, 'kubelet-port', '10250')) },
    },
    transport,
    controller.signal,
  );
  say(`joined ${server}`);
  const shutdown = async (signal: string) => {
    log.info('agent', 'shutting down', { signal });
    controller.abort();
    await node.stop().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
