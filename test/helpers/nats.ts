// Real nats-server (Debian's /usr/sbin/nats-server 2.9) with JetStream on 127.0.0.1: one node or a
// cluster of N, each node with its own store dir and client/cluster ports, routes on loopback. Nodes can
// be killed (SIGKILL: a crash) and restarted on the same ports and store, so they rejoin the cluster.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import { freePort } from './net.js';

export const NATS_BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How the test side connects (credentials, TLS) when the servers ask for it. */
export interface Auth {
  user?: string;
  pass?: string;
  tls?: { caFile: string };
}

export class NatsNode {
  proc: ChildProcess | null = null;
  log = '';
  constructor(
    readonly name: string,
    readonly port: number,
    readonly clusterPort: number,
    readonly conf: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  start(): void {
    if (this.running) return;
    const proc = spawn(NATS_BIN, ['-c', this.conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (s: string) => (this.log = (this.log + s).slice(-8000)));
    this.proc = proc;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(signal);
    await gone;
  }
}

export class NatsCluster {
  readonly nodes: NatsNode[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'roadside-nats-'));

  private constructor() {}

  /** size 1 = a single server without cluster block; otherwise a full mesh of routes on loopback. */
  static async create(size: number, extraConf: string[] = []): Promise<NatsCluster> {
    const c = new NatsCluster();
    const ports = await Promise.all(Array.from({ length: size }, async () => [await freePort(), await freePort()] as const));
    const routes = ports.map(([, cp]) => `nats-route://127.0.0.1:${cp}`);
    ports.forEach(([port, cport], i) => {
      const name = `n${i + 1}`;
      const store = join(c.dir, name);
      mkdirSync(store, { recursive: true });
      const lines = [`server_name: ${name}`, `listen: 127.0.0.1:${port}`, `jetstream { store_dir: "${store}" }`];
      if (size > 1) {
        lines.push(`cluster { name: roadside-test, listen: 127.0.0.1:${cport}, routes: [${routes.filter((_, j) => j !== i).join(', ')}] }`);
      }
      lines.push(...extraConf);
      const conf = join(c.dir, `${name}.conf`);
      writeFileSync(conf, lines.join('\n') + '\n');
      c.nodes.push(new NatsNode(name, port, cport, conf));
    });
    return c;
  }

  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  node(name: string): NatsNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /** Starts every node that is not running and waits for a JetStream meta leader. */
  async start(timeoutMs = 20_000): Promise<void> {
    this.nodes.forEach((n) => n.start());
    await this.waitForJetStream(timeoutMs);
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
  }

  /** A management connection (test side): JetStream API answers only once a meta leader is elected. */
  async manager(auth: Auth = {}): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
    const nc = await connect({ ...auth, servers: this.nodes.filter((n) => n.running).map((n) => n.url), maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    return { nc, jsm: await jetstreamManager(nc, { timeout: 2000 }) };
  }

  async waitForJetStream(timeoutMs: number, auth: Auth = {}): Promise<void> {
    const t0 = Date.now();
    let last = '';
    while (Date.now() - t0 < timeoutMs) {
      let nc: NatsConnection | null = null;
      try {
        nc = await connect({ ...auth, servers: this.nodes.filter((n) => n.running).map((n) => n.url), timeout: 1000 });
        const jsm = await jetstreamManager(nc, { timeout: 1000 });
        await jsm.getAccountInfo();
        return;
      } catch (err) {
        last = (err as Error).message;
        await sleep(200);
      } finally {
        await nc?.close().catch(() => {});
      }
    }
    throw new Error(`no JetStream meta leader within ${timeoutMs} ms (${last}); logs:\n${this.nodes.map((n) => `${n.name}: ${n.log.slice(-1500)}`).join('\n')}`);
  }

  /** Stream info once the stream has a leader (and, for R>1, every replica current). */
  async streamInfo(jsm: JetStreamManager, stream: string, timeoutMs = 20_000): Promise<StreamInfo> {
    const t0 = Date.now();
    let last = '';
    while (Date.now() - t0 < timeoutMs) {
      try {
        const info = await jsm.streams.info(stream);
        if (!this.nodes.length || this.nodes.length === 1 || info.cluster?.leader) return info;
        last = 'no leader yet';
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(200);
    }
    throw new Error(`stream ${stream} has no leader within ${timeoutMs} ms (${last})`);
  }

  async dispose(): Promise<void> {
    await this.stopAll();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
