import type { Box, RgbImage } from '../../appliance/src/core/types.js';

/** PSNR (dB) between two rgb24 images of the same size over the pixels where `inMask(x, y)` holds. */
export function psnrWhere(a: RgbImage, b: RgbImage, inMask: (x: number, y: number) => boolean, x0 = 0, y0 = 0, x1 = a.width, y1 = a.height): number {
  let se = 0;
  let n = 0;
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) {
      if (!inMask(x, y)) continue;
      for (let c = 0; c < 3; c++) {
        const d = a.data[(y * a.width + x) * 3 + c]! - b.data[(y * b.width + x) * 3 + c]!;
        se += d * d;
        n++;
      }
    }
  return n === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / n));
}

/** PSNR (dB) over a box (integer pixel coordinates). */
export function psnr(a: RgbImage, b: RgbImage, box: Box): number {
  return psnrWhere(a, b, () => true, box.x, box.y, box.x + box.w, box.y + box.h);
}
