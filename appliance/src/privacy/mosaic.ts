// Irreversible pixelation written into the raw pixels: every block becomes its mean colour, so the
// original values inside a region are gone from the buffer before anything is encoded.
import type { Box, RgbImage } from '../core/types.js';
import { clipBox } from './geometry.js';

/** Block edge for a region: about five blocks across its shorter side, never below 3 px. */
export function blockSize(region: Box): number {
  return Math.max(3, Math.ceil(Math.min(region.w, region.h) / 5));
}

/** Pixelates each region of `image.data` in place. Blocks are anchored at the region's top-left corner. */
export function mosaicInPlace(image: RgbImage, regions: readonly Box[]): void {
  const { width, height, data } = image;
  // data holds width×height×3 bytes (the engine refuses any other image) and clipBox keeps blocks inside.
  for (const r of regions) {
    const c = clipBox(r, width, height);
    if (!c) continue;
    const b = blockSize(c);
    for (let by = c.y; by < c.y + c.h; by += b) {
      const y2 = Math.min(by + b, c.y + c.h);
      for (let bx = c.x; bx < c.x + c.w; bx += b) {
        const x2 = Math.min(bx + b, c.x + c.w);
        let sr = 0;
        let sg = 0;
        let sb = 0;
        for (let y = by; y < y2; y++) {
          for (let i = (y * width + bx) * 3, end = (y * width + x2) * 3; i < end; i += 3) {
            sr += data[i]!;
            sg += data[i + 1]!;
            sb += data[i + 2]!;
          }
        }
        const n = (y2 - by) * (x2 - bx);
        const mr = Math.round(sr / n);
        const mg = Math.round(sg / n);
        const mb = Math.round(sb / n);
        for (let y = by; y < y2; y++) {
          for (let i = (y * width + bx) * 3, end = (y * width + x2) * 3; i < end; i += 3) {
            data[i] = mr;
            data[i + 1] = mg;
            data[i + 2] = mb;
          }
        }
      }
    }
  }
}
