// The calibration file (<camera>.calibration.json): the point pairs an installer picked, the image
// size they were picked at, the fitted image→ground homography and its reprojection errors.
import { readFileSync, writeFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { applyH, CalibrationError, det3, fitHomography, mul3, toMat3, type Mat3, type Pt } from './homography.js';

const Point = Type.Object({ x: Type.Number(), y: Type.Number() }, { additionalProperties: false });

export const PointPairSchema = Type.Object(
  {
    /** Pixel position in an image of `imageSize`. */
    image: Point,
    /** Position on the ground plane, metres in any local right-handed frame. */
    ground: Point,
    label: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type PointPair = Static<typeof PointPairSchema>;

export const CalibrationFileSchema = Type.Object(
  {
    version: Type.Literal(1),
    cameraId: Type.Optional(Type.String()),
    /** The image size the points were picked at; frames of another size are rescaled. */
    imageSize: Type.Object({ width: Type.Integer({ minimum: 1 }), height: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
    points: Type.Array(PointPairSchema, { minItems: 4 }),
    /** Row-major 3×3 homography: image pixels (of imageSize) → ground metres. */
    homography: Type.Array(Type.Number(), { minItems: 9, maxItems: 9 }),
    errors: Type.Object(
      {
        rmsM: Type.Number({ minimum: 0 }),
        maxM: Type.Number({ minimum: 0 }),
        rmsPx: Type.Number({ minimum: 0 }),
        maxPx: Type.Number({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type CalibrationFile = Static<typeof CalibrationFileSchema>;

/** Fit and package a calibration from point pairs. Throws CalibrationError on bad geometry. */
export function buildCalibration(args: { imageSize: { width: number; height: number }; points: PointPair[]; cameraId?: string; now?: Date }): CalibrationFile {
  const { width, height } = args.imageSize;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new CalibrationError(`image size must be positive integers, got ${width}x${height}`);
  }
  args.points.forEach((p, i) => {
    if (p.image.x < 0 || p.image.y < 0 || p.image.x > width || p.image.y > height) {
      throw new CalibrationError(`point ${i} (${p.image.x}, ${p.image.y}) lies outside the ${width}x${height} image`);
    }
  });
  const fit = fitHomography(
    args.points.map((p) => p.image),
    args.points.map((p) => p.ground),
  );
  const r = (v: number): number => Math.round(v * 1e4) / 1e4;
  return {
    version: 1,
    ...(args.cameraId ? { cameraId: args.cameraId } : {}),
    imageSize: { width, height },
    points: args.points.map((p) => ({ image: { ...p.image }, ground: { ...p.ground }, ...(p.label ? { label: p.label } : {}) })),
    homography: [...fit.H],
    errors: { rmsM: r(fit.errors.rmsM), maxM: r(fit.errors.maxM), rmsPx: r(fit.errors.rmsPx), maxPx: r(fit.errors.maxPx) },
    createdAt: (args.now ?? new Date()).toISOString(),
  };
}

/** Read and validate a calibration file; every failure names the file and what is wrong. */
export function loadCalibration(path: string): CalibrationFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CalibrationError(`cannot read calibration file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CalibrationError(`calibration file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseCalibration(json, path);
}

export function parseCalibration(json: unknown, source = 'calibration'): CalibrationFile {
  if (!Value.Check(CalibrationFileSchema, json)) {
    const errs = [...Value.Errors(CalibrationFileSchema, json)].slice(0, 5).map((e) => `${e.path || '/'}: ${e.message}`);
    throw new CalibrationError(`${source} is not a valid calibration file: ${errs.join('; ')}`);
  }
  const cal = json as CalibrationFile;
  if (!cal.homography.every(Number.isFinite) || Math.abs(det3(toMat3(cal.homography))) < 1e-15) {
    throw new CalibrationError(`${source}: the homography is singular or not finite`);
  }
  return cal;
}

export function saveCalibration(path: string, cal: CalibrationFile): void {
  writeFileSync(path, JSON.stringify(cal, null, 2) + '\n');
}

/**
 * The homography for frames of width×height: the points were picked at cal.imageSize, so pixels of
 * the analysed frame are first scaled to that size (each axis on its own, as ffmpeg's scale does).
 */
export function homographyForSize(cal: CalibrationFile, width: number, height: number): Mat3 {
  const sx = cal.imageSize.width / width;
  const sy = cal.imageSize.height / height;
  return mul3(toMat3(cal.homography), [sx, 0, 0, 0, sy, 0, 0, 0, 1]);
}

/** The same calibration expressed for another frame size (points and matrix rescaled). */
export function rescaleCalibration(cal: CalibrationFile, width: number, height: number): CalibrationFile {
  const fx = width / cal.imageSize.width;
  const fy = height / cal.imageSize.height;
  const pxScale = Math.sqrt(fx * fy);
  return {
    ...cal,
    imageSize: { width, height },
    points: cal.points.map((p) => ({ ...p, image: { x: p.image.x * fx, y: p.image.y * fy }, ground: { ...p.ground } })),
    homography: [...homographyForSize(cal, width, height)],
    errors: { ...cal.errors, rmsPx: cal.errors.rmsPx * pxScale, maxPx: cal.errors.maxPx * pxScale },
  };
}

/** image pixels (of a width×height frame) → ground metres; null beyond the horizon. */
export function groundMapper(cal: CalibrationFile, width: number, height: number): { toGround(px: Pt): Pt | null } {
  const H = homographyForSize(cal, width, height);
  return { toGround: (px: Pt) => applyH(H, px) };
}
