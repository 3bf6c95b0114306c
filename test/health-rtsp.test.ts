// Camera health end to end: faulty clips made with ffmpeg from a real shared clip (a freeze, a shifted
// view), each served by the real GStreamer RTSP server to the real appliance (ffmpeg ingest, detector,
// analytics, outbox, API, metrics). Bounded: two cameras, one appliance, about a minute of stream.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudEvent } from '../appliance/src/core/types.js';
import type { CameraHealthData, CountIntervalData } from '../appliance/src/core/event-data.js';
import { TestRtspServer, freePort, waitFor } from './helpers/rtsp-server.js';
import { startAppliance, TOKENS, type TestAppliance } from './helpers/appliance.js';
import { CLIPS } from './helpers/paths.js';
import { installerContext, launchChromium } from './helpers/browser.js';
import { ReferenceStore } from '../appliance/src/health/index.js';

/** Re-encodes the first `seconds` of a clip through a fault filter (H.264, a keyframe every second). */
function faultyClip(dir: string, name: string, vf: string, seconds: number): string {
  const out = join(dir, `${name}.mp4`);
  execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-i', CLIPS.cdnet, '-t', String(seconds), '-vf', vf, '-an', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-pix_fmt', 'yuv420p', '-y', out]);
  return out;
}

interface HealthView {
  reference: string;
  suspect: boolean;
  flags: string[];
  checks: { check: string; state: string; measures: Record<string, number> }[];
}

