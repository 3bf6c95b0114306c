// From a camera frame to a model's input tensor: crop to the region of interest and resize in one
// sharp pipeline (libvips reads only the region's pixels, off the event loop; no full-frame copy),
// then one pass into NCHW float32 planes in the model's channel order and normalisation. An optional
// low-light step (detect/enhance.ts) rides along: CLAHE in the same sharp pipeline, tone curves in the
// per-channel lookup tables of the float conversion.
import sharp from 'sharp';
import type { Box, Detection, RgbImage } from '../core/types.js';
import { fitAspect } from './roi.js';
import { CLAHE, planEnhancement, type EnhanceOp, type EnhancePolicy } from './enhance.js';

export interface InputSpec {
  width: number;
  height: number;
  /** letterbox: keep the aspect, pad right/bottom (YOLOX); stretch: fill the input (PicoDet). */
  fit: 'letterbox' | 'stretch';
  channels: 'BGR' | 'RGB';
  /** none: 0..255; imagenet: (x − mean) / std per channel (RGB order). */
  normalize: 'none' | 'imagenet';
  pad?: number;
}

export interface PreparedInput {
  tensor: Float32Array;
  /** input pixels per image pixel, per axis */
  scaleX: number;
  scaleY: number;
  /** The part of the image in the input (whole pixels): boxes decoded in it move by (x, y) into the image. */
  region: Box;
  /** the low-light step applied to this frame, null when none */
  enhanced: EnhanceOp | null;
}

/**
 * The image's region of interest in whole pixels inside the image, grown to the model input's aspect
 * (`aspect` = input width / height) so both axes scale alike; the whole image when none is given.
 */
export function regionOf(image: RgbImage, aspect: number): Box {
  const r = image.roi;
  if (!r) return { x: 0, y: 0, w: image.width, h: image.height };
  const x = Math.min(image.width - 1, Math.max(0, Math.round(r.x)));
  const y = Math.min(image.height - 1, Math.max(0, Math.round(r.y)));
  const w = Math.max(1, Math.min(image.width - x, Math.round(r.w)));
  const h = Math.max(1, Math.min(image.height - y, Math.round(r.h)));
  return fitAspect({ x, y, w, h }, image.width, image.height, aspect);
}

const IMAGENET_MEAN = [123.675, 116.28, 103.53];
const IMAGENET_STD = [58.395, 57.12, 57.375];

export async function prepareInput(image: RgbImage, spec: InputSpec, enhance?: EnhancePolicy): Promise<PreparedInput> {
  const region = regionOf(image, spec.width / spec.height);
  const plan = planEnhancement(enhance, image, region);
  const whole = region.w === image.width && region.h === image.height;
  let w: number;
  let h: number;
  if (spec.fit === 'letterbox') {
    const s = Math.min(spec.width / region.w, spec.height / region.h);
    w = Math.max(1, Math.round(region.w * s));
    h = Math.max(1, Math.round(region.h * s));
  } else {
    w = spec.width;
    h = spec.height;
  }
  let resized: Buffer;
  if (whole && w === image.width && h === image.height && plan?.op !== 'clahe') resized = image.data;
  else {
    const pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
    if (!whole) pipeline.extract({ left: region.x, top: region.y, width: region.w, height: region.h });
    if (w !== region.w || h !== region.h) pipeline.resize(w, h, { fit: 'fill', kernel: 'linear' });
    // libvips runs CLAHE after the resize whatever the call order: on the model's input.
    if (plan?.op === 'clahe') pipeline.clahe(CLAHE);
    resized = await pipeline.raw().toBuffer();
  }
  const plane = spec.width * spec.height;
  const tensor = new Float32Array(3 * plane);
  const pad = spec.pad ?? 114;
  // Plane index of the image's R, G, B in the model's channel order.
  const order = spec.channels === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const mean = spec.normalize === 'imagenet' ? IMAGENET_MEAN : [0, 0, 0];
  const inv = spec.normalize === 'imagenet' ? IMAGENET_STD.map((s) => 1 / s) : [1, 1, 1];
  if (w < spec.width || h < spec.height) {
    for (let c = 0; c < 3; c++) tensor.fill((pad - mean[c]!) * inv[c]!, order[c]! * plane, (order[c]! + 1) * plane);
  }
  const pr = order[0]! * plane;
  const pg = order[1]! * plane;
  const pb = order[2]! * plane;
  // Byte → model value per channel, through the tone curve when there is one.
  const curve = plan?.curve;
  const table = (c: number) => Float32Array.from({ length: 256 }, (_, v) => ((curve ? curve[v]! : v) - mean[c]!) * inv[c]!);
  const [tr, tg, tb] = [table(0), table(1), table(2)];
  for (let y = 0; y < h; y++) {
    let src = y * w * 3;
    let dst = y * spec.width;
    for (let x = 0; x < w; x++, src += 3, dst++) {
      tensor[pr + dst] = tr[resized[src]!]!;
      tensor[pg + dst] = tg[resized[src + 1]!]!;
      tensor[pb + dst] = tb[resized[src + 2]!]!;
    }
  }
  return { tensor, scaleX: w / region.w, scaleY: h / region.h, region, enhanced: plan?.op ?? null };
}

/** Boxes found in the region, moved into the whole image's pixels. */
export function fromRegion(detections: Detection[], region: Box): Detection[] {
  if (region.x === 0 && region.y === 0) return detections;
  for (const d of detections) {
    d.box.x += region.x;
    d.box.y += region.y;
  }
  return detections;
}
