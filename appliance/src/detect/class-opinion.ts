// A second opinion on vehicle classes. The road-camera model (person-vehicle-bike-detection-2003)
// finds far more vehicles and two-wheelers than the small COCO models but only knows 'vehicle' and
// 'bike'; a COCO model run on the same frame knows truck from bus from car and bicycle from
// motorcycle. Each box of the first model takes the finer class of the COCO box that covers it best,
// and keeps its own position and score (the count stays the first model's).
import { HEAVY_VEHICLE_CLASSES, TWO_WHEELER_CLASSES, type Detection, type ObjectClass, type RgbImage } from '../core/types.js';
import type { Detector, DetectorBackend } from './detector.js';
import { iou } from '../core/box.js';

const HEAVY: ReadonlySet<ObjectClass> = new Set(HEAVY_VEHICLE_CLASSES);
const TWO_WHEELERS: ReadonlySet<ObjectClass> = new Set(TWO_WHEELER_CLASSES);

export interface ClassOpinionOptions {
  /** Least IoU between a box and the other model's box for the class to carry over. */
  minIou: number;
}

export const DEFAULT_CLASS_OPINION: ClassOpinionOptions = { minIou: 0.4 };

/** Which classes of the second model may refine a box of the first model's class. */
function refines(own: ObjectClass, other: ObjectClass): boolean {
  if (own === 'car') return HEAVY.has(other);
  if (TWO_WHEELERS.has(own)) return TWO_WHEELERS.has(other);
  return false;
}

/**
 * `boxes` from the counting model, `opinions` from the classifying model on the same frame. Returns
 * new detections (input untouched): a car box becomes truck/bus, a two-wheeler bicycle/motorcycle,
 * when the best-overlapping opinion says so (the tracker's score-weighted vote then settles the track's class).
 */
export function adoptClasses(boxes: readonly Detection[], opinions: readonly Detection[], o: ClassOpinionOptions = DEFAULT_CLASS_OPINION): Detection[] {
  return boxes.map((d) => {
    let best: Detection | null = null;
    let bestIou = o.minIou;
    for (const p of opinions) {
      if (!refines(d.cls, p.cls)) continue;
      const v = iou(d.box, p.box);
      if (v >= bestIou) {
        bestIou = v;
        best = p;
      }
    }
    return { box: { ...d.box }, cls: best ? best.cls : d.cls, score: d.score };
  });
}

/** The counting model's boxes with the classifying model's finer vehicle classes (both run on every frame). */
export class ClassOpinionDetector implements Detector {
  readonly name: string;

  constructor(
    private readonly counter: Detector,
    private readonly classifier: Detector,
    private readonly o: ClassOpinionOptions = DEFAULT_CLASS_OPINION,
  ) {
    this.name = `${counter.name}+${classifier.name}`;
  }

  get backend(): DetectorBackend {
    return this.counter.backend;
  }

  async process(image: RgbImage): Promise<Detection[]> {
    // One after the other: each session already uses the detector's threads.
    const boxes = await this.counter.process(image);
    const opinions = await this.classifier.process(image);
    return adoptClasses(boxes, opinions, this.o);
  }

  async close(): Promise<void> {
    await Promise.all([this.counter.close(), this.classifier.close()]);
  }
}
