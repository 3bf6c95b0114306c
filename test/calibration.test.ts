import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import {
  fitHomography,
  applyH,
  buildCalibration,
  loadCalibration,
  saveCalibration,
  rescaleCalibration,
  groundMapper,
  CalibrationError,
  CalibrationFileSchema,
  type Mat3,
  type Pt,
  type CalibrationFile,
} from '../calibration/index.js';
import { inv3 } from '../calibration/homography.js';
import { runCli } from '../calibration/cli.js';
import { CameraAnalytics } from '../appliance/src/analytics/index.js';
import { MultiObjectTracker } from '../appliance/src/track/index.js';
import { seededRandom } from '../appliance/src/track/synthetic.js';
import { SpeedIntervalData, CountIntervalData } from '../appliance/src/core/event-data.js';
import type { CameraConfig } from '../appliance/src/config/schema.js';
import type { Detection, DomainEvent } from '../appliance/src/core/types.js';

if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => !Number.isNaN(Date.parse(v)) && /^\d{4}-\d\d-\d\dT/.test(v));

// A road seen from a pole: a 10 m wide, 60 m long stretch maps onto a trapezoid in a 640×360 image.
const TRUE_IMAGE: Pt[] = [
  { x: 120, y: 350 },
  { x: 560, y: 350 },
  { x: 370, y: 70 },
  { x: 290, y: 70 },
];
const TRUE_GROUND: Pt[] = [
  { x: 0, y: 0 },
  { x: 10, y: 0 },
  { x: 10, y: 60 },
  { x: 0, y: 60 },
];
const H_TRUE = fitHomography(TRUE_IMAGE, TRUE_GROUND).H; // image → ground
const G_TRUE = inv3(H_TRUE); // ground → image
const toImage = (g: Pt): Pt => applyH(G_TRUE, g) as Pt;

/** Installer-picked points: ground marks projected into the image with ±0.5 px picking error. */
function pickedPoints(seed = 1, noisePx = 0.5) {
  const rnd = seededRandom(seed);
  const marks: Pt[] = [
    { x: 0, y: 5 },
    { x: 10, y: 5 },
    { x: 0, y: 25 },
    { x: 10, y: 25 },
    { x: 0, y: 50 },
    { x: 10, y: 50 },
    { x: 5, y: 15 },
    { x: 5, y: 40 },
  ];
  return marks.map((g) => {
    const p = toImage(g);
    return { image: { x: p.x + (rnd() - 0.5) * 2 * noisePx, y: p.y + (rnd() - 0.5) * 2 * noisePx }, ground: g };
  });
}

describe('homography (normalised DLT)', () => {
  test('4 exact pairs recover the mapping everywhere on the plane', () => {
    const pts = pickedPoints(1, 0).slice(0, 4);
    const fit = fitHomography(
      pts.map((p) => p.image),
      pts.map((p) => p.ground),
    );
    assert.ok(fit.errors.rmsM < 1e-6 && fit.errors.maxPx < 1e-6, JSON.stringify(fit.errors));
    for (const g of [{ x: 3, y: 33 }, { x: 8, y: 55 }, { x: -2, y: 10 }]) {
      const back = applyH(fit.H, toImage(g)) as Pt;
      assert.ok(Math.hypot(back.x - g.x, back.y - g.y) < 1e-6);
    }
  });

  test('more pairs: least squares, with the reprojection error reported in m and px', () => {
    const pts = pickedPoints(2, 1.0);
    const fit = fitHomography(
      pts.map((p) => p.image),
      pts.map((p) => p.ground),
    );
    assert.ok(fit.errors.rmsPx > 0.05 && fit.errors.rmsPx < 1.5, `rms px ${fit.errors.rmsPx}`);
    assert.ok(fit.errors.maxPx >= fit.errors.rmsPx && fit.errors.maxM >= fit.errors.rmsM);
    assert.ok(fit.errors.rmsM > 0 && fit.errors.rmsM < 0.5, `rms m ${fit.errors.rmsM}`);
    assert.equal(fit.errors.perPoint.length, 8);
    // The least-squares fit is close to the truth away from the picked points too.
    const g = applyH(fit.H, toImage({ x: 5, y: 30 })) as Pt;
    assert.ok(Math.hypot(g.x - 5, g.y - 30) < 0.5);
    // A mistyped point shows up as a large error on that point.
    const bad = pts.map((p, i) => (i === 3 ? { ...p, ground: { x: p.ground.x, y: p.ground.y + 8 } } : p));
    const badFit = fitHomography(
      bad.map((p) => p.image),
      bad.map((p) => p.ground),
    );
    assert.ok(badFit.errors.maxM > 2, `max m ${badFit.errors.maxM}`);
  });

  test('degenerate input is refused with a clear error', () => {
    const img = TRUE_IMAGE;
    const gnd = TRUE_GROUND;
    assert.throws(() => fitHomography(img.slice(0, 3), gnd.slice(0, 3)), /at least 4/);
    assert.throws(
      () => fitHomography([{ x: 0, y: 0 }, { x: 10, y: 10 }, { x: 20, y: 20 }, { x: 30, y: 30 }], gnd),
      (e: Error) => e instanceof CalibrationError && /image points are collinear/.test(e.message),
    );
    assert.throws(() => fitHomography([img[0]!, img[1]!, { x: 340, y: 350 }, img[3]!], gnd), /image points 0, 1 and 2 are collinear/);
    assert.throws(() => fitHomography(img, [gnd[0]!, gnd[0]!, gnd[2]!, gnd[3]!]), /ground points 0 and 1 are the same/);
    assert.throws(() => fitHomography([...img, { x: NaN, y: 1 }], [...gnd, { x: 1, y: 1 }]), /non-finite/);
    // Pairs in inconsistent order fold the plane over: some point lands behind the horizon.
    assert.throws(() => fitHomography(img, [gnd[0]!, gnd[1]!, gnd[3]!, gnd[2]!]), CalibrationError);
  });
});

