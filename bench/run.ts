// `make bench`: every benchmark in one run; prints the numbers and writes bench/results.json and
// bench/RESULTS.md. A section that fails is reported as failed (and the run exits non-zero), the rest still run.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

interface Section {
  name: string;
  /** Runs only when named (`npx tsx bench/run.ts enhance`): too long for every `make bench`. */
  optIn?: boolean;
  run: () => Promise<{ summary: string[] } & Record<string, unknown>>;
}

const sections: Section[] = [
  { name: 'pipeline', run: async () => (await import('./pipeline.js')).runPipelineBench() },
  { name: 'traffic', run: async () => (await import('./traffic.js')).runTrafficBench() },
  { name: 'counts', run: async () => (await import('./counts.js')).runCountsBench((await import('./counts-misses.js')).missesByCause) },
  { name: 'privacy', run: async () => (await import('./privacy.js')).runPrivacyBench() },
  { name: 'events', run: async () => (await import('./events.js')).runEventsBench() },
  { name: 'nats', run: async () => (await import('./nats.js')).runNatsBench() },
  { name: 'health', run: async () => (await import('./health.js')).runHealthBench() },
  { name: 'incidents', run: async () => (await import('./incidents.js')).runIncidentsBench() },
  { name: 'lanes', run: async () => (await import('./lanes.js')).runLanesBench() },
  { name: 'capacity', run: async () => (await import('./capacity.js')).runCapacityBench() },
  // ~13 min of detector CPU the first time (6 recordings of 4 clips), ~2 min once cached in var/counts-rec.
  { name: 'enhance', optIn: true, run: async () => (await import('./enhance.js')).runEnhanceBench() },
];

const only = process.argv.slice(2);
// A run of some sections (`npx tsx bench/run.ts counts pipeline`) keeps the others' last results, so
// results.json and RESULTS.md always hold every section; each section says when it ran.
const previous: Record<string, unknown> = only.length && existsSync('bench/results.json') ? (JSON.parse(readFileSync('bench/results.json', 'utf8')) as Record<string, unknown>) : {};
const results: Record<string, unknown> = {
  ...previous,
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  startedAt: new Date().toISOString(),
};
let failed = 0;
for (const s of sections) {
  if (only.length ? !only.includes(s.name) : s.optIn) continue;
  const t0 = Date.now();
  console.log(`\n== ${s.name}`);
  try {
    const r = await s.run();
    results[s.name] = { ...r, seconds: Math.round((Date.now() - t0) / 100) / 10, ranAt: new Date().toISOString() };
    for (const line of r.summary) console.log(`  ${line}`);
  } catch (err) {
    failed++;
    const msg = (err as Error).stack ?? String(err);
    results[s.name] = { error: msg, ranAt: new Date().toISOString() };
    console.error(`  FAILED: ${msg}`);
  }
}
results.finishedAt = new Date().toISOString();
const md: string[] = ['# Benchmark results', '', `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}. Run: \`make bench\` (or \`npx tsx bench/run.ts SECTION...\` for some sections; the others keep their last results).`, ''];
for (const s of sections) {
  const r = results[s.name] as { summary?: string[]; error?: string; ranAt?: string } | undefined;
  if (!r) continue;
  md.push(`## ${s.name}${r.ranAt ? ` (${r.ranAt.slice(0, 16).replace('T', ' ')} UTC)` : ''}`, '');
  if (r.error) md.push(`- FAILED: ${r.error.split('\n')[0]}`, '');
  // Table rows stay rows; other lines are bullets.
  else md.push(...(r.summary ?? []).map((l) => (l === '' || l.startsWith('|') ? l : `- ${l}`)), '');
}
writeFileSync('bench/results.json', JSON.stringify(results, null, 2) + '\n');
writeFileSync('bench/RESULTS.md', md.join('\n'));
console.log('\nwrote bench/results.json and bench/RESULTS.md');
process.exit(failed ? 1 : 0);
