// Starts the real GStreamer RTSP server (appliance/demo/rtsp-loop-server.py, Debian's python3-gi)
// on 127.0.0.1 for a test, and lets the test stop, restart, freeze and thaw it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';

export { freePort, waitFor } from './net.js';

const SCRIPT = resolve('appliance/demo/rtsp-loop-server.py');

export class TestRtspServer {
  private child: ChildProcess | null = null;
  url = '';
  port = 0;

  constructor(
    private readonly clip: string,
    private readonly path = '/cam',
  ) {}

  async start(port = this.port): Promise<string> {
    const child = spawn('/usr/bin/python3', [SCRIPT, '--clip', this.clip, '--host', '127.0.0.1', '--port', String(port), '--path', this.path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let err = '';
    child.stderr!.on('data', (d) => (err = (err + String(d)).slice(-2000)));
    const lines = createInterface({ input: child.stdout! });
    this.url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`RTSP server did not start within 15 s: ${err}`)), 15_000);
      lines.on('line', (line) => {
        const m = /^READY (rtsp:\/\/\S+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolveUrl(m[1]!);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`RTSP server exited with ${code}: ${err}`));
      });
    });
    this.port = Number(new URL(this.url).port);
    return this.url;
  }

  /** Stops the server (the stream drops for every client). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    if (child.signalCode === 'SIGSTOP') child.kill('SIGCONT');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  }

  /** Freezes the server process: TCP stays open, no data flows (the case where ffmpeg hangs). */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }
}
