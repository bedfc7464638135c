// `npm run bench`: measures navarch against baselines taken in the same run, and writes
// bench/report.md (+ report.json). Ratios are what count: these machines are noisy.
// Select with `npm run bench -- startup create watch` (default: all).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { controlPlaneBenchmarks } from './control-plane.js';
import { componentBenchmarks } from './components.js';
import { podBenchmarks } from './pods.js';
import { clusterBenchmarks } from './cluster.js';

export interface BenchResult {
  name: string;
  /** Human-readable figures, e.g. { "creates/s": 1234 }. */
  figures: Record<string, number | string>;
  /** The figure the target is about and whether it met it. */
  target?: { description: string; met: boolean };
}

export type Benchmark = { name: string; run(): Promise<BenchResult> };

const registry: Benchmark[] = [...controlPlaneBenchmarks, ...componentBenchmarks, ...podBenchmarks, ...clusterBenchmarks];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const selected = wanted.length ? registry.filter((b) => wanted.some((w) => b.name.includes(w))) : registry;
  const results: BenchResult[] = [];
  for (const b of selected) {
    process.stdout.write(`==> ${b.name} ... `);
    const started = Date.now();
    try {
      const r = await b.run();
      results.push(r);
      console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s ${r.target ? (r.target.met ? '(target met)' : '(target MISSED)') : ''}`);
    } catch (e) {
      console.log(`failed: ${(e as Error).message}`);
      results.push({ name: b.name, figures: { error: (e as Error).message } });
    }
  }
  const lines = [`# navarch benchmark report`, '', `Run ${new Date().toISOString()} on ${process.platform}/${process.arch}, node ${process.version}.`, ''];
  for (const r of results) {
    lines.push(`## ${r.name}`, '');
    for (const [k, v] of Object.entries(r.figures)) lines.push(`- ${k}: ${typeof v === 'number' ? Number(v.toFixed(3)) : v}`);
    if (r.target) lines.push(`- target: ${r.target.description} — **${r.target.met ? 'met' : 'missed'}**`);
    lines.push('');
  }
  const dir = join(import.meta.dirname);
  writeFileSync(join(dir, 'report.md'), lines.join('\n'));
  writeFileSync(join(dir, 'report.json'), JSON.stringify(results, null, 2));
  console.log(`\nreport written to bench/report.md`);
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
