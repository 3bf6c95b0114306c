// `make bench`: every benchmark in one run; prints the numbers and writes bench/results.json and
// bench/RESULTS.md. A section that fails is reported as failed (and the run exits non-zero), the rest still run.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

interface Section {
  name: string;
  run: () => Promise<{ summary: string[] } & Record<string, unknown>>;
}

const sections: Section[] = [
  { name: 'pipeline', run: async () => (await import('./pipeline.js')).runPipelineBench() },
  { name: 'traffic', run: async () => (await import('./traffic.js')).runTrafficBench() },
  { name: 'privacy', run: async () => (await import('./privacy.js')).runPrivacyBench() },
  { name: 'events', run: async () => (await import('./events.js')).runEventsBench() },
  { name: 'nats', run: async () => (await import('./nats.js')).runNatsBench() },
  { name: 'health', run: async () => (await import('./health.js')).runHealthBench() },
];

const only = process.argv.slice(2);
const results: Record<string, unknown> = {
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  startedAt: new Date().toISOString(),
};
const md: string[] = ['# Benchmark results', '', `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}. Run: \`make bench\`.`, ''];
let failed = 0;
for (const s of sections) {
  if (only.length && !only.includes(s.name)) continue;
  const t0 = Date.now();
  console.log(`\n== ${s.name}`);
  try {
    const r = await s.run();
    results[s.name] = { ...r, seconds: Math.round((Date.now() - t0) / 100) / 10 };
    for (const line of r.summary) console.log(`  ${line}`);
    md.push(`## ${s.name}`, '', ...r.summary.map((l) => `- ${l}`), '');
  } catch (err) {
    failed++;
    const msg = (err as Error).stack ?? String(err);
    results[s.name] = { error: msg };
    console.error(`  FAILED: ${msg}`);
    md.push(`## ${s.name}`, '', `- FAILED: ${(err as Error).message}`, '');
  }
}
results.finishedAt = new Date().toISOString();
writeFileSync('bench/results.json', JSON.stringify(results, null, 2) + '\n');
writeFileSync('bench/RESULTS.md', md.join('\n'));
console.log('\nwrote bench/results.json and bench/RESULTS.md');
process.exit(failed ? 1 : 0);
