// Checks the ops files with the real tools: promtool (Debian's prometheus package) for the scrape
// config, alert rules, their unit tests and the metrics exposition; systemd-analyze for the unit.
// Also ties alerts and dashboard to appliance/src/metrics/registry.ts: every roadside_* name and label
// they use must exist there.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Counter, Gauge, Histogram, Summary, type Metric } from 'prom-client';
import { createMetrics } from '../appliance/src/metrics/registry.js';

const PROM_DIR = 'ops/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}
function run(cmd: string, args: string[], input?: string): Run {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const show = (r: Run) => `exit ${r.status}\n${r.stdout}\n${r.stderr}`;

// ---- the files, parsed once -------------------------------------------------------------------
interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: AlertRule[] }[];
}
interface PromTestFile {
  tests: {
    input_series: { series: string; values: string }[];
    alert_rule_test?: { eval_time: string; alertname: string; exp_alerts?: { exp_labels?: Record<string, string> }[] }[];
  }[];
}
interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string }; refId: string }[];
}
interface GrafanaVariable {
  name: string;
  type: string;
  query: string | { query: string };
}
interface GrafanaDashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  templating: { list: GrafanaVariable[] };
  annotations: { list: { expr?: string }[] };
  panels: GrafanaPanel[];
}

const rules = parseYaml(readFileSync(join(PROM_DIR, 'alerts.yml'), 'utf8')) as RuleFile;
const alertRules = rules.groups.flatMap((g) => g.rules);
const ruleTests = parseYaml(readFileSync(join(PROM_DIR, 'alerts.test.yml'), 'utf8')) as PromTestFile;
const dashboard = JSON.parse(readFileSync('ops/grafana/roadside-dashboard.json', 'utf8')) as GrafanaDashboard;
const dashboardExprs = [
  ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
  ...dashboard.templating.list.filter((v) => v.type === 'query').map((v) => (typeof v.query === 'string' ? v.query : v.query.query)),
  ...dashboard.annotations.list.flatMap((a) => (a.expr ? [a.expr] : [])),
];

// ---- the registry: names, label names, and one sample for every metric --------------------------
/** prom-client keeps label names on the metric object; its typings do not expose them. */
function labelNamesOf(metric: Metric): string[] {
  return [...((metric as unknown as { labelNames?: readonly string[] }).labelNames ?? [])];
}
/** Our own metrics; the rest are Node's standard process metrics (collectDefaultMetrics, unprefixed). */
const isOwn = (name: string) => name.startsWith('roadside_');
async function populatedRegistry() {
  const m = createMetrics();
  const metrics = m.registry.getMetricsAsArray().map((o) => m.registry.getSingleMetric(o.name)!);
  for (const metric of metrics) {
    const { name } = await metric.get();
    if (!isOwn(name)) continue;
    const labels = Object.fromEntries(labelNamesOf(metric).map((l) => [l, l === 'state' ? 'streaming' : `test-${l}`]));
    if (metric instanceof Counter) metric.inc(labels, 3);
    else if (metric instanceof Gauge) metric.set(labels, 1);
    else if (metric instanceof Histogram) metric.observe(labels, 0.042);
    else if (metric instanceof Summary) metric.observe(labels, 0.042);
    else assert.fail(`metric ${name} has a type this test does not know`);
  }
  const exposition = await m.registry.metrics();
  const known = new Map<string, { type: string; labels: string[] }>();
  for (const metric of metrics) {
    const json = await metric.get();
    known.set(json.name, { type: String(json.type), labels: labelNamesOf(metric) });
  }
  return { exposition, known };
}

const { known, exposition } = await populatedRegistry();
const LABELS_OF = new Map([...known].map(([k, v]) => [k, v.labels]));

