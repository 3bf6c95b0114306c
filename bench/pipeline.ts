// Replay benchmark of the foundation: on the same clip, in one run,
//   decode-only fps (ffmpeg → rgb24 frames, nothing else),
//   detector-only fps (YOLOX on frames already in memory),
//   whole-pipeline fps (decode → detect → track → analytics, frames streamed from ffmpeg),
// and the ratios between them, since absolute numbers on a shared 2-core box are noisy.
import { resolve } from 'node:path';
import { createDetector } from '../appliance/src/detect/index.js';
import { ClipFrameSource } from '../appliance/src/ingest/clip-source.js';
import { replayCamera } from '../appliance/src/pipeline/replay.js';
import type { CountIntervalData } from '../appliance/src/core/event-data.js';
import type { DomainEvent } from '../appliance/src/core/types.js';
import { validateConfig } from '../appliance/src/config/load.js';
import type { RgbImage } from '../appliance/src/core/types.js';

const SHARED = resolve(process.env.ROADSIDE_SHARED ?? '../shared');
const CLIP = resolve(SHARED, 'data/traffic/opendatacam/opendatacam_placeholder_30fps.mp4');
const W = 640;
const H = 360;

/** Plays the clip through `onFrame` with the replay source the pipeline uses (the pipe waits while it awaits). */
async function replay(onFrame: (img: RgbImage) => Promise<void> | void, maxFrames: number): Promise<{ frames: number; seconds: number }> {
  const source = new ClipFrameSource({ cameraId: 'bench', clip: CLIP, fps: 30, width: W, height: H, maxFrames });
  let frames = 0;
  const t0 = performance.now();
  source.start({
    frame: async (f) => {
      await onFrame(f);
      frames++;
    },
    state: () => undefined,
  });
  await source.ended();
  return { frames, seconds: (performance.now() - t0) / 1000 };
}

function countsByLine(events: DomainEvent[]): Record<string, { forward: number; backward: number }> {
  const out: Record<string, { forward: number; backward: number }> = {};
  for (const e of events) {
    if (e.type !== 'count.interval') continue;
    const d = e.data as CountIntervalData;
    const line = (out[d.lineId] ??= { forward: 0, backward: 0 });
    for (const c of d.counts) line[c.direction] += c.count;
  }
  return out;
}

export async function runPipelineBench(maxFrames = 300) {
  const detector = await createDetector({
    modelsDir: resolve(SHARED, 'models'),
    manifestPath: resolve('models/manifest.json'),
    backend: 'onnx-cpu',
    model: 'yolox_nano',
    scoreThreshold: 0.3,
    nmsIou: 0.45,
    threads: 2,
  });
  // 1. decode only
  const decode = await replay(() => undefined, maxFrames);
  // 2. detector only, on frames in memory (decoded beforehand, not timed)
  const frames: RgbImage[] = [];
  await replay((img) => void frames.push({ ...img, data: Buffer.from(img.data) }), Math.min(maxFrames, 150));
  await detector.process(frames[0]!); // warm-up
  const t0 = performance.now();
  let detections = 0;
  for (const f of frames) detections += (await detector.process(f)).length;
  const detectSeconds = (performance.now() - t0) / 1000;
  // 3. whole pipeline
  const camera = validateConfig({
    cameras: [
      {
        id: 'bench',
        url: 'rtsp://127.0.0.1/bench',
        lines: [{ id: 'l1', from: { x: 0.17, y: 0.55 }, to: { x: 0.62, y: 0.55 }, direction: { x: 0, y: 1 } }],
        zones: [{ id: 'road', kind: 'carriageway', polygon: [{ x: 0.17, y: 1 }, { x: 0.17, y: 0.3 }, { x: 0.4, y: 0.25 }, { x: 0.78, y: 1 }] }],
      },
    ],
  }).cameras[0]!;
  // The real CameraPipeline (the one the appliance runs), fed by the clip replay source: every frame
  // analysed in turn (lockstep), so this is the pipeline's throughput, not a copy of its wiring.
  const t1 = performance.now();
  const run = await replayCamera({
    camera,
    source: new ClipFrameSource({ cameraId: 'bench', clip: CLIP, fps: 30, width: W, height: H, maxFrames }),
    detector,
    binSeconds: [60, 900],
  });
  const pipeline = { frames: run.framesAnalysed, seconds: (performance.now() - t1) / 1000 };
  const events = run.events.length;
  await detector.close();
  const decodeFps = decode.frames / decode.seconds;
  const detectorFps = frames.length / detectSeconds;
  const pipelineFps = pipeline.frames / pipeline.seconds;
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    clip: 'opendatacam 640x360',
    frames: pipeline.frames,
    decodeOnlyFps: r(decodeFps),
    detectorOnlyFps: r(detectorFps),
    detectorMsPerFrame: r((detectSeconds * 1000) / frames.length),
    pipelineFps: r(pipelineFps),
    pipelineOverDecode: r(pipelineFps / decodeFps),
    pipelineOverDetector: r(pipelineFps / detectorFps),
    meanDetectionsPerFrame: r(detections / frames.length),
    countedOnLine: countsByLine(run.events),
    eventsProduced: events,
    summary: [
      `pipeline (decode→detect→track→analytics): ${r(pipelineFps)} frames/s on ${pipeline.frames} frames of ${W}x${H}`,
      `decode only: ${r(decodeFps)} frames/s; detector only: ${r(detectorFps)} frames/s (${r((detectSeconds * 1000) / frames.length)} ms/frame)`,
      `ratios: pipeline/decode = ${r(pipelineFps / decodeFps)}, pipeline/detector = ${r(pipelineFps / detectorFps)} (the detector is the bottleneck when the second is near 1)`,
      `at a camera's 5 analysed fps, one 2-core box has room for ~${Math.floor(pipelineFps / 5)} cameras`,
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runPipelineBench(), null, 2));
}
