import * as ort from 'onnxruntime-node';
import type { Detection, RgbImage } from '../core/types.js';
import { resolveModel, ModelError } from '../core/models.js';
import type { Detector, DetectorOptions, DetectorBackend } from './detector.js';
import { decodeYolox, letterbox } from './yolox.js';
import { removeOrtDebugLog } from '../core/leftovers.js';

export function executionProviders(backend: DetectorBackend): string[] {
  return backend === 'onnx-cuda' ? ['cuda', 'cpu'] : ['cpu'];
}

/** YOLOX on onnxruntime-node. One session per detector; calls are serialised by the caller. */
export class OnnxYoloxDetector implements Detector {
  readonly name: string;
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly opts: DetectorOptions,
    private readonly inputName: string,
    private readonly inputSize: number,
    private readonly strides: number[],
    private readonly numClasses: number,
  ) {
    this.name = opts.model;
  }
  get backend(): DetectorBackend {
    return this.opts.backend;
  }

  static async create(opts: DetectorOptions): Promise<OnnxYoloxDetector> {
    const model = resolveModel(opts.model, { modelsDir: opts.modelsDir, manifestPath: opts.manifestPath });
    if (model.entry.output.decode !== 'yolox-grid') throw new ModelError(`model '${opts.model}' is not a YOLOX detector (decode=${String(model.entry.output.decode)})`);
    const shape = model.entry.input.shape as number[];
    const outShape = model.entry.output.shape as number[];
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(model.path, {
        executionProviders: executionProviders(opts.backend),
        intraOpNumThreads: opts.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
    } catch (err) {
      throw new ModelError(`cannot load ${model.path} on backend ${opts.backend}: ${(err as Error).message}`);
    }
    // The first session of the process leaves an empty $TMPDIR/mat-debug-<pid>.log behind.
    removeOrtDebugLog();
    return new OnnxYoloxDetector(
      session,
      opts,
      String(model.entry.input.name ?? session.inputNames[0]),
      shape[2],
      (model.entry.output.strides as number[]) ?? [8, 16, 32],
      outShape[2] - 5,
    );
  }

  async detect(image: RgbImage): Promise<Detection[]> {
    const { tensor, scale } = await letterbox(image, this.inputSize);
    const input = new ort.Tensor('float32', tensor, [1, 3, this.inputSize, this.inputSize]);
    const result = await this.session.run({ [this.inputName]: input });
    const out = result[this.session.outputNames[0]].data as Float32Array;
    return decodeYolox(out, {
      inputSize: this.inputSize,
      strides: this.strides,
      numClasses: this.numClasses,
      scale,
      imageWidth: image.width,
      imageHeight: image.height,
      scoreThreshold: this.opts.scoreThreshold,
      nmsIou: this.opts.nmsIou,
    });
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
