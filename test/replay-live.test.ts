// Full tier: the live path (ffmpeg decoding a shared clip → the real YOLOX model → the real pipeline)
// records what the model saw; replaying that recording through the same pipeline gives exactly the
// same line counts, so the unit tier's replays stand for the live path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createDetector } from '../appliance/src/detect/index.js';
import { RecordingDetector, ReplayDetector } from '../appliance/src/detect/replay-detector.js';
import { ClipFrameSource } from '../appliance/src/ingest/clip-source.js';
import { RecordedFrameSource } from '../appliance/src/ingest/recorded-source.js';
import { parseRecording } from '../appliance/src/core/recording.js';
import { replayCamera } from '../appliance/src/pipeline/replay.js';
import { MANIFEST, MODELS_DIR, SHARED } from './helpers/paths.js';
import { HIGHWAY_LINES, lineTotals, replayCameraConfig } from './helpers/replay.js';

test('live path and replay of its recording give exactly the same line counts (cdnet-highway, 10 fps)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roadside-replay-'));
  try {
    const clip = resolve(SHARED, 'data/traffic/cdnet-highway/highway_cdnet_30fps.mp4');
    const cam = replayCameraConfig('highway', 320, 240, 10, { lines: HIGHWAY_LINES });
    const model = await createDetector({ modelsDir: MODELS_DIR, manifestPath: MANIFEST, backend: 'onnx-cpu', model: 'yolox_nano', scoreThreshold: 0.3, nmsIou: 0.45, threads: 2 });
    const file = join(dir, 'rec.jsonl');
    const recorder = new RecordingDetector(model, file, { kind: 'roadside-detections', version: 1, clip: 'highway', fps: 10, width: 320, height: 240, detector: 'yolox_nano', scoreThreshold: 0.3 });
    // The first 30 s of the clip keep the test short.
    const live = await replayCamera({ camera: cam, source: new ClipFrameSource({ cameraId: 'highway', clip, fps: 10, width: 320, height: 240, maxFrames: 300 }), detector: recorder });
    await model.close();

    const rec = parseRecording(readFileSync(file, 'utf8'));
    assert.equal(rec.frames.length, live.framesAnalysed);
    assert.equal(live.framesDropped, 0);
    const replay = await replayCamera({ camera: cam, source: new RecordedFrameSource('highway', rec), detector: new ReplayDetector(rec) });

    const liveTotals = lineTotals(live.events);
    assert.ok(Object.values(liveTotals).reduce((a, b) => a + b, 0) >= 15, JSON.stringify(liveTotals));
    assert.deepEqual(lineTotals(replay.events), liveTotals);
    // Interval by interval, not only in total.
    const intervals = (evs: typeof live.events) => evs.filter((e) => e.type === 'count.interval').map((e) => e.data);
    assert.deepEqual(intervals(replay.events), intervals(live.events));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
