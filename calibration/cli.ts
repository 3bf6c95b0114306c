// Fit a camera calibration from image↔ground point pairs and write <camera>.calibration.json.
//
//   npx tsx calibration/cli.ts --points points.json --out cam1.calibration.json
//   npx tsx calibration/cli.ts --width 640 --height 360 \
//       --pair 100,300=0,0 --pair 540,300=7,0 --pair 420,120=7,40 --pair 220,120=0,40 --out cam1.calibration.json
//
// points.json: { "imageSize": {"width": 640, "height": 360}, "cameraId": "cam1",
//                "points": [ {"image": {"x": 100, "y": 300}, "ground": {"x": 0, "y": 0}}, ... ] }
// (a bare array of pairs works too, with --width/--height). Ground coordinates are metres in any
// local frame, e.g. along and across the road from a lane marking.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildCalibration, saveCalibration, type PointPair } from './file.js';
import { CalibrationError } from './homography.js';

const USAGE = `usage: calibration/cli.ts (--points points.json | --pair x,y=X,Y ×4+) [--width W --height H] [--camera id] --out file.calibration.json`;

export function runCli(argv: string[]): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        points: { type: 'string' },
        pair: { type: 'string', multiple: true },
        width: { type: 'string' },
        height: { type: 'string' },
        camera: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    });
    if (values.help) {
      out.push(USAGE);
      return { code: 0, out, err };
    }
    if (!values.out) throw new UsageError('--out is required');
    let points: PointPair[] = [];
    let width = values.width !== undefined ? parseIntStrict(values.width, '--width') : undefined;
    let height = values.height !== undefined ? parseIntStrict(values.height, '--height') : undefined;
    let cameraId = values.camera;
    if (values.points) {
      const json = readJson(values.points);
      const list = Array.isArray(json) ? json : (json as { points?: unknown }).points;
      if (!Array.isArray(list)) throw new UsageError(`${values.points}: expected an array of {image, ground} pairs or an object with "points"`);
      points = list.map((p, i) => toPair(p, `${values.points} point ${i}`));
      if (!Array.isArray(json)) {
        const o = json as { imageSize?: { width?: unknown; height?: unknown }; cameraId?: unknown };
        width ??= typeof o.imageSize?.width === 'number' ? o.imageSize.width : undefined;
        height ??= typeof o.imageSize?.height === 'number' ? o.imageSize.height : undefined;
        if (typeof o.cameraId === 'string') cameraId ??= o.cameraId;
      }
    }
    for (const [i, s] of (values.pair ?? []).entries()) points.push(parsePair(s, i));
    if (points.length === 0) throw new UsageError('no points: give --points file.json or --pair x,y=X,Y (at least 4)');
    if (width === undefined || height === undefined) throw new UsageError('the image size is unknown: give --width and --height, or imageSize in the points file');
    const cal = buildCalibration({ imageSize: { width, height }, points, cameraId });
    saveCalibration(values.out, cal);
    const e = cal.errors;
    out.push(`wrote ${values.out}: ${points.length} points, image ${width}x${height}`);
    out.push(`reprojection error: RMS ${e.rmsM.toFixed(3)} m (max ${e.maxM.toFixed(3)} m), RMS ${e.rmsPx.toFixed(2)} px (max ${e.maxPx.toFixed(2)} px)`);
    if (points.length === 4) out.push('note: 4 points fit exactly (error 0); add more points to measure the calibration error');
    return { code: 0, out, err };
  } catch (e) {
    if (e instanceof CalibrationError || e instanceof UsageError) {
      err.push(`error: ${e.message}`);
      if (e instanceof UsageError) err.push(USAGE);
      return { code: 2, out, err };
    }
    if (e instanceof TypeError && (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      err.push(`error: ${e.message}`, USAGE);
      return { code: 2, out, err };
    }
    throw e;
  }
}

class UsageError extends Error {}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

function toPair(p: unknown, where: string): PointPair {
  const o = p as { image?: { x?: unknown; y?: unknown }; ground?: { x?: unknown; y?: unknown }; label?: unknown };
  const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (!o || !num(o.image?.x) || !num(o.image?.y) || !num(o.ground?.x) || !num(o.ground?.y)) {
    throw new UsageError(`${where}: expected {"image": {"x", "y"}, "ground": {"x", "y"}} with numbers`);
  }
  return {
    image: { x: o.image!.x as number, y: o.image!.y as number },
    ground: { x: o.ground!.x as number, y: o.ground!.y as number },
    ...(typeof o.label === 'string' ? { label: o.label } : {}),
  };
}

function parsePair(s: string, i: number): PointPair {
  const m = /^\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*=\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*$/.exec(s);
  if (!m) throw new UsageError(`--pair #${i + 1} '${s}': expected x,y=X,Y (image pixels = ground metres)`);
  const [x = NaN, y = NaN, X = NaN, Y = NaN] = m.slice(1).map(Number);
  if (![x, y, X, Y].every(Number.isFinite)) throw new UsageError(`--pair #${i + 1} '${s}': not numbers`);
  return { image: { x, y }, ground: { x: X, y: Y } };
}

function parseIntStrict(s: string, name: string): number {
  const v = Number(s);
  if (!Number.isInteger(v) || v <= 0) throw new UsageError(`${name} must be a positive integer, got '${s}'`);
  return v;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = runCli(process.argv.slice(2));
  for (const l of r.out) console.log(l);
  for (const l of r.err) console.error(l);
  process.exitCode = r.code;
}
