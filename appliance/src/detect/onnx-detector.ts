// Object detectors on onnxruntime-node: YOLOX (letterboxed BGR, grid decoding), PP-PicoDet
// (stretched RGB with ImageNet normalisation, GFL decoding) and Open Model Zoo's
// person-vehicle-bike-detection-2003 (stretched BGR, ATSS decoding), chosen by the model's manifest entry.
// One session per detector; calls are serialised by the caller (DetectorQueue).
import * as ort from 'onnxruntime-node';
import { OBJECT_CLASSES, type Detection, type ObjectClass, type RgbImage } from '../core/types.js';
import { resolveModel, ModelError, type ModelEntry } from '../core/models.js';
import type { Detector, DetectorOptions, DetectorBackend } from './detector.js';
import { classWiseNms, dropOversized, vehicleAwareNms } from './nms.js';
import { decodePicodet } from './picodet.js';
import { decodeAtss } from './atss.js';
import { fromRegion, prepareInput, type InputSpec } from './preprocess.js';
import { decodeYolox } from './yolox.js';
import { removeOrtDebugLog } from '../core/leftovers.js';

export function executionProviders(backend: DetectorBackend): string[] {
  return backend === 'onnx-cuda' ? ['cuda', 'cpu'] : ['cpu'];
}

type Decode = 'yolox-grid' | 'picodet-gfl' | 'atss';

/** The road-camera model's coarse classes: a 'vehicle' is a car until the track's votes say more; a 'bike' is a two-wheeler. */
const ATSS_CLASS: Readonly<Record<string, ObjectClass>> = { vehicle: 'car', person: 'person', bike: 'motorcycle' };

function atssClasses(labels: unknown): ObjectClass[] {
  if (!Array.isArray(labels)) throw new ModelError('an atss model needs output.classes (its label names) in the manifest');
  return labels.map((l) => {
    const ours = ATSS_CLASS[String(l)] ?? (OBJECT_CLASSES as readonly string[]).find((c) => c === l);
    if (!ours) throw new ModelError(`atss label '${String(l)}' has no class here`);
    return ours as ObjectClass;
  });
}

function atssAnchors(anchors: unknown): Array<[number, number]> {
  if (!Array.isArray(anchors) || anchors.length === 0) throw new ModelError('an atss model needs output.anchors ([w, h] at the first stride) in the manifest');
  return anchors.map((a) => {
    if (!Array.isArray(a) || typeof a[0] !== 'number' || typeof a[1] !== 'number') throw new ModelError('output.anchors: each anchor is [w, h]');
    return [a[0], a[1]];
  });
}

export class OnnxDetector implements Detector {
  readonly name: string;
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly opts: DetectorOptions,
    private readonly decode: Decode,
    private readonly input: InputSpec & { name: string },
    private readonly strides: number[],
    private readonly numClasses: number,
    private readonly bins: number,
    private readonly atss: { classes: ObjectClass[]; anchors: Array<[number, number]> } | null,
  ) {
    this.name = opts.model;
  }

  get backend(): DetectorBackend {
    return this.opts.backend;
  }

  static async create(opts: DetectorOptions): Promise<OnnxDetector> {
    const model = resolveModel(opts.model, { modelsDir: opts.modelsDir, manifestPath: opts.manifestPath });
    const e: ModelEntry = model.entry;
    const decode = e.output.decode;
    if (decode !== 'yolox-grid' && decode !== 'picodet-gfl' && decode !== 'atss') throw new ModelError(`model '${opts.model}' is not an object detector this appliance can decode (decode=${String(decode)})`);
    const shape = e.input.shape as number[];
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(model.path, {
        executionProviders: executionProviders(opts.backend),
        intraOpNumThreads: opts.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        // Edited graphs carry unused initializers: onnxruntime warns about each one at load.
        logSeverityLevel: 3,
        // Idle intra-op threads sleep instead of spinning: spinning doubled the CPU per frame (bench/capacity.ts)
        // and took the cores the cameras' ffmpeg processes need.
        extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
      });
    } catch (err) {
      throw new ModelError(`cannot load ${model.path} on backend ${opts.backend}: ${(err as Error).message}`);
    }
    // The first session of the process leaves an empty $TMPDIR/mat-debug-<pid>.log behind.
    removeOrtDebugLog();
    const yolox = decode === 'yolox-grid';
    const input: InputSpec & { name: string } = {
      name: String(e.input.name ?? session.inputNames[0]),
      width: shape[3]!,
      height: shape[2]!,
      fit: yolox ? 'letterbox' : 'stretch',
      channels: e.input.channels === 'RGB' ? 'RGB' : 'BGR',
      normalize: e.input.normalize === 'imagenet' ? 'imagenet' : 'none',
      pad: typeof e.input.pad === 'number' ? e.input.pad : 114,
    };
    const strides = (e.output.strides as number[] | undefined) ?? (yolox ? [8, 16, 32] : [8, 16, 32, 64]);
    const atss = decode === 'atss' ? { classes: atssClasses(e.output.classes), anchors: atssAnchors(e.output.anchors) } : null;
    const numClasses = typeof e.output.classes === 'number' ? e.output.classes : (atss?.classes.length ?? 80);
    const bins = typeof e.output.bins === 'number' ? e.output.bins : 8;
    return new OnnxDetector(session, opts, decode, input, strides, numClasses, bins, atss);
  }

  async process(image: RgbImage): Promise<Detection[]> {
    const { tensor, scaleX, scaleY, region } = await prepareInput(image, this.input, this.opts.enhance);
    // Decoded in the region's pixels (clipped to it), then moved into the whole image's.
    const imageWidth = region.w;
    const imageHeight = region.h;
    const feeds = { [this.input.name]: new ort.Tensor('float32', tensor, [1, 3, this.input.height, this.input.width]) };
    const result = await this.session.run(feeds);
    const o = this.opts;
    const outputs = this.session.outputNames.map((n) => result[n]!.data as Float32Array);
    const n = this.strides.length;
    const candidates = this.atss
      ? // Outputs in the model's order: class maps, centerness maps, box regressions, each per stride.
        decodeAtss(outputs.slice(0, n), outputs.slice(n, 2 * n), outputs.slice(2 * n, 3 * n), {
          inputWidth: this.input.width,
          inputHeight: this.input.height,
          strides: this.strides,
          baseAnchors: this.atss.anchors,
          classes: this.atss.classes,
          scaleX,
          scaleY,
          imageWidth,
          imageHeight,
          scoreThreshold: o.scoreThreshold,
        })
      : this.decode === 'yolox-grid'
        ? decodeYolox(outputs[0]!, {
            inputWidth: this.input.width,
            inputHeight: this.input.height,
            strides: this.strides,
            numClasses: this.numClasses,
            scale: scaleX,
            imageWidth,
            imageHeight,
            scoreThreshold: o.scoreThreshold,
          })
        : decodePicodet(outputs.slice(0, n), outputs.slice(n), {
            inputWidth: this.input.width,
            inputHeight: this.input.height,
            strides: this.strides,
            numClasses: this.numClasses,
            bins: this.bins,
            scaleX,
            scaleY,
            imageWidth,
            imageHeight,
            scoreThreshold: o.scoreThreshold,
          });
    const sized = dropOversized(candidates, imageWidth, imageHeight, o.maxBoxArea ?? 1);
    return fromRegion(o.crossClassNms === false ? classWiseNms(sized, o.nmsIou) : vehicleAwareNms(sized, o.nmsIou), region);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
