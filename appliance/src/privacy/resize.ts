// Crops and resizes raw RGB with sharp into detector input tensors. These are working copies inside
// the process; they are never encoded or sent anywhere.
import sharp from 'sharp';
import type { Box, RgbImage } from '../core/types.js';

/** Crop `region` (whole pixels, inside the image) and resize it to exactly w x h, raw RGB. */
export async function cropResize(image: RgbImage, region: Box, w: number, h: number): Promise<Buffer> {
  const whole = region.x === 0 && region.y === 0 && region.w === image.width && region.h === image.height;
  if (whole && w === image.width && h === image.height) return image.data;
  let p = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
  if (!whole) p = p.extract({ left: region.x, top: region.y, width: region.w, height: region.h });
  if (w !== region.w || h !== region.h) p = p.resize(w, h, { fit: 'fill', kernel: 'linear' });
  return p.raw().toBuffer();
}

/** NCHW BGR 0..255 (YuNet), zero-padded to padW x padH at the bottom/right. */
export function toBgrTensor(rgb: Buffer, w: number, h: number, padW: number, padH: number): Float32Array {
  const plane = padW * padH;
  const t = new Float32Array(3 * plane);
  // rgb is cropResize's w×h×3 output and s walks it pixel by pixel.
  for (let y = 0; y < h; y++) {
    let s = y * w * 3;
    let d = y * padW;
    for (let x = 0; x < w; x++, s += 3, d++) {
      t[d] = rgb[s + 2]!;
      t[plane + d] = rgb[s + 1]!;
      t[2 * plane + d] = rgb[s]!;
    }
  }
  return t;
}

const MEAN = [0.485, 0.456, 0.406] as const;
const STD = [0.229, 0.224, 0.225] as const;

/** NCHW RGB normalised with ImageNet mean/std (PP-OCR det); w, h already multiples of 32. */
export function toImagenetTensor(rgb: Buffer, w: number, h: number): Float32Array {
  const plane = w * h;
  const t = new Float32Array(3 * plane);
  // rgb is cropResize's w×h×3 output and s walks it pixel by pixel.
  for (let i = 0, s = 0; i < plane; i++, s += 3) {
    t[i] = (rgb[s]! / 255 - MEAN[0]) / STD[0];
    t[plane + i] = (rgb[s + 1]! / 255 - MEAN[1]) / STD[1];
    t[2 * plane + i] = (rgb[s + 2]! / 255 - MEAN[2]) / STD[2];
  }
  return t;
}

export function roundUp(v: number, m: number): number {
  return Math.max(m, Math.ceil(v / m) * m);
}
