// Metrics forwarding: ops/prometheus/agent.yml checked with promtool, then run for real: the real
// appliance, Debian's Prometheus in agent mode (disk-backed WAL) scraping it with a 'metrics' token and
// remote-writing to a second real Prometheus (the central store, remote-write receiver). The series arrive
// with the site and box external labels, and samples scraped while the central store was down arrive
// after it is back. Bounded: about 40 s.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { startAppliance, TOKENS, type TestAppliance } from './helpers/appliance.js';
import { freePort } from './helpers/net.js';

const AGENT = 'ops/prometheus/agent.yml';
const PROMTOOL = '/usr/bin/promtool';
const PROMETHEUS = '/usr/bin/prometheus';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface AgentConfig {
  global: { scrape_interval: string; scrape_timeout: string; external_labels: Record<string, string> };
  scrape_configs: { job_name: string; authorization: { credentials_file: string }; static_configs: { targets: string[] }[] }[];
  remote_write: { url: string; authorization?: { credentials_file: string }; queue_config: Record<string, unknown> }[];
  rule_files?: unknown;
  alerting?: unknown;
}

function promtool(args: string[]) {
  const r = spawnSync(PROMTOOL, args, { encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

class Prom {
  proc: ChildProcess | null = null;
  log = '';
  constructor(
    readonly port: number,
    readonly args: string[],
  ) {}
  start(): void {
    const p = spawn(PROMETHEUS, [...this.args, `--web.listen-address=127.0.0.1:${this.port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr!.setEncoding('utf8');
    p.stderr!.on('data', (s: string) => (this.log = (this.log + s).slice(-4000)));
    this.proc = p;
  }
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  }
  async query(q: string, extra = ''): Promise<{ metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[]> {
    const path = extra ? `query_range?query=${encodeURIComponent(q)}${extra}` : `query?query=${encodeURIComponent(q)}`;
    const r = await fetch(`http://127.0.0.1:${this.port}/api/v1/${path}`);
    const body = (await r.json()) as { status: string; data: { result: [] } };
    return body.status === 'success' ? body.data.result : [];
  }
}

async function until<T>(f: () => Promise<T | null>, ms: number, what: () => string): Promise<T> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const v = await f().catch(() => null);
    if (v) return v;
    await sleep(250);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
}

describe('ops/prometheus/agent.yml', () => {
  const cfg = parse(readFileSync(AGENT, 'utf8')) as AgentConfig;
  const dir = mkdtempSync(join(tmpdir(), 'roadside-agent-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('agent-mode shape: external labels site and box, remote_write with a queue, no rules or alerting', () => {
    assert.deepEqual(Object.keys(cfg.global.external_labels).sort(), ['box', 'site']);
    assert.equal(cfg.remote_write.length, 1);
    assert.match(cfg.remote_write[0]!.url, /^https:\/\//);
    assert.ok(cfg.remote_write[0]!.queue_config.max_backoff, 'retries back off');
    assert.equal(cfg.rule_files, undefined, 'agent mode refuses rule_files');
    assert.equal(cfg.alerting, undefined, 'agent mode has no alerting');
    assert.equal(cfg.scrape_configs[0]!.job_name, 'roadside');
  });

  test('promtool check config fails without the token files and passes with them', () => {
    copyFileSync(AGENT, join(dir, 'agent.yml'));
    const missing = promtool(['check', 'config', join(dir, 'agent.yml')]);
    assert.notEqual(missing.status, 0, missing.out);
    assert.match(missing.out, /roadside-metrics\.token|remote-write\.token/);
    writeFileSync(join(dir, 'roadside-metrics.token'), 'example-token-not-a-secret');
    writeFileSync(join(dir, 'remote-write.token'), 'example-token-not-a-secret');
    const ok = promtool(['check', 'config', join(dir, 'agent.yml')]);
    assert.equal(ok.status, 0, ok.out);
    assert.match(ok.out, /SUCCESS/);
  });
});

describe('metrics forwarding through a real Prometheus agent into a real central store', () => {
  let t: TestAppliance;
  let central: Prom;
  let agent: Prom;
  const dir = mkdtempSync(join(tmpdir(), 'roadside-forward-'));

  before(async () => {
    t = await startAppliance([], { appliance: { id: 'box-42', site: 'north' } });
    const target = new URL(t.base).host;
    mkdirSync(join(dir, 'central'));
    mkdirSync(join(dir, 'wal'));
    writeFileSync(join(dir, 'central.yml'), 'global:\n  scrape_interval: 1m\n');
    central = new Prom(await freePort(), [`--config.file=${join(dir, 'central.yml')}`, `--storage.tsdb.path=${join(dir, 'central')}`, '--web.enable-remote-write-receiver']);
    central.start();
    // The shipped agent.yml with only the test's addresses, a fast scrape and fast retries swapped in.
    const cfg = parse(readFileSync(AGENT, 'utf8')) as AgentConfig;
    cfg.global.scrape_interval = '1s';
    cfg.global.scrape_timeout = '1s';
    cfg.global.external_labels = { site: 'north', box: 'box-42' };
    cfg.scrape_configs[0]!.static_configs = [{ targets: [target] }];
    cfg.remote_write[0]!.url = `http://127.0.0.1:${central.port}/api/v1/write`;
    cfg.remote_write[0]!.queue_config = { ...cfg.remote_write[0]!.queue_config, batch_send_deadline: '1s', min_backoff: '200ms', max_backoff: '1s' };
    writeFileSync(join(dir, 'agent.yml'), stringify(cfg));
    writeFileSync(join(dir, 'roadside-metrics.token'), TOKENS.metrics);
    writeFileSync(join(dir, 'remote-write.token'), 'central-store-token');
    agent = new Prom(await freePort(), ['--enable-feature=agent', `--config.file=${join(dir, 'agent.yml')}`, `--storage.agent.path=${join(dir, 'wal')}`]);
    agent.start();
  });
  after(async () => {
    await agent?.stop();
    await central?.stop();
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the appliance series reach the central store with site and box; an outage of the store is bridged by the WAL', async () => {
    const up = await until(async () => {
      const r = await central.query('up{job="roadside",site="north",box="box-42"}');
      return r.length ? r : null;
    }, 30_000, () => `up{box="box-42"} in the central store (agent: exit ${agent.proc?.exitCode} ${agent.log.slice(-600)}; central: exit ${central.proc?.exitCode} ${central.log.slice(-600)})`);
    assert.equal(up[0]!.value![1], '1', 'the agent scraped /metrics with its metrics token');
    const own = await central.query('roadside_outbox_stored_events{box="box-42"}');
    assert.equal(own.length, 1, 'appliance metrics forwarded');

    // The central store goes away for 4 s; the agent keeps scraping into its WAL.
    await central.stop();
    const downFrom = Date.now() / 1000;
    await sleep(4000);
    const downTo = Date.now() / 1000;
    central.start();
    const during = await until(async () => {
      const r = await central.query('up{box="box-42"}', `&start=${downFrom + 0.5}&end=${downTo - 0.5}&step=1`);
      return r.length && r[0]!.values!.length >= 2 ? r : null;
    }, 30_000, () => `samples from the outage in the central store (agent: ${agent.log.slice(-600)})`);
    assert.ok(during[0]!.values!.every(([, v]) => v === '1'));
    assert.ok(readFileSync(join(dir, 'agent.yml'), 'utf8').includes('external_labels'));
  });
});
