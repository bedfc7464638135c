// Test fixtures for real network namespaces. Every name carries a random suffix so parallel test
// files never collide, and `dispose()` removes everything even after a failed assertion.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { runCommand, runChecked } from '../exec.js';

export function randomSuffix(bytes = 3): string {
  return randomBytes(bytes).toString('hex');
}

export async function sh(cmd: string, args: string[], stdin?: string): Promise<string> {
  return runChecked(runCommand, cmd, args, { stdin });
}

export class NetnsLab {
  readonly suffix = randomSuffix();
  private readonly namespaces: string[] = [];
  private readonly links: string[] = [];
  private readonly cleanups: (() => Promise<unknown>)[] = [];

  constructor(private readonly tag: string) {}

  async addNamespace(label: string): Promise<string> {
    const name = `nvt-${this.tag}-${label}-${this.suffix}`;
    await sh('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    await sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** A host bridge with the gateway address; forwarding only for packets entering through it. */
  async addBridge(label: string, gatewayCidr: string): Promise<string> {
    const name = `nb${label}${this.suffix}`.slice(0, 15);
    await sh('ip', ['link', 'add', name, 'type', 'bridge']);
    this.links.push(name);
    await sh('ip', ['addr', 'add', gatewayCidr, 'dev', name]);
    await sh('ip', ['link', 'set', name, 'up']);
    await sh('sysctl', ['-q', '-w', `net.ipv4.conf.${name}.forwarding=1`]);
    return name;
  }

  /** A portless bridge: a safe place to route test addresses that must go nowhere (this kernel
   * has no dummy driver). */
  async addSink(label: string): Promise<string> {
    const name = `ns${label}${this.suffix}`.slice(0, 15);
    await sh('ip', ['link', 'add', name, 'type', 'bridge']);
    this.links.push(name);
    await sh('ip', ['link', 'set', name, 'up']);
    return name;
  }

  /** Plugs a namespace into a bridge with a veth pair and gives it an address and default route. */
  async attach(ns: string, bridge: string, cidr: string, gateway: string, index: number): Promise<string> {
    const host = `nv${index}${this.suffix}`.slice(0, 15);
    await sh('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    this.links.push(host);
    await sh('ip', ['link', 'set', host, 'master', bridge, 'up']);
    await sh('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', 'eth0']);
    await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    await sh('ip', ['-n', ns, 'route', 'add', 'default', 'via', gateway]);
    return host;
  }

  onDispose(fn: () => Promise<unknown>): void {
    this.cleanups.push(fn);
  }

  async dispose(): Promise<void> {
    for (const fn of this.cleanups.reverse()) await fn().catch(() => {});
    for (const ns of this.namespaces) await runCommand('ip', ['netns', 'del', ns]).catch(() => {});
    for (const l of this.links.reverse()) await runCommand('ip', ['link', 'del', l]).catch(() => {});
  }
}

/** A tiny TCP server in a namespace that answers every connection with its own name. */
export function startEchoName(ns: string, port: number, name: string) {
  const script = `require('net').createServer(s=>{s.end(${JSON.stringify(name)}+'\\n')}).listen(${port},'0.0.0.0',()=>console.log('ready'))`;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`server in ${ns} exited ${c}`)));
  });
  return { child, ready, stop: () => { child.kill('SIGKILL'); } };
}

/** `count` sequential TCP connects from inside a namespace (one process, so it stays cheap);
 * each entry is what the server said, or TIMEOUT / ERR <code>. */
export async function tcpRequestsFrom(ns: string, host: string, port: number, count = 1, timeoutMs = 1500): Promise<string[]> {
  const script =
    `const net=require('net');const one=()=>new Promise(r=>{const s=net.connect({host:${JSON.stringify(host)},port:${port}});let d='';` +
    `const t=setTimeout(()=>{s.destroy();r('TIMEOUT')},${timeoutMs});` +
    `s.on('data',b=>d+=b);s.on('end',()=>{clearTimeout(t);r(d.trim())});` +
    `s.on('error',e=>{clearTimeout(t);r('ERR '+e.code)})});` +
    `(async()=>{const out=[];for(let i=0;i<${count};i++)out.push(await one());console.log(JSON.stringify(out))})()`;
  const r = await runCommand('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { timeoutMs: count * timeoutMs + 5000 });
  if (r.code !== 0) throw new Error(`client in ${ns} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as string[];
}
