// The installer page in a real headless Chromium against the real appliance, which pulls a real RTSP
// stream: list, snapshot, drawing a counting line, a refused line, calibration, and the Basic login.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Appliance } from '../appliance/src/app.js';
import { CLIPS } from './helpers/paths.js';
import { InstallerSession, type Pt } from './helpers/installer.js';

const TOKEN = 'installer-ui-test-token-5f1c9a';
const CAMERA = 'cam1';
const SCREENSHOT = resolve('test/artifacts/installer-ui.png');

interface LineCfg {
  id: string;
  from: Pt;
  to: Pt;
  direction?: Pt;
  minTravel: number;
}
interface CameraCfg {
  id: string;
  url: string;
  calibration?: string;
  lines: LineCfg[];
  zones: unknown[];
}

const near = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} is not within ${tol} of ${expected}`);

describe('installer page', { timeout: 90_000 }, () => {
  const session = new InstallerSession({ clip: CLIPS.opendatacam, token: TOKEN, camera: { id: CAMERA, name: 'Test junction', fps: 5, width: 640, height: 360 } });
  let app: Appliance;
  let base: string;
  let browser: Browser;
  let page: Page;
  let rtspUrl: string;

  const api = (path: string) => fetch(base + path, { headers: { authorization: `Bearer ${TOKEN}` } });
  const cameraConfig = () => session.cameraConfig<CameraCfg>();
  /** Clicks on the drawing canvas at relative image coordinates. */
  const clickCanvas = (x: number, y: number) => session.clickCanvas({ x, y });
  const save = () => page.getByRole('button', { name: 'Save', exact: true }).click();
  /** Saves and waits until the page says `expected` or shows errors; fails with what the page says. */
  const saveExpecting = async (expected: string) => {
    await save();
    await page.waitForFunction(
      (want) => (document.getElementById('save-status')?.textContent ?? '').includes(want) || !document.getElementById('errors')!.hidden,
      expected,
      { timeout: 15_000 },
    );
    const status = await page.locator('#save-status').innerText();
    const errors = (await page.getByRole('alert').isVisible()) ? await page.getByRole('alert').innerText() : '';
    assert.ok(status.includes(expected) && !errors, `expected "${expected}", the page says: ${status} ${errors}`);
  };
  const authFailures = async () => (await app.metrics.authFailures.get()).values.reduce((s, v) => s + v.value, 0);

  before(async () => {
    await session.start();
    ({ browser, page, rtspUrl } = session);
    app = session.ui.app;
    base = app.address();
  });

  after(() => session.stop());

  test('without credentials the page answers 401 with a Basic challenge', async () => {
    const anonymous = await browser.newContext();
    try {
      const page = await anonymous.newPage();
      const responded = page.waitForResponse((r) => r.url() === `${base}/ui/`);
      // Chromium then gives up on the navigation (no credentials to offer); the response is what counts.
      await page.goto(`${base}/ui/`).catch(() => null);
      const res = await responded;
      assert.equal(res.status(), 401);
      assert.match(res.headers()['www-authenticate'] ?? '', /^Basic /);
      assert.doesNotMatch(await res.text(), /Roadside installer/, 'no page without a login');
      assert.equal(await page.getByRole('heading', { name: /Roadside/ }).count(), 0);
    } finally {
      await anonymous.close();
    }
    // A wrong token is refused the same way (checked outside the browser, which gives up on it).
    const wrong = await fetch(`${base}/ui/`, { headers: { accept: 'text/html', authorization: `Basic ${Buffer.from('installer:not-the-token').toString('base64')}` } });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic /);
  });

  test('the camera is listed and turns streaming', async () => {
    const failuresBefore = await authFailures();
    const res = await page.goto(`${base}/ui/`);
    assert.equal(res?.status(), 200);
    const row = page.locator(`#camera-table tr[data-id="${CAMERA}"]`);
    await row.waitFor({ timeout: 10_000 });
    assert.match(await row.innerText(), /Test junction/);
    assert.match(await row.innerText(), /not calibrated/);
    // Credentials must be hidden in the list.
    assert.doesNotMatch(await row.innerText(), /@/);
    await row.locator('.badge', { hasText: 'streaming' }).waitFor({ timeout: 40_000 });
    // The page's own API calls log in with the Basic credentials: at most a challenge or two, never the limiter's 10.
    assert.ok((await authFailures()) - failuresBefore <= 3, `auth failures while the page polls: ${(await authFailures()) - failuresBefore}`);
  });

  test('the camera opens with its config and the anonymized snapshot', async () => {
    await page.getByRole('button', { name: `Open camera ${CAMERA}` }).click();
    await page.waitForFunction((url) => (document.getElementById('cam-url') as HTMLInputElement).value === url, rtspUrl, { timeout: 10_000 });
    assert.equal(await page.getByLabel('Camera id').inputValue(), CAMERA);
    assert.equal(await page.getByLabel('Name').inputValue(), 'Test junction');
    assert.equal(await page.getByLabel('Width (px)').inputValue(), '640');
    // The page retries while the box says "no frame analysed yet".
    await page.waitForFunction(() => (document.getElementById('snapshot') as HTMLImageElement).naturalWidth > 0, null, { timeout: 30_000 });
    const size = await page.evaluate(() => {
      const img = document.getElementById('snapshot') as HTMLImageElement;
      return { w: img.naturalWidth, h: img.naturalHeight };
    });
    assert.deepEqual(size, { w: 640, h: 360 });
    assert.match(await page.locator('#snapshot-status').innerText(), /Anonymized snapshot, 640×360/);
  });

  test('a counting line drawn with two clicks is saved in relative coordinates, with its flipped direction', async () => {
    await page.getByRole('button', { name: 'Draw line' }).click();
    assert.equal(await page.getByRole('button', { name: 'Draw line' }).getAttribute('aria-pressed'), 'true');
    await clickCanvas(0.2, 0.7);
    await clickCanvas(0.8, 0.6);
    assert.equal(await page.getByLabel('Line 1 id').inputValue(), 'line-1');
    await page.getByLabel('Line 1 name').fill('Northbound');
    // Default forward is the left normal of from→to, (dy, −dx) = (−0.1, −0.6); flipping writes the opposite.
    await page.getByRole('button', { name: 'Flip direction of line 1' }).click();
    await saveExpecting('Camera saved');

    const cfg = await cameraConfig();
    assert.equal(cfg.lines.length, 1);
    const [line] = cfg.lines;
    assert.ok(line);
    assert.equal(line.id, 'line-1');
    assert.equal((line as LineCfg & { name?: string }).name, 'Northbound');
    near(line.from.x, 0.2, 0.01, 'from.x');
    near(line.from.y, 0.7, 0.01, 'from.y');
    near(line.to.x, 0.8, 0.01, 'to.x');
    near(line.to.y, 0.6, 0.01, 'to.y');
    assert.ok(line.direction, 'flipping sets the direction explicitly');
    near(line.direction.x, -(line.to.y - line.from.y), 1e-3, 'direction.x');
    near(line.direction.y, line.to.x - line.from.x, 1e-3, 'direction.y');
    assert.ok(line.direction.y > 0, 'the flipped forward side points down the image');

    // Applied without a restart of the appliance: the running pipeline counts on the new line.
    const live = (await (await api(`/api/v1/cameras/${CAMERA}`)).json()) as { live: { lines: { lineId: string }[] } | null };
    assert.deepEqual(
      live.live?.lines.map((l) => l.lineId),
      ['line-1'],
    );
  });

  test('a zero-length line is refused by the server, the page names the field, the config stays', async () => {
    const before = await cameraConfig();
    await page.getByRole('button', { name: 'Draw line' }).click();
    await clickCanvas(0.5, 0.4);
    await clickCanvas(0.5, 0.4);
    assert.equal(await page.getByLabel('Line 2 id').inputValue(), 'line-2');
    await save();
    const errors = page.getByRole('alert');
    await errors.locator('li').first().waitFor({ timeout: 10_000 });
    const text = await errors.innerText();
    assert.match(text, /line is too short/);
    assert.match(text, /Counting line 2 \(line-2\)/, 'the field is named');
    assert.match(text, /\/lines\/1/, 'with its config path');
    assert.match(text, /Not saved/);
    assert.equal(await page.getByLabel('Line 2 id').getAttribute('aria-invalid'), 'true', 'the refused line is marked');
    assert.equal(await page.getByLabel('Line 1 id').getAttribute('aria-invalid'), null, 'the good line is not');
    assert.deepEqual(await cameraConfig(), before, 'the running config did not change');

    await page.getByRole('button', { name: 'Delete line 2' }).click();
  });

  test('a zone drawn point by point, with its kind and lane direction, is saved', async () => {
    const corners = [
      { x: 0.35, y: 0.55 },
      { x: 0.65, y: 0.55 },
      { x: 0.9, y: 0.98 },
      { x: 0.1, y: 0.98 },
    ];
    await page.getByRole('button', { name: 'Draw zone' }).click();
    for (const c of corners) await clickCanvas(c.x, c.y);
    await page.getByRole('button', { name: 'Close zone' }).click();
    assert.equal(await page.getByLabel('Zone 1 id').inputValue(), 'zone-1');
    await page.getByLabel('Zone 1 kind').selectOption('sidewalk');
    await page.getByRole('button', { name: 'Draw lane direction of zone 1' }).click();
    await clickCanvas(0.5, 0.95);
    await clickCanvas(0.5, 0.6);
    await saveExpecting('Camera saved');

    const cfg = await cameraConfig();
    const zone = cfg.zones[0] as { id: string; kind: string; polygon: Pt[]; laneDirection?: Pt };
    assert.equal(cfg.zones.length, 1);
    assert.equal(zone.id, 'zone-1');
    assert.equal(zone.kind, 'sidewalk');
    assert.equal(zone.polygon.length, 4);
    zone.polygon.forEach((p, i) => {
      near(p.x, corners[i]!.x, 0.01, `corner ${i + 1} x`);
      near(p.y, corners[i]!.y, 0.01, `corner ${i + 1} y`);
    });
    assert.ok(zone.laneDirection, 'lane direction set');
    near(zone.laneDirection.x, 0, 0.01, 'lane x');
    near(zone.laneDirection.y, -0.35, 0.01, 'lane y (up the image)');
    assert.equal(cfg.lines.length, 1, 'the line is kept');
  });

  test('a stop line drawn with two clicks is saved; a zone can be a no-stopping zone', async () => {
    await page.getByRole('button', { name: 'Draw stop line' }).click();
    assert.equal(await page.getByRole('button', { name: 'Draw stop line' }).getAttribute('aria-pressed'), 'true');
    await clickCanvas(0.3, 0.5);
    await clickCanvas(0.6, 0.52);
    assert.equal(await page.getByLabel('Stop line 1 id').inputValue(), 'stop-1');
    await page.getByLabel('Stop line 1 name').fill('Signal, northbound');
    await page.getByLabel('Zone 1 kind').selectOption('no-stopping');
    await saveExpecting('Camera saved');

    const cfg = (await cameraConfig()) as CameraCfg & { stopLines?: Array<{ id: string; name?: string; from: Pt; to: Pt }> };
    assert.equal(cfg.stopLines?.length, 1);
    const [stop] = cfg.stopLines ?? [];
    assert.equal(stop?.id, 'stop-1');
    assert.equal(stop?.name, 'Signal, northbound');
    near(stop?.from.x ?? -1, 0.3, 0.01, 'from.x');
    near(stop?.to.y ?? -1, 0.52, 0.01, 'to.y');
    assert.equal((cfg.zones[0] as { kind: string }).kind, 'no-stopping');

    // Deleting the last one leaves no empty list behind, and nothing to save twice.
    await page.getByRole('button', { name: 'Delete stop line 1' }).click();
    await page.getByLabel('Zone 1 kind').selectOption('sidewalk');
    await saveExpecting('Camera saved');
    const after = (await cameraConfig()) as CameraCfg & { stopLines?: unknown[] };
    assert.ok(!after.stopLines || after.stopLines.length === 0);
  });

  test('four calibration points with ground metres calibrate the camera', async () => {
    const picks = [
      { x: 0.1, y: 0.5, gx: 0, gy: 0 },
      { x: 0.9, y: 0.5, gx: 14, gy: 0 },
      { x: 0.95, y: 0.95, gx: 12, gy: 30 },
      { x: 0.05, y: 0.95, gx: 2, gy: 30 },
    ];
    await page.getByRole('button', { name: 'Add calibration point' }).click();
    for (const p of picks) await clickCanvas(p.x, p.y);
    for (const [i, p] of picks.entries()) {
      await page.getByLabel(`Ground X of point ${i + 1} (m)`).fill(String(p.gx));
      await page.getByLabel(`Ground Y of point ${i + 1} (m)`).fill(String(p.gy));
    }
    await page.getByRole('button', { name: 'Done' }).click();
    await saveExpecting('Calibration saved');

    const cfg = await cameraConfig();
    assert.ok(cfg.calibration, 'the camera config points at its calibration file');
    assert.equal(cfg.lines.length, 1, 'the line saved earlier is kept');
    const file = JSON.parse(readFileSync(cfg.calibration, 'utf8')) as { imageSize: { width: number; height: number }; points: { image: Pt; ground: Pt }[] };
    assert.deepEqual(file.imageSize, { width: 640, height: 360 });
    assert.equal(file.points.length, 4);
    for (const [i, p] of picks.entries()) {
      near(file.points[i]!.image.x, p.x * 640, 4, `point ${i + 1} image x`);
      near(file.points[i]!.image.y, p.y * 360, 4, `point ${i + 1} image y`);
      assert.deepEqual(file.points[i]!.ground, { x: p.gx, y: p.gy });
    }
    const status = (await (await api(`/api/v1/cameras/${CAMERA}`)).json()) as { status: { calibrated: boolean } };
    assert.equal(status.status.calibrated, true);
    await page.locator(`#camera-table tr[data-id="${CAMERA}"] .cal.yes`).waitFor({ timeout: 10_000 });
    assert.match(await page.locator('#calibration-status').innerText(), /^Calibrated/);

    // Opened again later, the page shows the points in force, read back from the appliance.
    await page.reload();
    await page.getByLabel('Ground X of point 4 (m)').waitFor({ timeout: 10_000 });
    for (const [i, p] of picks.entries()) {
      assert.equal(await page.getByLabel(`Ground X of point ${i + 1} (m)`).inputValue(), String(p.gx));
      assert.equal(await page.getByLabel(`Ground Y of point ${i + 1} (m)`).inputValue(), String(p.gy));
    }
    assert.match(await page.locator('#calibration-status').innerText(), /Last fit: RMS error/);
  });

  test('a screenshot of the page is written', async () => {
    mkdirSync(resolve('test/artifacts'), { recursive: true });
    // Let the restarted camera deliver a fresh snapshot for the picture.
    await page.getByRole('button', { name: 'Refresh snapshot' }).click();
    await page.waitForFunction(() => /Anonymized snapshot/.test(document.getElementById('snapshot-status')?.textContent ?? ''), null, { timeout: 20_000 });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.ok(existsSync(SCREENSHOT));
    const png = readFileSync(SCREENSHOT);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
    assert.ok(statSync(SCREENSHOT).size > 50_000, `a real picture, ${statSync(SCREENSHOT).size} bytes`);
    assert.deepEqual(session.pageErrors, [], 'no script errors on the page');
  });
});