describe('calibration file', () => {
  test('build, save, load round-trips and validates against the schema', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calib-'));
    try {
      const cal = buildCalibration({ imageSize: { width: 640, height: 360 }, points: pickedPoints(), cameraId: 'cam1' });
      assert.ok(Value.Check(CalibrationFileSchema, cal));
      const path = join(dir, 'cam1.calibration.json');
      saveCalibration(path, cal);
      assert.deepEqual(loadCalibration(path), cal);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('loader errors name the file and the problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calib-'));
    try {
      assert.throws(() => loadCalibration(join(dir, 'missing.json')), /cannot read calibration file .*missing\.json: ENOENT/);
      writeFileSync(join(dir, 'bad.json'), '{ nope');
      assert.throws(() => loadCalibration(join(dir, 'bad.json')), /bad\.json is not valid JSON/);
      const cal = buildCalibration({ imageSize: { width: 640, height: 360 }, points: pickedPoints() });
      writeFileSync(join(dir, 'short.json'), JSON.stringify({ ...cal, homography: [1, 2, 3] }));
      assert.throws(() => loadCalibration(join(dir, 'short.json')), /short\.json is not a valid calibration file: \/homography/);
      writeFileSync(join(dir, 'sing.json'), JSON.stringify({ ...cal, homography: [1, 0, 0, 0, 1, 0, 0, 0, 0] }));
      assert.throws(() => loadCalibration(join(dir, 'sing.json')), /singular/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('rescales to another analysed frame size', () => {
    const cal = buildCalibration({ imageSize: { width: 640, height: 360 }, points: pickedPoints(3, 0) });
    const half = rescaleCalibration(cal, 320, 180);
    const m640 = groundMapper(cal, 640, 360);
    const m320 = groundMapper(cal, 320, 180);
    for (const p of [{ x: 300, y: 200 }, { x: 500, y: 340 }]) {
      const a = m640.toGround(p) as Pt;
      const b = m320.toGround({ x: p.x / 2, y: p.y / 2 }) as Pt;
      const c = applyH(half.homography as Mat3, { x: p.x / 2, y: p.y / 2 }) as Pt;
      assert.ok(Math.hypot(a.x - b.x, a.y - b.y) < 1e-9);
      assert.ok(Math.hypot(a.x - c.x, a.y - c.y) < 1e-9);
    }
    assert.deepEqual(half.imageSize, { width: 320, height: 180 });
    assert.equal(half.points[0]!.image.x, cal.points[0]!.image.x / 2);
  });
});

describe('calibration CLI', () => {
  test('writes the file from a points file and prints the reprojection error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calib-'));
    try {
      const pointsPath = join(dir, 'points.json');
      writeFileSync(pointsPath, JSON.stringify({ imageSize: { width: 640, height: 360 }, cameraId: 'cam1', points: pickedPoints(4, 0.5) }));
      const out = join(dir, 'cam1.calibration.json');
      // A real process, as an installer runs it.
      const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'calibration/cli.ts', '--points', pointsPath, '--out', out], { encoding: 'utf8' });
      assert.match(stdout, /reprojection error: RMS \d+\.\d{3} m \(max \d+\.\d{3} m\), RMS \d+\.\d{2} px/);
      const cal = loadCalibration(out);
      assert.equal(cal.cameraId, 'cam1');
      assert.equal(cal.points.length, 8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('takes points as arguments and explains bad input', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calib-'));
    try {
      const out = join(dir, 'c.json');
      const pairs = pickedPoints(5, 0).slice(0, 4).flatMap((p) => ['--pair', `${p.image.x},${p.image.y}=${p.ground.x},${p.ground.y}`]);
      const ok = runCli(['--width', '640', '--height', '360', ...pairs, '--out', out]);
      assert.equal(ok.code, 0, ok.err.join('\n'));
      assert.ok(JSON.parse(readFileSync(out, 'utf8')).homography.length === 9);
      assert.match(ok.out.join('\n'), /4 points fit exactly/);

      const collinear = runCli(['--width', '640', '--height', '360', '--pair', '0,0=0,0', '--pair', '10,10=1,0', '--pair', '20,20=2,0', '--pair', '30,30=3,1', '--out', out]);
      assert.equal(collinear.code, 2);
      assert.match(collinear.err[0]!, /^error: .*collinear/);
      assert.match(runCli(['--pair', '1,2=3,4', '--out', out]).err[0]!, /at least 4|image size/);
      assert.match(runCli(['--width', '640', '--height', '360', '--pair', '1;2=3,4', '--out', out]).err[0]!, /expected x,y=X,Y/);
      assert.match(runCli(['--points', join(dir, 'nope.json'), '--out', out]).err[0]!, /cannot read .*nope\.json/);
      assert.match(runCli(['--width', '640', '--height', '360', '--pair', '700,10=0,0', '--pair', '1,1=1,0', '--pair', '1,300=1,1', '--pair', '300,300=0,1', '--out', out]).err[0]!, /outside the 640x360 image/);
      assert.equal(runCli(['--bogus']).code, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('speed from calibration (synthetic scene with known ground motion)', () => {
  const camera: CameraConfig = {
    id: 'cam1',
    url: 'rtsp://example/s',
    enabled: true,
    fps: 10,
    width: 640,
    height: 360,
    stallSeconds: 10,
    lines: [{ id: 'mid', from: { x: 0.05, y: 0.45 }, to: { x: 0.95, y: 0.45 }, minTravel: 0.02 }],
    zones: [],
    incidents: {} as CameraConfig['incidents'],
  };
  const T0 = Date.UTC(2024, 0, 1, 8, 0, 0);

  /** Vehicles drive along the road (ground y) at known speeds; boxes are their projections. */
  function drive(width: number, height: number, cal: CalibrationFile) {
    const vehicles = [
      { lane: 2.5, kmh: 40, start: 0 },
      { lane: 7.5, kmh: 70, start: 2 },
      { lane: 2.5, kmh: 100, start: 6 },
      { lane: 7.5, kmh: 55, start: 9 },
    ];
    const sx = width / 640;
    const sy = height / 360;
    const rnd = seededRandom(9);
    const trk = new MultiObjectTracker();
    const an = new CameraAnalytics({ camera: { ...camera, width, height }, binSeconds: [60], calibration: cal });
    const events: DomainEvent[] = [];
    for (let i = 0; i < 200; i++) {
      const t = i / 10;
      const detections: Detection[] = [];
      for (const v of vehicles) {
        const gy = 2 + ((v.kmh / 3.6) * (t - v.start));
        if (t < v.start || gy > 58) continue;
        const a = toImage({ x: v.lane, y: gy });
        const l = toImage({ x: v.lane - 0.9, y: gy });
        const r = toImage({ x: v.lane + 0.9, y: gy });
        const w = (r.x - l.x) * sx;
        const h = w * 0.8;
        const j = () => (rnd() - 0.5) * 1.0;
        detections.push({ box: { x: a.x * sx - w / 2 + j(), y: a.y * sy - h + j(), w, h }, cls: 'car', score: 0.9 });
      }
      events.push(...an.process(trk.process({ cameraId: 'cam1', seq: i, timestampMs: T0 + i * 100, width, height, detections })));
    }
    events.push(...an.close(T0 + 20_000));
    return events;
  }

  for (const [w, h] of [
    [640, 360],
    [320, 180],
  ] as const) {
    test(`mean and p85 km/h within tolerance, frames ${w}x${h}, points picked at 640x360`, () => {
      const cal = buildCalibration({ imageSize: { width: 640, height: 360 }, points: pickedPoints(6, 0.5) });
      const events = drive(w, h, cal);
      const speed = events.find((e) => e.type === 'speed.interval') as DomainEvent<SpeedIntervalData>;
      assert.ok(speed && Value.Check(SpeedIntervalData, speed.data));
      const truth = [40, 70, 100, 55];
      const trueMean = truth.reduce((a, b) => a + b, 0) / truth.length;
      assert.equal(speed.data.samples, 4);
      assert.ok(Math.abs((speed.data.meanSpeedKmh as number) - trueMean) < 0.03 * trueMean, `mean ${speed.data.meanSpeedKmh} vs ${trueMean}`);
      // p85 of [40, 55, 70, 100] by linear interpolation = 70 + 0.55·30 = 86.5.
      assert.ok(Math.abs((speed.data.p85SpeedKmh as number) - 86.5) < 0.03 * 86.5, `p85 ${speed.data.p85SpeedKmh}`);
      const count = events.find((e) => e.type === 'count.interval') as DomainEvent<CountIntervalData>;
      assert.equal(count.data.counts.reduce((s, c) => s + c.count, 0), 4);
      assert.ok(Math.abs((count.data.meanSpeedKmh as number) - trueMean) < 0.06 * trueMean, `line mean ${count.data.meanSpeedKmh}`);
    });
  }
});
