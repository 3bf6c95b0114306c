// From a camera frame to a model's input tensor: resize with sharp (libvips, off the event loop),
// then one pass into NCHW float32 planes in the model's channel order and normalisation.
import sharp from 'sharp';
import type { RgbImage } from '../core/types.js';

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
}

const IMAGENET_MEAN = [123.675, 116.28, 103.53];
const IMAGENET_STD = [58.395, 57.12, 57.375];

export async function prepareInput(image: RgbImage, spec: InputSpec): Promise<PreparedInput> {
  let w: number;
  let h: number;
  if (spec.fit === 'letterbox') {
    const s = Math.min(spec.width / image.width, spec.height / image.height);
    w = Math.max(1, Math.round(image.width * s));
    h = Math.max(1, Math.round(image.height * s));
  } else {
    w = spec.width;
    h = spec.height;
  }
  const resized =
    w === image.width && h === image.height
      ? image.data
      : await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
          .resize(w, h, { fit: 'fill', kernel: 'linear' })
          .raw()
          .toBuffer();
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
  const [mr, mg, mb] = mean as [number, number, number];
  const [ir, ig, ib] = inv as [number, number, number];
  for (let y = 0; y < h; y++) {
    let src = y * w * 3;
    let dst = y * spec.width;
    for (let x = 0; x < w; x++, src += 3, dst++) {
      tensor[pr + dst] = (resized[src]! - mr) * ir;
      tensor[pg + dst] = (resized[src + 1]! - mg) * ig;
      tensor[pb + dst] = (resized[src + 2]! - mb) * ib;
    }
  }
  return { tensor, scaleX: w / image.width, scaleY: h / image.height };
}
