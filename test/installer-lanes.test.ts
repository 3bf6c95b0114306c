// The installer page's lane drawing in a real headless Chromium against the real appliance pulling a
// real RTSP stream (the cdnet-highway clip): two lanes drawn corner by corner on the anonymized
// snapshot, a virtual loop in each with its length in metres, a flipped direction, the lane interval,
// saved and read back from the API; a screenshot goes to test/artifacts/installer-lanes.png.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import type { LaneConfig } from '../appliance/src/config/schema.js';
import { CLIPS } from './helpers/paths.js';
import { InstallerSession, type Pt } from './helpers/installer.js';

const TOKEN = 'installer-lanes-test-token-7d2e4b';
const CAMERA = 'highway';
const SCREENSHOT = resolve('test/artifacts/installer-lanes.png');

const near = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} is not within ${tol} of ${expected}`);

// The two carriageway lanes of cdnet-highway (bench/ground-truth/lanes/cdnet-highway.lanes.json), entry edge first.
const LANES: Array<{ corners: Pt[]; loop: Pt[]; lengthM: string }> = [
  {
    corners: [{ x: 0.62, y: 0.05 }, { x: 0.73, y: 0.05 }, { x: 0.38, y: 0.95 }, { x: 0.04, y: 0.95 }],
    loop: [{ x: 0.25, y: 0.55 }, { x: 0.52, y: 0.55 }, { x: 0.48, y: 0.65 }, { x: 0.18, y: 0.65 }],
    lengthM: '4.5',
  },
  {
    corners: [{ x: 0.76, y: 0.05 }, { x: 0.84, y: 0.05 }, { x: 0.79, y: 0.95 }, { x: 0.4, y: 0.95 }],
    loop: [{ x: 0.55, y: 0.55 }, { x: 0.8, y: 0.55 }, { x: 0.795, y: 0.65 }, { x: 0.51, y: 0.65 }],
    lengthM: '5',
  },
];

describe('installer page: lanes', { timeout: 120_000 }, () => {
  const session = new InstallerSession({ clip: CLIPS.cdnet, token: TOKEN, camera: { id: CAMERA, name: 'Highway', fps: 5, width: 640, height: 480 } });
  let page: Page;
  const cameraConfig = () => session.cameraConfig<{ lanes?: LaneConfig[]; laneData?: { intervalSeconds: number } }>();
  const clickCanvas = (p: Pt) => session.clickCanvas(p);

  before(async () => {
    await session.start();
    page = session.page;
  });

  after(() => session.stop());

  test('two lanes with their loops are drawn on the anonymized snapshot, edited and saved', async () => {
    await page.goto(`${session.ui.base}/ui/`);
    const row = page.locator(`#camera-table tr[data-id="${CAMERA}"]`);
    await row.locator('.badge', { hasText: 'streaming' }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: `Open camera ${CAMERA}` }).click();
    // The page retries while the box says "no frame analysed yet".
    await page
      .waitForFunction(() => /Anonymized snapshot/.test(document.getElementById('snapshot-status')?.textContent ?? ''), null, { timeout: 40_000 })
      .catch(async (err: unknown) => assert.fail(`no snapshot: ${await page.locator('#snapshot-status').innerText()} (${String(err)})`));

    for (const [i, lane] of LANES.entries()) {
      await page.getByRole('button', { name: 'Draw lane' }).click();
      for (const c of lane.corners) await clickCanvas(c);
      assert.equal(await page.getByLabel(`Lane ${i + 1} id`).inputValue(), `lane-${i + 1}`);
      await page.getByRole('button', { name: `Draw loop of lane ${i + 1}` }).click();
      for (const c of lane.loop) await clickCanvas(c);
      await page.getByLabel(`Loop length of lane ${i + 1} (m)`).fill(lane.lengthM);
    }
    await page.getByLabel('Lane 1 id').fill('left');
    await page.getByLabel('Lane 2 id').fill('right');
    // Flip twice: back where it was (drawn entry edge first, so it already points down the image).
    await page.getByRole('button', { name: 'Flip direction of lane 2' }).click();
    await page.getByRole('button', { name: 'Flip direction of lane 2' }).click();
    await page.getByLabel('Lane interval (s)').selectOption('20');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForFunction(() => (document.getElementById('save-status')?.textContent ?? '').includes('Camera saved') || !document.getElementById('errors')!.hidden, null, { timeout: 15_000 });
    assert.match(await page.locator('#save-status').innerText(), /Camera saved/);

    const cfg = await cameraConfig();
    assert.equal(cfg.laneData?.intervalSeconds, 20);
    assert.deepEqual(cfg.lanes?.map((l) => l.id), ['left', 'right']);
    for (const [i, want] of LANES.entries()) {
      const lane: LaneConfig | undefined = cfg.lanes?.[i];
      assert.ok(lane?.polygon && lane.loop);
      lane.polygon.forEach((p, k) => {
        near(p.x, want.corners[k]?.x ?? NaN, 0.01, `lane ${i + 1} corner ${k + 1} x`);
        near(p.y, want.corners[k]?.y ?? NaN, 0.01, `lane ${i + 1} corner ${k + 1} y`);
      });
      lane.loop.polygon.forEach((p, k) => near(p.y, want.loop[k]?.y ?? NaN, 0.01, `loop ${i + 1} corner ${k + 1} y`));
      assert.equal(lane.loop.lengthM, Number(want.lengthM));
      assert.ok(lane.direction.y > 0.5, `lane ${i + 1} points down the image, the way traffic goes: ${JSON.stringify(lane.direction)}`);
    }

    // The lanes come back when the page is opened again.
    await page.reload();
    await page.getByLabel('Lane 2 id').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByLabel('Lane 2 id').inputValue(), 'right');
    assert.equal(await page.getByLabel('Loop length of lane 1 (m)').inputValue(), '4.5');
  });

  test('a screenshot of the lanes on the snapshot is written', async () => {
    mkdirSync(resolve('test/artifacts'), { recursive: true });
    await page.waitForFunction(() => /Anonymized snapshot/.test(document.getElementById('snapshot-status')?.textContent ?? ''), null, { timeout: 30_000 });
    await page.locator('#drawing').screenshot({ path: SCREENSHOT });
    assert.ok(existsSync(SCREENSHOT));
    assert.deepEqual([...readFileSync(SCREENSHOT).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    assert.ok(statSync(SCREENSHOT).size > 20_000, `a real picture, ${statSync(SCREENSHOT).size} bytes`);
    assert.deepEqual(session.pageErrors, [], 'no script errors on the page');
  });
});