/** Every series name a PromQL query can use for a registry metric (histograms expose three). */
function seriesNames(known: Map<string, { type: string }>): Set<string> {
  const names = new Set<string>();
  for (const [name, { type }] of known) {
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}
const metricNamesIn = (expr: string) => [...new Set(expr.match(/\broadside_[a-z0-9_]+/g) ?? [])];
/** Label names in selectors like roadside_x{camera=~"$camera", state="stalled"}. */
function selectorLabels(expr: string): { metric: string; label: string }[] {
  const out: { metric: string; label: string }[] = [];
  for (const sel of expr.matchAll(/\b(roadside_[a-z0-9_]+)\s*\{([^}]*)\}/g)) {
    for (const l of sel[2]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) out.push({ metric: sel[1]!, label: l[1]! });
  }
  return out;
}
/** Labels a series has besides the registry's: target labels Prometheus adds, and le on buckets. */
const TARGET_LABELS = ['job', 'instance', 'site'];
function baseMetric(series: string, known: Map<string, unknown>): string | undefined {
  if (known.has(series)) return series;
  const base = series.replace(/_(bucket|sum|count)$/, '');
  return known.has(base) ? base : undefined;
}

// ------------------------------------------------------------------------------------------------
describe('prometheus scrape config', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'roadside-prom-'));
    copyFileSync(join(PROM_DIR, 'prometheus.yml'), join(dir, 'prometheus.yml'));
    copyFileSync(join(PROM_DIR, 'alerts.yml'), join(dir, 'alerts.yml'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('scrapes /metrics of job roadside with a bearer token from a file and loads the alert rules', () => {
    const cfg = parseYaml(readFileSync(join(PROM_DIR, 'prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; metrics_path: string; authorization?: { type: string; credentials_file?: string } }[];
    };
    assert.deepEqual(cfg.rule_files, ['alerts.yml']);
    const job = cfg.scrape_configs.find((s) => s.job_name === 'roadside');
    assert.ok(job, 'a scrape job named roadside (ApplianceDown selects up{job="roadside"})');
    assert.equal(job.metrics_path, '/metrics');
    assert.equal(job.authorization?.type, 'Bearer');
    assert.equal(job.authorization?.credentials_file, 'roadside-metrics.token');
  });

  test('promtool check config fails while the token file is missing', () => {
    const r = run(PROMTOOL, ['check', 'config', join(dir, 'prometheus.yml')]);
    assert.notEqual(r.status, 0, show(r));
    assert.match(r.stdout + r.stderr, /roadside-metrics\.token/);
  });

  test('promtool check config passes with the token file next to it, rules included', () => {
    writeFileSync(join(dir, 'roadside-metrics.token'), 'example-token-not-a-secret', { mode: 0o600 });
    const r = run(PROMTOOL, ['check', 'config', join(dir, 'prometheus.yml')]);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /SUCCESS: 1 rule files found/);
    assert.match(r.stdout, new RegExp(`SUCCESS: ${alertRules.length} rules found`));
  });
});

describe('alert rules', () => {
  test('promtool check rules passes', () => {
    const r = run(PROMTOOL, ['check', 'rules', join(PROM_DIR, 'alerts.yml')]);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, new RegExp(`SUCCESS: ${alertRules.length} rules found`));
  });

  test('promtool test rules passes (a firing and a near-miss case for every alert)', () => {
    const r = run(PROMTOOL, ['test', 'rules', join(PROM_DIR, 'alerts.test.yml')]);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /SUCCESS/);
  });

  test('the unit tests bite: broken copies of the rules fail them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roadside-mut-'));
    try {
      copyFileSync(join(PROM_DIR, 'alerts.test.yml'), join(dir, 'alerts.test.yml'));
      const src = readFileSync(join(PROM_DIR, 'alerts.yml'), 'utf8');
      const mutations: [string, string][] = [
        ['unless on (job, instance, camera)', 'or on (job, instance, camera)'], // stopped cameras would page
        ['roadside_outbox_backlog > 1000', 'roadside_outbox_backlog > 500'],
        ['rate(roadside_sink_failures_total[5m]) > 0.05', 'rate(roadside_sink_failures_total[5m]) > 0.01'],
        ['unless roadside_anonymization_withheld_total offset 15m', ''], // steady old counts would fire
      ];
      for (const [from, to] of mutations) {
        assert.ok(src.includes(from), `mutation target not found: ${from}`);
        writeFileSync(join(dir, 'alerts.yml'), src.replace(from, to));
        const r = run(PROMTOOL, ['test', 'rules', join(dir, 'alerts.test.yml')]);
        assert.notEqual(r.status, 0, `promtool test rules still passes with "${from}" -> "${to}"`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every alert has a severity, summary, description and runbook', () => {
    const names = alertRules.map((r) => r.alert);
    assert.equal(new Set(names).size, names.length, 'alert names are unique');
    for (const name of ['ApplianceDown', 'CameraDown', 'CameraStalled', 'InferenceLatencyHigh', 'FramesDroppedHigh', 'OutboxBacklogGrowing',
      'SinkFailing', 'OutboxDroppingEvents', 'DataDiskFilling', 'AnonymizationFailing', 'AuthFailuresHigh']) {
      assert.ok(names.includes(name), `alert ${name} is defined`);
    }
    for (const r of alertRules) {
      assert.ok(['critical', 'warning'].includes(r.labels?.severity ?? ''), `${r.alert}: severity critical|warning`);
      for (const a of ['summary', 'description', 'runbook']) assert.ok((r.annotations?.[a] ?? '').length > 10, `${r.alert}: annotation ${a}`);
      // annotations name the thing that is broken: the camera/sink/reason label whenever the expression keeps it
      for (const l of ['camera', 'sink', 'reason']) {
        if (new RegExp(`\\b${l}\\b`).test(r.annotations?.summary ?? '') || !exprKeepsLabel(r.expr, l)) continue;
        assert.fail(`${r.alert}: summary should name {{ $labels.${l} }}`);
      }
    }
  });

  test('every alert has a firing case and a near-miss series in alerts.test.yml', () => {
    const idLabels = ['instance', 'camera', 'sink', 'reason'];
    for (const rule of alertRules) {
      const cases = ruleTests.tests.flatMap((t) =>
        (t.alert_rule_test ?? []).filter((c) => c.alertname === rule.alert && (c.exp_alerts ?? []).length > 0).map((c) => ({ t, c })),
      );
      assert.ok(cases.length > 0, `${rule.alert}: no test case where it fires`);
      const hasNearMiss = cases.some(({ t, c }) =>
        t.input_series.some((s) => {
          const labels = Object.fromEntries([...s.series.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
          return !(c.exp_alerts ?? []).some((e) => idLabels.every((l) => labels[l] === undefined || e.exp_labels?.[l] === labels[l]));
        }),
      );
      assert.ok(hasNearMiss, `${rule.alert}: no input series that must not fire next to the firing one`);
    }
  });
});

/** Crude: a label survives unless the expression aggregates with by (...) without it. */
function exprKeepsLabel(expr: string, label: string): boolean {
  const metrics = metricNamesIn(expr);
  const byClauses = [...expr.matchAll(/\bby\s*\(([^)]*)\)/g)].map((m) => m[1]!);
  if (byClauses.some((b) => !b.split(',').map((s) => s.trim()).includes(label))) return false;
  return metrics.some((n) => LABELS_OF.get(n.replace(/_(bucket|sum|count)$/, ''))?.includes(label));
}

