// Unit tier: the low-light step before the detector (detect/enhance.ts, detect/preprocess.ts) on real
// frames (test/fixtures/frames: a night frame of sf-freeway-night, a day frame of the intel parking
// clip; README there) and one hazy frame made from the day frame by exact construction. No model: the
// model's input tensor itself is compared with and without the step.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { prepareInput, type InputSpec } from '../appliance/src/detect/preprocess.js';
import { autoEnhancement, lumaStats, DARK_MEDIAN, GAMMA } from '../appliance/src/detect/enhance.js';
import { ConfigError, validateConfig } from '../appliance/src/config/load.js';
import type { RgbImage } from '../appliance/src/core/types.js';

/** The shipped detector's input (person-vehicle-bike-detection-2003: 864x480 stretched BGR, 0..255). */
const SPEC: InputSpec = { width: 864, height: 480, fit: 'stretch', channels: 'BGR', normalize: 'none' };

async function fixture(name: string): Promise<RgbImage> {
  const { data, info } = await sharp(resolve('test/fixtures/frames', name)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}
const night = () => fixture('sf-freeway-night-5.8s-427x240.png');
const day = () => fixture('intel-car-detection-3.0s.png');

/** The day frame seen through fog: every channel pulled towards a bright airlight (v → 0.4 v + 150). */
async function hazy(): Promise<RgbImage> {
  const d = await day();
  return { ...d, data: Buffer.from(d.data.map((v) => Math.round(0.4 * v + 150))) };
}

const mean = (t: Float32Array) => t.reduce((s, v) => s + v, 0) / t.length;

describe('low-light step before the detector', () => {
  test('the luma statistics call the night frame dark, the hazy one hazy and leave the day frame alone', async () => {
    const n = lumaStats(await night());
    assert.ok(n.median < DARK_MEDIAN, `night median ${n.median}`);
    assert.equal(autoEnhancement(n), 'gamma');
    assert.equal(autoEnhancement(lumaStats(await hazy())), 'stretch');
    assert.equal(autoEnhancement(lumaStats(await day())), null);
  });

  test("'auto' brightens a dark frame's model input by the gamma curve, pixel for pixel", async () => {
    const img = await night();
    const off = await prepareInput(img, SPEC, 'off');
    const auto = await prepareInput(img, SPEC, 'auto');
    assert.equal(off.enhanced, null);
    assert.equal(auto.enhanced, 'gamma');
    // The curve is applied to the resized bytes: each input value v becomes round(255 (v/255)^GAMMA).
    for (let i = 0; i < off.tensor.length; i += 97) {
      assert.equal(auto.tensor[i], Math.round(255 * Math.pow(off.tensor[i]! / 255, GAMMA)), `tensor[${i}]`);
    }
    assert.ok(mean(auto.tensor) > 1.5 * mean(off.tensor), `input mean ${mean(off.tensor).toFixed(1)} → ${mean(auto.tensor).toFixed(1)}`);
  });

  test("'auto' stretches a hazy frame to the full range", async () => {
    const img = await hazy();
    const off = await prepareInput(img, SPEC, 'off');
    const auto = await prepareInput(img, SPEC, 'auto');
    assert.equal(auto.enhanced, 'stretch');
    const span = (t: Float32Array) => t.reduce((m, v) => Math.max(m, v), 0) - t.reduce((m, v) => Math.min(m, v), 255);
    assert.ok(span(auto.tensor) > 1.5 * span(off.tensor), `input range ${span(off.tensor)} → ${span(auto.tensor)}`);
  });

  test("'auto' passes a day frame to the model unchanged", async () => {
    const img = await day();
    const off = await prepareInput(img, SPEC, 'off');
    const auto = await prepareInput(img, SPEC, 'auto');
    assert.equal(auto.enhanced, null);
    assert.deepEqual(auto.tensor, off.tensor);
  });

  test('the frame itself is never changed (the tracker, health checks and snapshots see the camera as it is)', async () => {
    const img = await night();
    const before = Buffer.from(img.data);
    await prepareInput(img, SPEC, 'auto');
    await prepareInput({ ...img, width: img.width, height: img.height }, { ...SPEC, width: img.width, height: img.height }, 'auto');
    assert.ok(img.data.equals(before));
  });

  test("config: detector.enhance is 'auto' unless set, 'off' turns it off, anything else is refused", () => {
    assert.equal(validateConfig({ cameras: [] }).detector.enhance, 'auto');
    assert.equal(validateConfig({ cameras: [], detector: { enhance: 'off' } }).detector.enhance, 'off');
    assert.throws(() => validateConfig({ cameras: [], detector: { enhance: 'on' } }), (e: unknown) => e instanceof ConfigError && /detector\/enhance/.test(e.message));
  });
});