describe('camera health through the real RTSP server and appliance', () => {
  let dir: string;
  const servers: TestRtspServer[] = [];
  let t: TestAppliance;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'roadside-health-rtsp-'));
    // Frozen from 12 s to 27 s of the stream: frame 360 held for 15 s, then the clip goes on.
    const frozen = faultyClip(dir, 'frozen', 'loop=loop=449:size=1:start=360,setpts=N/30/TB', 30);
    // Shifted by 20 source px from 12 s to the end (56 s), as if the camera had been turned.
    const moved = faultyClip(dir, 'moved', "crop=w=iw-40:h=ih-40:x='if(gte(t,12),0,20)':y=20,scale=320:240", 56);
    const urls: string[] = [];
    for (const [clip, path] of [[frozen, '/frozen'], [moved, '/moved']] as const) {
      const s = new TestRtspServer(clip, path);
      servers.push(s);
      urls.push(await s.start(await freePort()));
    }
    const cam = (id: string, url: string, health: Record<string, unknown>) => ({
      id,
      url,
      fps: 2,
      width: 320,
      height: 180,
      stallSeconds: 10,
      lines: [{ id: 'l1', from: { x: 0.05, y: 0.6 }, to: { x: 0.95, y: 0.6 } }],
      health: { learnSeconds: 4, ...health },
    });
    t = await startAppliance([cam('frozen', urls[0]!, { frozen: { openSeconds: 4, closeSeconds: 2 } }), cam('moved', urls[1]!, { moved: { openSeconds: 3, closeSeconds: 5 } })], {
      analytics: { binSeconds: [5] },
    });
  });
  after(async () => {
    await t?.stop();
    for (const s of servers) await s.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const health = async (id: string): Promise<HealthView> => ((await (await t.get(`/api/v1/cameras/${id}`)).json()) as { status: { health: HealthView } }).status.health;
  const events = async <T>(camera: string, type: string): Promise<CloudEvent<T>[]> =>
    ((await (await t.get(`/api/v1/events?camera=${camera}&type=${type}&limit=1000`)).json()) as { events: CloudEvent<T>[] }).events;

  test('a frozen stream opens a frozen problem within 4 + 3 s, its count intervals are flagged rather than reported as zero traffic, and it closes when the picture moves again', async () => {
    let h: CloudEvent<CameraHealthData>[] = [];
    await waitFor(() => {
      void events<CameraHealthData>('frozen', 'camera.health').then((e) => (h = e), () => undefined);
      return h.some((e) => e.data.check === 'frozen' && e.data.state === 'closed');
    }, 80_000, 'frozen problem opened and closed');
    const opened = h.find((e) => e.data.check === 'frozen' && e.data.state === 'opened')!;
    const closed = h.find((e) => e.data.check === 'frozen' && e.data.state === 'closed')!;
    assert.ok(opened, 'opened event');
    assert.equal(closed.data.healthId, opened.data.healthId);
    const startedMs = Date.parse(opened.data.startedAt);
    const openedMs = Date.parse(opened.time);
    const closedMs = Date.parse(closed.time);
    assert.ok(openedMs - startedMs <= (4 + 3) * 1000, `opened ${openedMs - startedMs} ms after the fault was first seen`);
    // The freeze lasts 15 s of stream: the problem spans most of it, not a blip.
    assert.ok(closedMs - startedMs >= 10_000 && closedMs - startedMs <= 25_000, `problem lasted ${closedMs - startedMs} ms`);
    assert.deepEqual(h.filter((e) => e.data.check !== 'frozen').map((e) => e.data.check), [], 'no other problem on this camera');
    assert.doesNotMatch(JSON.stringify(h), /data:image|base64/i, 'numbers only');

    await new Promise((r) => setTimeout(r, 6_000)); // let the interval after the close end
    const intervals = await events<CountIntervalData>('frozen', 'count.interval');
    const during = intervals.filter((e) => Date.parse(e.data.intervalEnd) > openedMs + 1000 && Date.parse(e.data.intervalStart) < closedMs - 1000);
    assert.ok(during.length >= 1, 'intervals during the freeze');
    for (const e of during) assert.deepEqual(e.data.flags, ['camera-frozen'], `interval ${e.data.intervalStart} flagged`);
    const beforeFault = intervals.filter((e) => Date.parse(e.data.intervalEnd) <= startedMs);
    assert.ok(beforeFault.length >= 1, 'intervals before the freeze');
    // Before the freeze no camera-* flag (the start-up interval is 'partial', which is about coverage, not health).
    for (const e of beforeFault) assert.deepEqual((e.data.flags ?? []).filter((f) => f.startsWith('camera-')), [], `interval ${e.data.intervalStart} before the freeze`);
  });

  test('a shifted view opens a moved problem with the shift in px, the camera turns suspect, the reference snapshot is only ever anonymized, and the installer page shows both views side by side, and its confirm re-takes the reference', async () => {
    let view: HealthView | null = null;
    await waitFor(() => {
      void health('moved').then((v) => (view = v), () => undefined);
      return view?.suspect === true;
    }, 60_000, 'moved camera suspect');
    assert.equal(view!.checks.find((c) => c.check === 'moved')!.state, 'open');
    const opened = (await events<CameraHealthData>('moved', 'camera.health')).find((e) => e.data.check === 'moved' && e.data.state === 'opened')!;
    // 20 source px of 280 → 22.9 px at 320 wide.
    assert.ok(Math.abs(opened.data.measures.shiftX! - 22.9) <= 3, `shiftX ${opened.data.measures.shiftX}`);
    assert.ok(Math.abs(opened.data.measures.shiftY!) <= 2, `shiftY ${opened.data.measures.shiftY}`);
    assert.ok(view!.flags.includes('camera-moved'));

    const metrics = await (await t.get('/metrics', TOKENS.metrics)).text();
    assert.match(metrics, /^roadside_camera_health_problem\{camera="moved",check="moved"\} 1$/m);
    assert.match(metrics, /^roadside_camera_health_problem\{camera="moved",check="covered"\} 0$/m);

    for (const path of ['health/reference.jpg', 'snapshot.jpg']) {
      let r = await t.get(`/api/v1/cameras/moved/${path}`, TOKENS.viewer);
      if (r.status === 503 && r.headers.get('retry-after')) {
        await r.body?.cancel();
        await new Promise((res) => setTimeout(res, 1500));
        r = await t.get(`/api/v1/cameras/moved/${path}`, TOKENS.viewer);
      }
      if (r.status === 200) {
        assert.equal(r.headers.get('content-type'), 'image/jpeg');
        const b = Buffer.from(await r.arrayBuffer());
        assert.deepEqual([b[0], b[1]], [0xff, 0xd8]);
      } else {
        assert.equal(r.status, 503);
        assert.equal(((await r.json()) as { code: string }).code, 'ROADSIDE_ERR_IMAGE_WITHHELD');
      }
    }

    assert.equal((await t.send('POST', '/api/v1/cameras/moved/health/confirm', {}, TOKENS.viewer)).status, 403, 'a viewer cannot confirm');
    assert.equal((await t.send('POST', '/api/v1/cameras/nope/health/confirm', {}, TOKENS.installer)).status, 404);

    // The installer page: the problem, the reference and current anonymized views side by side, and the confirm.
    const browser = await launchChromium();
    try {
      const page = await (await installerContext(browser, TOKENS.installer)).newPage();
      await page.goto(`${t.base}/ui/#moved`);
      await page.locator('#camera-table tr[data-id="moved"] .badge', { hasText: 'moved' }).waitFor({ timeout: 15_000 });
      await page.locator('#health-moved').waitFor({ state: 'visible', timeout: 15_000 });
      await page.waitForFunction(
        () => ['health-reference', 'health-current'].every((id) => (document.getElementById(id) as HTMLImageElement).naturalWidth > 0) || /Not shown/.test(document.getElementById('health-images-status')!.textContent ?? ''),
        null,
        { timeout: 30_000 },
      );
      const shown = await page.evaluate(() => ['health-reference', 'health-current'].map((id) => (document.getElementById(id) as HTMLImageElement).src));
      // Only blob URLs of what the API returned: the page never builds an image of its own.
      for (const src of shown) assert.ok(src === '' || src.startsWith('blob:'), src);
      assert.match(await page.locator('#health-checks li[data-check="moved"]').innerText(), /open[\s\S]*shift \d/);
      await page.getByRole('button', { name: 'Confirm the current view' }).click();
      await page.locator('#health-summary', { hasText: /Confirmed|Learning/ }).waitFor({ timeout: 10_000 });
    } finally {
      await browser.close();
    }
    const after = await health('moved');
    assert.equal(after.suspect, false);
    assert.equal(after.reference, 'learning');
    let h: CloudEvent<CameraHealthData>[] = [];
    await waitFor(() => {
      void events<CameraHealthData>('moved', 'camera.health').then((e) => (h = e), () => undefined);
      return h.some((e) => e.data.check === 'moved' && e.data.state === 'closed');
    }, 10_000, 'moved closed on confirm');
    assert.equal((await t.get('/api/v1/cameras/moved/health/reference.jpg')).status, 503, 'no reference image while it is learned again');
  });
});