describe('metric names', () => {
  test('every metric of the registry has a sample in the exposition', () => {
    for (const [name, { type }] of known) {
      if (!isOwn(name)) continue;
      const sample = type === 'histogram' ? `${name}_bucket` : name;
      assert.match(exposition, new RegExp(`^${sample}[{ ]`, 'm'), `no sample for ${name}`);
    }
  });

  test('promtool check metrics: no lint problems in the appliance metrics', () => {
    const r = run(PROMTOOL, ['check', 'metrics'], exposition);
    const problems = (r.stdout + r.stderr).split('\n').map((l) => l.trim()).filter(Boolean);
    // Node's standard metrics included: registry.ts re-exports prom-client's three *_total gauges without the suffix.
    assert.deepEqual(problems, [], `promtool check metrics reported:\n${problems.join('\n')}`);
    assert.equal(r.status, 0);
    assert.match(exposition, /^process_cpu_seconds_total /m, "Node's process metrics keep their standard names");
  });

  test('promtool check metrics does report a badly named metric (so silence above means something)', () => {
    const bad = '# HELP roadside_bad_events A counter without _total\n# TYPE roadside_bad_events counter\nroadside_bad_events 1\n';
    const r = run(PROMTOOL, ['check', 'metrics'], bad);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /roadside_bad_events.*_total/);
  });

  test('every roadside_* name in alerts.yml exists in the registry, with the labels it selects', () => {
    const names = seriesNames(known);
    for (const rule of alertRules) {
      const used = metricNamesIn(rule.expr);
      assert.ok(used.length > 0 || rule.alert === 'ApplianceDown', `${rule.alert} uses no roadside metric`);
      for (const n of used) assert.ok(names.has(n), `${rule.alert}: ${n} is not in appliance/src/metrics/registry.ts`);
      for (const { metric, label } of selectorLabels(rule.expr)) {
        const base = baseMetric(metric, known);
        const allowed = [...(base ? known.get(base)!.labels : []), ...TARGET_LABELS, ...(metric.endsWith('_bucket') ? ['le'] : [])];
        assert.ok(allowed.includes(label), `${rule.alert}: ${metric} has no label ${label}`);
      }
    }
  });

  test('every roadside_* name on the dashboard exists in the registry, with the labels it selects', () => {
    const names = seriesNames(known);
    assert.ok(dashboardExprs.length > 20);
    for (const expr of dashboardExprs) {
      for (const n of metricNamesIn(expr)) assert.ok(names.has(n), `dashboard: ${n} is not in appliance/src/metrics/registry.ts (${expr})`);
      for (const { metric, label } of selectorLabels(expr)) {
        const base = baseMetric(metric, known);
        const allowed = [...(base ? known.get(base)!.labels : []), ...TARGET_LABELS, ...(metric.endsWith('_bucket') ? ['le'] : [])];
        assert.ok(allowed.includes(label), `dashboard: ${metric} has no label ${label} (${expr})`);
      }
    }
  });

  test('every appliance metric appears on the dashboard', () => {
    const used = new Set(dashboardExprs.flatMap(metricNamesIn).map((n) => baseMetric(n, known) ?? n));
    const missing = [...known.keys()].filter((n) => isOwn(n) && !used.has(n));
    assert.deepEqual(missing, []);
  });
});

