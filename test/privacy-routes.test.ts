// Every route that can return image bytes, found by walking the registered routes, returns only
// anonymized pixels; when blurring cannot be done the image is withheld with a clear reason.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { registeredRoutes } from '../appliance/src/api/auth.js';
import type { Box, RgbImage } from '../appliance/src/core/types.js';
import { TestRtspServer, freePort, waitFor } from './helpers/rtsp-server.js';
import { startAppliance, TOKENS, type TestAppliance } from './helpers/appliance.js';
import { CLIPS } from './helpers/paths.js';
import { psnrWhere } from './helpers/image.js';

function isImage(ct: string | null, body: Buffer): boolean {
  const jpeg = body[0] === 0xff && body[1] === 0xd8;
  const png = body.subarray(0, 4).toString('latin1') === '\x89PNG';
  return (ct ?? '').startsWith('image/') || jpeg || png;
}


function maskOf(img: RgbImage, boxes: Box[]): Uint8Array {
  const m = new Uint8Array(img.width * img.height);
  for (const b of boxes) {
    for (let y = Math.max(0, Math.floor(b.y)); y < Math.min(img.height, Math.ceil(b.y + b.h)); y++)
      for (let x = Math.max(0, Math.floor(b.x)); x < Math.min(img.width, Math.ceil(b.x + b.w)); x++) m[y * img.width + x] = 1;
  }
  return m;
}

describe('image routes', () => {
  let rtsp: TestRtspServer;
  let t: TestAppliance;

  before(async () => {
    rtsp = new TestRtspServer(CLIPS.opendatacam);
    const url = await rtsp.start(await freePort());
    // A generous blur timeout: this test checks what is masked, not how fast (a loaded CI box is slow).
    t = await startAppliance([{ id: 'cam', url, fps: 5, width: 640, height: 360, stallSeconds: 30, health: { learnSeconds: 2 } }], { privacy: { timeoutMs: 30_000 } });
    await waitFor(() => (t.app.cameras.get('cam')?.lastAnalysed()?.detections.length ?? 0) >= 5, 40_000, 'an analysed frame with vehicles');
    await waitFor(() => (t.app.cameras.get('cam')?.healthMonitor()?.referenceRaw() ?? null) !== null, 20_000, 'the health reference view');
    // Freeze the input so the frame the route encodes is the one the test compares against.
    await rtsp.stop();
    const cam = t.app.cameras.get('cam')!;
    await waitFor(() => cam.status().state !== 'streaming', 20_000, 'stream to end');
    let seen = -1;
    await waitFor(() => {
      const n = cam.status().framesAnalysed;
      const settled = n === seen;
      seen = n;
      return settled;
    }, 20_000, 'analysis to settle');
  });
  after(async () => {
    await t?.stop();
    await rtsp?.stop();
  });

  test('walks every GET route: only the snapshot and the health reference view return image bytes, and their pixels are pixelated where faces, plates and vehicles are', async () => {
    const imageRoutes: string[] = [];
    for (const r of registeredRoutes(t.app.api)) {
      if (r.method !== 'GET' || r.url.startsWith('/docs') || r.url.includes('stream')) continue;
      const url = r.url.replace(':id', 'cam').replace(':type', 'count.interval');
      const res = await t.get(url, TOKENS.admin);
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status === 200 && isImage(res.headers.get('content-type'), body)) imageRoutes.push(r.url);
    }
    assert.deepEqual(imageRoutes.sort(), ['/api/v1/cameras/:id/health/reference.jpg', '/api/v1/cameras/:id/snapshot.jpg']);

    const cam = t.app.cameras.get('cam')!;
    for (const url of imageRoutes) {
      // Each route against the raw frame it shows: the last analysed one, or the reference view.
      const last = url.includes('reference') ? cam.healthMonitor()!.referenceRaw()! : cam.lastAnalysed()!;
      const raw: RgbImage = { width: last.frame.width, height: last.frame.height, data: Buffer.from(last.frame.data) };
      const regions = await t.app.anonymizer!.maskRegions(raw, last.detections);
      assert.ok(regions.length >= 5, `${url}: ${regions.length} regions to mask`);
      const res = await t.get(url.replace(':id', 'cam'), TOKENS.viewer);
      const jpeg = Buffer.from(await res.arrayBuffer());
      const decoded = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      assert.equal(decoded.info.width, raw.width);
      const mask = maskOf(raw, regions);
      const got: RgbImage = { width: raw.width, height: raw.height, data: decoded.data };
      const inside = psnrWhere(got, raw, (x, y) => mask[y * raw.width + x] === 1);
      const outside = psnrWhere(got, raw, (x, y) => mask[y * raw.width + x] === 0);
      // Outside the masks the JPEG is faithful; inside, the detail is gone.
      assert.ok(outside > 28, `outside PSNR ${outside.toFixed(1)} dB`);
      assert.ok(inside < outside - 6, `inside PSNR ${inside.toFixed(1)} dB vs outside ${outside.toFixed(1)} dB`);
    }
  });
});

describe('fail closed over HTTP', () => {
  test('with the face model missing, the snapshot is withheld with 503 and the reason, and counting goes on', async () => {
    const rtsp = new TestRtspServer(CLIPS.opendatacam);
    const url = await rtsp.start(await freePort());
    const t = await startAppliance([{ id: 'cam', url, fps: 5, width: 320, height: 180 }], { privacy: { faceModel: 'no_such_model' } });
    try {
      await waitFor(() => (t.app.cameras.get('cam')?.status().framesAnalysed ?? 0) >= 3, 40_000, 'frames analysed');
      const res = await t.get('/api/v1/cameras/cam/snapshot.jpg', TOKENS.viewer);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('content-type')?.startsWith('application/json'), true);
      assert.match(((await res.json()) as { error: string }).error, /withheld: model-missing/);
      const metrics = await (await t.get('/metrics', TOKENS.metrics)).text();
      assert.match(metrics, /roadside_anonymization_withheld_total\{reason="model-missing"\} [1-9]/);
    } finally {
      await t.stop();
      await rtsp.stop();
    }
  });
});
