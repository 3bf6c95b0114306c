import { VEHICLE_CLASSES, type Detection } from '../core/types.js';
import { iou } from '../core/box.js';

/** Greedy non-maximum suppression within each class (a car and a person may overlap). */
export function classWiseNms(dets: Detection[], iouThreshold: number): Detection[] {
  const byClass = new Map<string, Detection[]>();
  for (const d of dets) {
    const list = byClass.get(d.cls);
    if (list) list.push(d);
    else byClass.set(d.cls, [d]);
  }
  const kept: Detection[] = [];
  for (const list of byClass.values()) {
    list.sort((a, b) => b.score - a.score);
    const suppressed = new Uint8Array(list.length);
    for (const [i, di] of list.entries()) {
      if (suppressed[i]) continue;
      kept.push(di);
      for (const [j, dj] of list.entries()) {
        if (j > i && !suppressed[j] && iou(di.box, dj.box) > iouThreshold) suppressed[j] = 1;
      }
    }
  }
  return kept.sort((a, b) => b.score - a.score);
}

/**
 * NMS that treats every vehicle class as one: small detectors often put a car and a truck box (or a
 * bus and a truck box) on the same vehicle, which would count it twice. People stay their own group
 * (a rider overlaps a motorcycle; rider fusion happens in the tracker).
 */
export function vehicleAwareNms(dets: Detection[], iouThreshold: number): Detection[] {
  const vehicles = new Set<string>(VEHICLE_CLASSES);
  const grouped = dets.map((d) => ({ ...d, group: vehicles.has(d.cls) ? 'vehicle' : d.cls }));
  const kept: Detection[] = [];
  for (const group of new Set(grouped.map((d) => d.group))) {
    const list = grouped.filter((d) => d.group === group).sort((a, b) => b.score - a.score);
    const suppressed = new Uint8Array(list.length);
    for (let i = 0; i < list.length; i++) {
      if (suppressed[i]) continue;
      const { group: _g, ...det } = list[i]!;
      kept.push(det);
      for (let j = i + 1; j < list.length; j++) {
        if (!suppressed[j] && iou(list[i]!.box, list[j]!.box) > iouThreshold) suppressed[j] = 1;
      }
    }
  }
  return kept.sort((a, b) => b.score - a.score);
}

/** Drops boxes larger than a share of the frame: whole-frame false boxes of small detectors. */
export function dropOversized(dets: Detection[], width: number, height: number, maxAreaFraction: number): Detection[] {
  const max = width * height * maxAreaFraction;
  return dets.filter((d) => d.box.w * d.box.h <= max);
}
