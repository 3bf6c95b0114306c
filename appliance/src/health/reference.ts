// The camera's own reference: what its healthy picture looks like, learned over the first healthy
// seconds (and again when an installer confirms the view or saves lines or a calibration). Numbers and
// a 160x90 edge map only: the reference snapshot shown to installers is a separate, anonymized JPEG.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BLOCK_COLS, BLOCK_ROWS, SMALL_H, SMALL_W, edgeMap, median } from './image-stats.js';
import { estimateShift } from './registration.js';

export interface HealthReference {
  takenAtMs: number;
  samples: number;
  /** Median mean grey level. */
  meanLuma: number;
  /** Median variance of the Laplacian (fine grey). */
  sharpness: number;
  /** Median standard deviation of each block of the small grey. */
  blockStd: Float32Array;
  /** Edge map of the mean small grey (passing traffic averaged out). */
  edges: Float32Array;
  /** Median edge correlation of single healthy samples with `edges`: the camera's own match level. */
  selfCorrelation: number;
}

export interface LearnSample {
  small: Float32Array;
  edges: Float32Array;
  meanLuma: number;
  sharpness: number;
  blockStd: Float32Array;
}

/** Accumulates healthy samples until it has enough for a reference. */
export class ReferenceLearner {
  private readonly samples: LearnSample[] = [];
  constructor(readonly needed: number) {}

  get count(): number {
    return this.samples.length;
  }

  /** Adds a healthy sample; returns the reference once `needed` samples are in. */
  offer(s: LearnSample, tMs: number): HealthReference | null {
    this.samples.push(s);
    if (this.samples.length < this.needed) return null;
    return buildReference(this.samples, tMs);
  }
}

function buildReference(samples: LearnSample[], tMs: number): HealthReference {
  const n = SMALL_W * SMALL_H;
  const meanGrey = new Float32Array(n);
  // Every sample's small grey holds n values and its blockStd BLOCK_COLS×BLOCK_ROWS.
  for (const s of samples) for (let i = 0; i < n; i++) meanGrey[i]! += s.small[i]! / samples.length;
  const edges = edgeMap(meanGrey, SMALL_W, SMALL_H);
  const blockStd = new Float32Array(BLOCK_COLS * BLOCK_ROWS);
  for (let b = 0; b < blockStd.length; b++) blockStd[b] = median(samples.map((s) => s.blockStd[b]!));
  return {
    takenAtMs: tMs,
    samples: samples.length,
    meanLuma: median(samples.map((s) => s.meanLuma)),
    sharpness: median(samples.map((s) => s.sharpness)),
    blockStd,
    edges,
    selfCorrelation: median(samples.map((s) => estimateShift(edges, s.edges, SMALL_W, SMALL_H).zero)),
  };
}

interface StoredReference {
  version: 1;
  cameraId: string;
  /** Size of the analysed frame it was learned on: sharpness depends on it, so another size re-learns. */
  frameWidth: number;
  frameHeight: number;
  takenAt: string;
  samples: number;
  meanLuma: number;
  sharpness: number;
  blockStd: number[];
  /** Edge magnitudes, clipped to 0..255, base64 of SMALL_W x SMALL_H bytes. */
  edges: string;
  selfCorrelation: number;
}

/** References on disk (one JSON per camera) so a restart does not forget what the view should be. */
export class ReferenceStore {
  constructor(private readonly dir: string) {}

  private file(cameraId: string): string {
    return join(this.dir, `${cameraId}.reference.json`);
  }

  jpegFile(cameraId: string): string {
    return join(this.dir, `${cameraId}.reference.jpg`);
  }

  save(cameraId: string, r: HealthReference, frameWidth: number, frameHeight: number): void {
    mkdirSync(this.dir, { recursive: true });
    const bytes = Buffer.alloc(r.edges.length);
    for (const [i, v] of r.edges.entries()) bytes[i] = Math.max(0, Math.min(255, Math.round(v)));
    const body: StoredReference = {
      version: 1,
      cameraId,
      frameWidth,
      frameHeight,
      takenAt: new Date(r.takenAtMs).toISOString(),
      samples: r.samples,
      meanLuma: r.meanLuma,
      sharpness: r.sharpness,
      blockStd: Array.from(r.blockStd, (v) => Math.round(v * 100) / 100),
      edges: bytes.toString('base64'),
      selfCorrelation: r.selfCorrelation,
    };
    const f = this.file(cameraId);
    writeFileSync(`${f}.tmp`, JSON.stringify(body));
    renameSync(`${f}.tmp`, f);
  }

  /** The stored reference, or null (none, unreadable, of another format or frame size: it is learned again). */
  load(cameraId: string, frameWidth: number, frameHeight: number): HealthReference | null {
    const f = this.file(cameraId);
    if (!existsSync(f)) return null;
    try {
      const s = JSON.parse(readFileSync(f, 'utf8')) as StoredReference;
      const edges = Buffer.from(s.edges, 'base64');
      if (s.frameWidth !== frameWidth || s.frameHeight !== frameHeight) return null;
      if (s.version !== 1 || edges.length !== SMALL_W * SMALL_H || s.blockStd.length !== BLOCK_COLS * BLOCK_ROWS) return null;
      return {
        takenAtMs: Date.parse(s.takenAt),
        samples: s.samples,
        meanLuma: s.meanLuma,
        sharpness: s.sharpness,
        blockStd: Float32Array.from(s.blockStd),
        edges: Float32Array.from(edges),
        selfCorrelation: s.selfCorrelation,
      };
    } catch {
      return null;
    }
  }

  saveJpeg(cameraId: string, jpeg: Buffer): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.jpegFile(cameraId), jpeg);
  }

  loadJpeg(cameraId: string): Buffer | null {
    const f = this.jpegFile(cameraId);
    return existsSync(f) ? readFileSync(f) : null;
  }

  forget(cameraId: string): void {
    rmSync(this.file(cameraId), { force: true });
    rmSync(this.jpegFile(cameraId), { force: true });
  }
}
