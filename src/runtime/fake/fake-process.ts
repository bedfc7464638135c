// One simulated process: runs mini-shell statements on timers, answers signals like sh does
// (traps, 128+signal exit codes), and reports output through callbacks.
import type { Readable } from 'node:stream';
import { parseScript, expandWord, wordsOf, type Statement } from './mini-shell.js';

class Exit { constructor(readonly code: number) {} }

export interface FakeProcessIO {
  out(stream: 'stdout' | 'stderr', text: string): void;
  stdin?: Readable;
  env: Record<string, string>;
  cwd: string;
}

export class FakeProcess {
  readonly exit: Promise<number>;
  private resolveExit!: (code: number) => void;
  private done = false;
  private traps = new Map<string, Statement[]>();
  private interrupt: (() => void) | null = null;
  private pendingSignals: string[] = [];
  private timers = new Set<NodeJS.Timeout>();
  private background: Promise<void>[] = [];

  constructor(private readonly argv: string[], private readonly io: FakeProcessIO) {
    this.exit = new Promise((r) => { this.resolveExit = r; });
  }

  start(): void {
    const [cmd, ...rest] = this.argv;
    let program: Statement[];
    if ((cmd === 'sh' || cmd === '/bin/sh' || cmd === 'bash') && rest[0] === '-c') program = parseScript(rest[1] ?? '');
    else if (['echo', 'sleep', 'cat', 'exit', 'true', 'false', 'pwd', ':'].includes(cmd)) program = wordsOf(this.argv);
    else program = [{ words: [[{ lit: 'sleep' }], [{ lit: 'infinity' }]], background: false, toStderr: false }];
    this.runAll(program).then((code) => this.finish(code), (e) => this.finish(e instanceof Exit ? e.code : 1));
  }

  /** The simulated `exit` for scripted behaviour (annotations): exit after ms with code. */
  exitAfter(ms: number, code: number): void {
    const t = setTimeout(() => this.finish(code), ms);
    this.timers.add(t);
  }

  signal(sig: 'SIGTERM' | 'SIGKILL' | 'SIGINT'): void {
    if (this.done) return;
    if (sig === 'SIGKILL') return this.finish(137);
    const trap = this.traps.get(sig.slice(3));
    if (!trap) return this.finish(sig === 'SIGTERM' ? 143 : 130);
    if (trap.length === 0) return; // trap "" SIG: ignored
    this.pendingSignals.push(sig.slice(3));
    this.interrupt?.();
  }

  private finish(code: number): void {
    if (this.done) return;
    this.done = true;
    for (const t of this.timers) clearTimeout(t);
    this.interrupt?.();
    this.resolveExit(code);
  }

  private async runAll(stmts: Statement[]): Promise<number> {
    let status = 0;
    for (const s of stmts) {
      if (this.done) throw new Exit(0);
      if (s.background) { this.background.push(this.runOne(s).then(() => {}, () => {})); status = 0; }
      else status = await this.runOne(s);
      await this.runTraps();
    }
    return status;
  }

  private async runTraps(): Promise<void> {
    while (this.pendingSignals.length) {
      const sig = this.pendingSignals.shift()!;
      await this.runAll(this.traps.get(sig) ?? []);
    }
  }

  /** Sleeps; an interruptible sleep (wait) ends early when a trapped signal arrives. */
  private delay(ms: number, interruptible: boolean): Promise<void> {
    return new Promise((resolve) => {
      const t = Number.isFinite(ms) ? setTimeout(() => { this.timers.delete(t!); resolve(); }, ms) : undefined;
      if (t) this.timers.add(t);
      const prev = this.interrupt;
      this.interrupt = () => { prev?.(); if (interruptible || this.done) { if (t) clearTimeout(t); resolve(); } };
    });
  }

  private async runOne(s: Statement): Promise<number> {
    const words = s.words.map((w) => expandWord(w, this.io.env, this.io.cwd));
    const stream = s.toStderr ? 'stderr' : 'stdout';
    const [cmd, ...args] = words;
    switch (cmd) {
      case 'echo': this.io.out(stream, args.join(' ') + '\n'); return 0;
      case 'pwd': this.io.out(stream, this.io.cwd + '\n'); return 0;
      case 'exit': throw new Exit(args[0] ? parseInt(args[0], 10) & 255 : 0);
      case 'true': case ':': return 0;
      case 'false': return 1;
      case 'sleep': {
        const secs = args[0] === 'infinity' ? Infinity : parseFloat(args[0] ?? '0');
        await this.delay(secs * 1000, false);
        return 0;
      }
      case 'wait': {
        if (this.background.length === 0) return 0;
        await Promise.race([Promise.all(this.background), this.delay(Infinity, true)]);
        return this.pendingSignals.length ? 143 : 0;
      }
      case 'trap': {
        const [action, ...sigs] = args;
        for (const sig of sigs) this.traps.set(sig.replace(/^SIG/, ''), action ? parseScript(action) : []);
        return 0;
      }
      case 'cat': {
        const stdin = this.io.stdin;
        if (!stdin) return 0;
        await new Promise<void>((resolve) => {
          stdin.on('data', (d: Buffer) => this.io.out(stream, d.toString()));
          stdin.on('end', resolve);
          stdin.on('close', resolve);
        });
        return 0;
      }
      default:
        this.io.out('stderr', `sh: ${cmd}: not found\n`);
        return 127;
    }
  }
}
