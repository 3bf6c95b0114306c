// Privacy benchmark: how much of the ground-truth plates and faces the anonymizer's mask covers (faces
// also by size bucket), how much of the picture it masks, the hand-labelled traffic frames and the cost
// on a busy 720p traffic frame (bench/privacy-traffic.ts).
//
// Criterion: a plate / face counts as covered when >= 70 % of its ground-truth box lies under the mask
// (the union of every region anonymizeToJpeg pixelates, taken from maskPlan, i.e. exactly what is
// blurred). Vehicle and person boxes come from the appliance's YOLOX-nano detector, as in the live
// pipeline. Only numbers are printed: no plate text, no file names, no pixels.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Box, RgbImage } from '../appliance/src/core/types.js';
import { createDetector } from '../appliance/src/detect/index.js';
import { coveredFraction, createAnonymizer, maskedAreaFraction, type MaskPlan } from '../appliance/src/privacy/index.js';
import { runPrivacyTrafficBench } from './privacy-traffic.js';

const DATA = '../shared/data';
const COVER = 0.7;

export interface PrivacyBenchOptions {
  /** Take every n-th US plate photo (the set is 222 near-identical roadside frames). */
  usStride?: number;
  threads?: number;
  /** 720p timing runs (median of these). */
  timingRuns?: number;
}

/** Face size buckets (px, the labelled box's width) the coverage is broken down by. */
const FACE_BUCKETS = [
  { name: '<8', min: 0, max: 8 },
  { name: '8-16', min: 8, max: 16 },
  { name: '16-32', min: 16, max: 32 },
  { name: '>32', min: 32, max: Infinity },
] as const;

interface FaceSizes {
  bucket: Record<string, { faces: number; covered: number }>;
  atLeast10: { faces: number; covered: number };
}

function addFaceSizes(t: FaceSizes, gt: Box[], plan: MaskPlan): void {
  for (const g of gt) {
    const covered = coveredFraction(g, plan.all) >= COVER ? 1 : 0;
    const b = FACE_BUCKETS.find((k) => g.w >= k.min && g.w < k.max)!;
    const slot = (t.bucket[b.name] ??= { faces: 0, covered: 0 });
    slot.faces++;
    slot.covered += covered;
    if (g.w >= 10) {
      t.atLeast10.faces++;
      t.atLeast10.covered += covered;
    }
  }
}

async function readRgb(path: string): Promise<RgbImage> {
  const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

interface Sample {
  image: string;
  gt: Box[];
}

function plateSamples(set: 'us' | 'eu', stride: number): Sample[] {
  const dir = join(DATA, 'plates', set);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .filter((_, i) => i % stride === 0)
    .map((f) => {
      const [file = '', x = '', y = '', w = '', h = ''] = readFileSync(join(dir, f), 'utf8').trim().split('\t'); // text column ignored
      return { image: join(dir, file), gt: [{ x: +x, y: +y, w: +w, h: +h }] };
    });
}

function faceSamples(): Sample[] {
  const out: Sample[] = [];
  for (const xmlFile of ['training.xml', 'testing.xml']) {
    const xml = readFileSync(join(DATA, 'faces/dlib', xmlFile), 'utf8');
    for (const m of xml.matchAll(/<image file='([^']+)'[^>]*>([\s\S]*?)<\/image>/g)) {
      const gt = [...m[2]!.matchAll(/<box top='(\d+)' left='(\d+)' width='(\d+)' height='(\d+)'/g)].map((b) => ({ x: +b[2]!, y: +b[1]!, w: +b[3]!, h: +b[4]! }));
      out.push({ image: join(DATA, 'faces/dlib', m[1]!), gt });
    }
  }
  const annDir = join(DATA, 'faces/mask/annotations');
  for (const f of readdirSync(annDir).filter((f) => f.endsWith('.xml')).sort()) {
    const xml = readFileSync(join(annDir, f), 'utf8');
    const file = /<filename>([^<]+)<\/filename>/.exec(xml)?.[1] ?? f.replace(/\.xml$/, '.png');
    const gt = [...xml.matchAll(/<xmin>(\d+)<\/xmin>\s*<ymin>(\d+)<\/ymin>\s*<xmax>(\d+)<\/xmax>\s*<ymax>(\d+)<\/ymax>/g)].map((b) => ({ x: +b[1]!, y: +b[2]!, w: +b[3]! - +b[1]!, h: +b[4]! - +b[2]! }));
    out.push({ image: join(DATA, 'faces/mask/images', file), gt });
  }
  return out;
}

interface Tally {
  objects: number;
  byDetector: number;
  withFallback: number;
  /** covered by the geometric fallback alone (what is left if the detector misses everything) */
  byFallbackOnly: number;
  areaSum: number;
  /** masked area by source, to see where over-blurring comes from */
  faceAreaSum: number;
  plateAreaSum: number;
  fallbackAreaSum: number;
  images: number;
}

