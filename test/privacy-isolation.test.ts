// Snapshots never get in the way of analysis (real appliance, real RTSP camera, real models): 50
// back-to-back snapshot requests with a 100 ms deadline (so most time out and their worker is killed)
// leave the camera's analysed frame rate where it was, never run two anonymizations at once, and
// leave the appliance's memory where it was.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestRtspServer, freePort, waitFor } from './helpers/rtsp-server.js';
import { startAppliance, TOKENS, type TestAppliance } from './helpers/appliance.js';
import { CLIPS } from './helpers/paths.js';

const WINDOW_MS = 10_000;
const REQUESTS = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('anonymization off the analysis path', () => {
  let rtsp: TestRtspServer;
  let t: TestAppliance;

  before(async () => {
    rtsp = new TestRtspServer(CLIPS.opendatacam);
    const url = await rtsp.start(await freePort());
    t = await startAppliance([{ id: 'cam', url, fps: 5, width: 640, height: 360, stallSeconds: 30 }], { privacy: { timeoutMs: 100 } });
    await waitFor(() => (t.app.cameras.get('cam')?.status().framesAnalysed ?? 0) >= 15, 60_000, 'the camera analysing steadily');
  });
  after(async () => {
    await t?.stop();
    await rtsp?.stop();
  });

  test('50 snapshots with a 100 ms deadline: fps within 10 %, one anonymization at a time, RSS back within 50 MB', async (ctx) => {
    const cam = t.app.cameras.get('cam')!;
    const an = t.app.anonymizer!;
    assert.equal(an.unavailable, null);
    const rss0 = process.memoryUsage().rss;

    // frames analysed over a window without snapshots...
    let f0 = cam.status().framesAnalysed;
    await sleep(WINDOW_MS);
    const baseline = cam.status().framesAnalysed - f0;

    // ...and over an equal window while snapshots are requested back to back by two clients (one
    // running, one waiting: the queue is always full), at least 50 of them
    const statuses: string[] = [];
    let issued = 0;
    let windowOpen = true;
    const client = async (): Promise<void> => {
      while (issued < REQUESTS || windowOpen) {
        issued++;
        const res = await t.get('/api/v1/cameras/cam/snapshot.jpg', TOKENS.viewer);
        const body = Buffer.from(await res.arrayBuffer());
        statuses.push(res.status === 200 ? 'ok' : `${res.status} ${(JSON.parse(body.toString()) as { code: string; error: string }).error}`);
        if (res.status === 200) assert.ok(res.headers.get('x-roadside-masked-share'), 'a released image says how much of it is masked');
        // busy (one running, one waiting): a client waits a little, as the installer page does
        if (res.headers.get('retry-after')) await sleep(100);
      }
    };
    f0 = cam.status().framesAnalysed;
    const clients = [client(), client()];
    await sleep(WINDOW_MS);
    const withSnapshots = cam.status().framesAnalysed - f0;
    windowOpen = false;
    await Promise.all(clients);

    // the last timed-out job's worker may still be exiting when its client has the answer
    await waitFor(() => an.stats().running === 0, 10_000, 'the last killed worker to exit');
    const stats = an.stats();
    const summary = `baseline ${baseline} frames, with snapshots ${withSnapshots} frames; ${statuses.length} requests: ${JSON.stringify(tally(statuses))}; ${JSON.stringify(stats)}`;
    ctx.diagnostic(summary);
    assert.ok(statuses.length >= REQUESTS, summary);
    assert.ok(baseline >= 0.8 * 5 * (WINDOW_MS / 1000), `the camera runs at its 5 fps without snapshots: ${summary}`);
    assert.ok(Math.abs(withSnapshots - baseline) <= 0.1 * baseline, `analysed fps within 10 %: ${summary}`);
    // the deadline was really hit, and hitting it killed the job's worker
    assert.ok(statuses.some((s) => /withheld: timeout/.test(s)), summary);
    assert.ok(stats.workersTerminated >= 1, summary);
    // never two at once: running jobs and live workers, high-water marks since the appliance started
    assert.equal(stats.maxRunning, 1, summary);
    assert.equal(stats.maxWorkers, 1, summary);
    assert.equal(stats.running, 0);
    const metrics = await (await t.get('/metrics', TOKENS.metrics)).text();
    assert.match(metrics, /^roadside_anonymization_running 0$/m);

    // memory: back within 50 MB of where it started (killed workers take theirs with them)
    let rss = process.memoryUsage().rss;
    for (let i = 0; i < 20 && rss > rss0 + 50 * 2 ** 20; i++) {
      await sleep(500);
      rss = process.memoryUsage().rss;
    }
    ctx.diagnostic(`RSS ${rss >> 20} MB, started at ${rss0 >> 20} MB`);
    assert.ok(rss <= rss0 + 50 * 2 ** 20, `RSS ${rss >> 20} MB, started at ${rss0 >> 20} MB`);
  });

  test('after the burst the route still answers: withheld with the timeout reason, and counted', async () => {
    // 100 ms is too short for a whole frame here; the route keeps answering, and the counters add up
    const res = await t.get('/api/v1/cameras/cam/snapshot.jpg', TOKENS.viewer);
    assert.equal(res.status, 503);
    const body = (await res.json()) as { code: string; error: string };
    assert.equal(body.code, 'ROADSIDE_ERR_IMAGE_WITHHELD');
    assert.match(body.error, /timeout/);
    const metrics = await (await t.get('/metrics', TOKENS.metrics)).text();
    assert.match(metrics, /roadside_anonymization_withheld_total\{reason="timeout"\} [1-9]/);
  });
});

function tally(statuses: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1;
  return out;
}