describe('grafana dashboard', () => {
  test('has the datasource, instance and camera variables', () => {
    assert.ok(dashboard.schemaVersion >= 36 && dashboard.schemaVersion <= 41, `schemaVersion ${dashboard.schemaVersion}`);
    const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    assert.equal(vars.get('DS_PROMETHEUS')?.type, 'datasource');
    const camera = vars.get('camera');
    assert.equal(camera?.type, 'query');
    const q = typeof camera?.query === 'string' ? camera.query : camera?.query.query;
    assert.match(q ?? '', /^label_values\(roadside_camera_up(\{[^}]*\})?,\s*camera\)$/);
  });

  test('panels: unique ids, no overlap, every query on ${DS_PROMETHEUS}, camera metrics filtered by $camera', () => {
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      const { x, y, w, h } = p.gridPos;
      assert.ok(x >= 0 && w > 0 && x + w <= 24, `${p.title}: inside the 24-column grid`);
      for (let i = x; i < x + w; i++)
        for (let j = y; j < y + h; j++) {
          assert.ok(!cells.has(`${i},${j}`), `${p.title} overlaps another panel at ${i},${j}`);
          cells.add(`${i},${j}`);
        }
      if (p.type === 'row') continue;
      assert.equal(p.datasource?.uid, '${DS_PROMETHEUS}', `${p.title}: datasource`);
      assert.ok((p.targets ?? []).length > 0, `${p.title}: has queries`);
      for (const t of p.targets ?? []) {
        assert.equal(t.datasource?.uid, '${DS_PROMETHEUS}', `${p.title}/${t.refId}: datasource`);
        for (const metric of metricNamesIn(t.expr)) {
          if (!LABELS_OF.get(metric.replace(/_(bucket|sum|count)$/, ''))?.includes('camera')) continue;
          assert.match(t.expr, new RegExp(`${metric}\\{[^}]*camera=~"\\$camera"`), `${p.title}: ${metric} not filtered by $camera`);
        }
      }
    }
    const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join('|');
    for (const word of ['camera up', 'fps', 'dropped', 'latency', 'restarts', 'tracks', 'incidents', 'events', 'backlog', 'sink', 'free', 'anonymi', 'auth'])
      assert.ok(titles.includes(word), `a panel about ${word}`);
  });

  test('every dashboard query is valid PromQL (promtool check rules on them as recording rules)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roadside-dash-'));
    try {
      const rulesYaml = {
        // label_values(selector, label) is Grafana's; the selector inside is PromQL
        groups: [{ name: 'dashboard', rules: dashboardExprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr: expr.replace(/^label_values\((.*),\s*\w+\)$/, '$1') })) }],
      };
      writeFileSync(join(dir, 'dashboard-rules.json'), JSON.stringify(rulesYaml)); // JSON is YAML
      const r = run(PROMTOOL, ['check', 'rules', join(dir, 'dashboard-rules.json')]);
      assert.equal(r.status, 0, show(r));
      assert.match(r.stdout, new RegExp(`SUCCESS: ${dashboardExprs.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('systemd unit', () => {
  const verify = (unitDir: string) => run(SYSTEMD_ANALYZE, ['verify', join(unitDir, 'roadside.service')]);
  const withTemp = (fn: (dir: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), 'roadside-unit-'));
    try {
      fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  test('systemd-analyze verify: no warnings for roadside.service alone and with the GPU drop-in', () => {
    withTemp((dir) => {
      // verify checks that ExecStart's binary exists: use this machine's node wherever it lives.
      writeFileSync(join(dir, 'roadside.service'), readFileSync('ops/systemd/roadside.service', 'utf8').replace('/usr/bin/node ', `${process.execPath} `));
      let r = verify(dir);
      assert.equal(r.status, 0, show(r));
      assert.equal((r.stdout + r.stderr).trim(), '', show(r));
      mkdirSync(join(dir, 'roadside.service.d'));
      copyFileSync('ops/systemd/gpu.conf', join(dir, 'roadside.service.d', 'gpu.conf'));
      r = verify(dir);
      assert.equal(r.status, 0, show(r));
      assert.equal((r.stdout + r.stderr).trim(), '', show(r));
    });
  });

  test('systemd-analyze verify does warn about a misspelt key (so silence above means something)', () => {
    withTemp((dir) => {
      writeFileSync(
        join(dir, 'roadside.service'),
        readFileSync('ops/systemd/roadside.service', 'utf8').replace('/usr/bin/node ', `${process.execPath} `).replace(/^KillMode=mixed$/m, 'KilMode=mixed'),
      );
      const r = verify(dir);
      assert.match(r.stdout + r.stderr, /Unknown key 'KilMode'/);
    });
  });

  test('unit has the restart, shutdown and sandbox settings', () => {
    const unit = readFileSync('ops/systemd/roadside.service', 'utf8');
    const has = (line: string) => assert.match(unit, new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), line);
    for (const line of ['Restart=on-failure', 'KillSignal=SIGTERM', 'TimeoutStopSec=20s', 'EnvironmentFile=/etc/roadside/env', 'User=roadside',
      'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/roadside /etc/roadside', 'ProtectHome=yes', 'PrivateTmp=yes', 'PrivateDevices=yes',
      'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX', 'CapabilityBoundingSet=', 'SystemCallFilter=@system-service'])
      has(line);
    assert.match(unit, /^MemoryMax=\S+$/m);
    assert.doesNotMatch(unit, /^MemoryDenyWriteExecute=yes/m, 'V8 JIT needs W+X memory');
    const gpu = readFileSync('ops/systemd/gpu.conf', 'utf8');
    assert.match(gpu, /^PrivateDevices=no$/m);
    assert.match(gpu, /^DeviceAllow=\/dev\/nvidiactl rw$/m);
  });
});