const newTally = (): Tally => ({ objects: 0, byDetector: 0, withFallback: 0, byFallbackOnly: 0, areaSum: 0, faceAreaSum: 0, plateAreaSum: 0, fallbackAreaSum: 0, images: 0 });

function add(t: Tally, gt: Box[], plan: MaskPlan, detectorBoxes: Box[], width: number, height: number): void {
  t.images++;
  t.areaSum += maskedAreaFraction(width, height, plan.all);
  t.faceAreaSum += maskedAreaFraction(width, height, plan.faces);
  t.plateAreaSum += maskedAreaFraction(width, height, plan.plates);
  t.fallbackAreaSum += maskedAreaFraction(width, height, plan.fallback);
  for (const g of gt) {
    t.objects++;
    if (coveredFraction(g, detectorBoxes) >= COVER) t.byDetector++;
    if (coveredFraction(g, plan.all) >= COVER) t.withFallback++;
    if (coveredFraction(g, plan.fallback) >= COVER) t.byFallbackOnly++;
  }
}

const r3 = (v: number): number => Math.round(v * 1000) / 1000;

export async function runPrivacyBench(o: PrivacyBenchOptions = {}) {
  const threads = o.threads ?? 2;
  const usStride = o.usStride ?? 3;
  const started = performance.now();
  const detector = await createDetector({ modelsDir: '../shared/models', manifestPath: 'models/manifest.json', backend: 'onnx-cpu', model: 'yolox_nano', scoreThreshold: 0.3, nmsIou: 0.45, threads });
  const anonymizer = await createAnonymizer({
    modelsDir: '../shared/models',
    manifestPath: 'models/manifest.json',
    faceModel: 'yunet_n',
    faceScoreThreshold: 0.3,
    plateModel: 'ppocr_v4_det',
    timeoutMs: 60_000,
    jpegQuality: 80,
    threads,
    // the masks are the same in the worker; inline saves copying each photo over IPC
    isolation: 'inline',
  });
  if (anonymizer.unavailable) throw new Error(`anonymizer unavailable: ${anonymizer.unavailable}`);

  const plates = { us: newTally(), eu: newTally() };
  let plateNoVehicle = 0;
  for (const set of ['us', 'eu'] as const) {
    for (const s of plateSamples(set, set === 'us' ? usStride : 1)) {
      const img = await readRgb(s.image);
      const objects = await detector.process(img);
      const vehicles = objects.filter((d) => d.cls !== 'person' && d.cls !== 'bicycle');
      if (!s.gt.some((g) => vehicles.some((v) => coveredFraction(g, [v.box]) >= 0.5))) plateNoVehicle++;
      const plan = await anonymizer.maskPlan(img, objects);
      add(plates[set], s.gt, plan, plan.plates, img.width, img.height);
    }
  }

  const faces = { dlib: newTally(), mask: newTally() };
  const sizes: FaceSizes = { bucket: {}, atLeast10: { faces: 0, covered: 0 } };
  let over50 = 0;
  for (const s of faceSamples()) {
    const img = await readRgb(s.image);
    const objects = await detector.process(img);
    const plan = await anonymizer.maskPlan(img, objects);
    add(s.image.includes('/dlib/') ? faces.dlib : faces.mask, s.gt, plan, plan.faces, img.width, img.height);
    addFaceSizes(sizes, s.gt, plan);
    if (plan.maskedShare > 0.5) over50++;
  }
  // Small faces: the shared sets hold almost none under 16 px, so the dlib group photos are also run
  // at 1/4 and 1/8 size (faces of ~5-30 px), boxes scaled alike.
  const small: FaceSizes = { bucket: {}, atLeast10: { faces: 0, covered: 0 } };
  for (const s of faceSamples().filter((f) => f.image.includes('/dlib/'))) {
    for (const k of [0.25, 0.125]) {
      const meta = await sharp(s.image).metadata();
      const w = Math.round(meta.width! * k);
      const h = Math.round(meta.height! * k);
      const { data } = await sharp(s.image).removeAlpha().resize(w, h, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
      const img: RgbImage = { width: w, height: h, data };
      const plan = await anonymizer.maskPlan(img, await detector.process(img));
      addFaceSizes(small, s.gt.map((g) => ({ x: g.x * k, y: g.y * k, w: g.w * k, h: g.h * k })), plan);
    }
  }
  await anonymizer.close();
  await detector.close();

  const traffic = await runPrivacyTrafficBench({ runs: o.timingRuns ?? 20, workerRuns: 5 });

  const share = (t: Tally, k: 'byDetector' | 'withFallback' | 'byFallbackOnly'): number => r3(t[k] / Math.max(1, t.objects));
  const both = (a: Tally, b: Tally): Tally => {
    const t = newTally();
    for (const k of Object.keys(t) as Array<keyof Tally>) t[k] = a[k] + b[k];
    return t;
  };
  const areas = (t: Tally) => ({ all: r3(t.areaSum / t.images), faces: r3(t.faceAreaSum / t.images), plates: r3(t.plateAreaSum / t.images), fallback: r3(t.fallbackAreaSum / t.images) });
  const allPlates = both(plates.us, plates.eu);
  const allFaces = both(faces.dlib, faces.mask);
  const result = {
    coverCriterion: COVER,
    plateImagesUs: plates.us.images,
    plateImagesEu: plates.eu.images,
    usStride,
    plateCoverageTextDetector: share(allPlates, 'byDetector'),
    plateCoverageWithFallback: share(allPlates, 'withFallback'),
    plateCoverageFallbackOnly: share(allPlates, 'byFallbackOnly'),
    plateCoverageUs: share(plates.us, 'withFallback'),
    plateCoverageEu: share(plates.eu, 'withFallback'),
    platesWithoutVehicleBox: plateNoVehicle,
    plateMaskedAreaFraction: r3(allPlates.areaSum / allPlates.images),
    plateMaskedAreaBySource: areas(allPlates),
    faceCount: allFaces.objects,
    faceCoverageDetector: share(allFaces, 'byDetector'),
    faceCoverageWithFallback: share(allFaces, 'withFallback'),
    faceCoverageFallbackOnly: share(allFaces, 'byFallbackOnly'),
    faceCoverageDlib: share(faces.dlib, 'withFallback'),
    faceCoverageMask: share(faces.mask, 'withFallback'),
    faceMaskedAreaFraction: r3(allFaces.areaSum / allFaces.images),
    faceMaskedAreaBySource: areas(allFaces),
    faceCoverageAtLeast10px: r3(sizes.atLeast10.covered / Math.max(1, sizes.atLeast10.faces)),
    facesAtLeast10px: sizes.atLeast10.faces,
    faceCoverageBySize: Object.fromEntries(FACE_BUCKETS.map((b) => [b.name, { faces: sizes.bucket[b.name]?.faces ?? 0, covered: r3((sizes.bucket[b.name]?.covered ?? 0) / Math.max(1, sizes.bucket[b.name]?.faces ?? 0)) }])),
    facePhotosOverHalfMasked: over50,
    smallFaceCoverageBySize: Object.fromEntries(FACE_BUCKETS.map((b) => [b.name, { faces: small.bucket[b.name]?.faces ?? 0, covered: r3((small.bucket[b.name]?.covered ?? 0) / Math.max(1, small.bucket[b.name]?.faces ?? 0)) }])),
    smallFaceCoverageAtLeast10px: r3(small.atLeast10.covered / Math.max(1, small.atLeast10.faces)),
    traffic: traffic.traffic,
    timing720p: traffic.timing,
    threads,
    benchSeconds: Math.round((performance.now() - started) / 1000),
  };
  const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
  const summary = [
    `privacy: plates covered >=${pct(COVER)}: ${pct(result.plateCoverageWithFallback)} with fallback, ${pct(result.plateCoverageTextDetector)} by text detector alone, ${pct(result.plateCoverageFallbackOnly)} by the vehicle-band fallback alone (${allPlates.objects} plates: ${plates.us.images} US (every ${usStride}th, subsampled for time), ${plates.eu.images} EU; ${plateNoVehicle} without a YOLOX vehicle box); mean masked area ${pct(result.plateMaskedAreaFraction)} (plates ${pct(result.plateMaskedAreaBySource.plates)}, faces ${pct(result.plateMaskedAreaBySource.faces)}, fallback ${pct(result.plateMaskedAreaBySource.fallback)})`,
    `privacy: faces covered >=${pct(COVER)}: ${pct(result.faceCoverageWithFallback)} with fallback, ${pct(result.faceCoverageDetector)} by YuNet alone, ${pct(result.faceCoverageFallbackOnly)} by the person-head fallback alone (${allFaces.objects} faces: dlib ${pct(result.faceCoverageDlib)}, mask ${pct(result.faceCoverageMask)}); mean masked area ${pct(result.faceMaskedAreaFraction)} (faces ${pct(result.faceMaskedAreaBySource.faces)}, fallback ${pct(result.faceMaskedAreaBySource.fallback)})`,
    `privacy: faces >= 10 px covered ${pct(result.faceCoverageAtLeast10px)} (${result.facesAtLeast10px} faces); by face width: ${FACE_BUCKETS.map((b) => `${b.name} px ${pct(result.faceCoverageBySize[b.name]!.covered)} of ${result.faceCoverageBySize[b.name]!.faces}`).join(', ')}; ${over50} face photos more than half masked`,
    `privacy: dlib photos at 1/4 and 1/8 size: faces >= 10 px covered ${pct(result.smallFaceCoverageAtLeast10px)}; by face width: ${FACE_BUCKETS.map((b) => `${b.name} px ${pct(result.smallFaceCoverageBySize[b.name]!.covered)} of ${result.smallFaceCoverageBySize[b.name]!.faces}`).join(', ')}`,
    ...traffic.summary,
  ];
  return { ...result, summary };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runPrivacyBench();
  console.log(JSON.stringify(r, null, 2));
}