describe('stored health references follow the camera config', () => {
  test('a disabled camera keeps its stored reference; a deleted one forgets it', async () => {
    const deadUrl = `rtsp://127.0.0.1:${await freePort()}/none`;
    const t = await startAppliance([
      { id: 'kept', url: deadUrl, stallSeconds: 3 },
      { id: 'gone', url: deadUrl, stallSeconds: 3 },
    ]);
    try {
      const store = new ReferenceStore(join(t.dir, 'data', 'health'));
      const ref = { takenAtMs: Date.now(), samples: 3, meanLuma: 100, sharpness: 50, blockStd: new Float32Array(48).fill(10), edges: new Float32Array(160 * 90), selfCorrelation: 0.9 };
      for (const id of ['kept', 'gone']) store.save(id, ref, 640, 360);
      assert.equal((await t.send('PUT', '/api/v1/cameras/kept', { id: 'kept', url: deadUrl, enabled: false })).status, 200);
      assert.equal((await fetch(`${t.base}/api/v1/cameras/gone`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKENS.admin}` } })).status, 204);
      assert.ok(store.load('kept', 640, 360), 'the disabled camera keeps its reference');
      assert.equal(store.load('gone', 640, 360), null, 'the deleted camera forgot its reference');
    } finally {
      await t.stop();
    }
  });
});
