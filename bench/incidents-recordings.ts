// Recorded detections of every clean shared clip, made once with the demo config's detector and kept
// in var/ (not committed: they derive from clips that may not be redistributed), so the incident
// benchmark replays an hour of normal traffic in seconds.
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { recordDetections } from '../appliance/src/cli/record-detections.js';
import { parseRecording, type Recording } from '../appliance/src/core/recording.js';
import { modelsDirFromEnv } from '../appliance/src/core/models.js';
import { CLEAN_CLIPS } from '../test/helpers/clips.js';

/** The demo camera's analysed rate and the demo config's detector (appliance/config/roadside.demo.yaml). */
export const DEMO_FPS = 5;
export const DEMO_MODEL = 'yolox_nano';
export const DEMO_SCORE = 0.3;
export const CACHE_DIR = resolve('var/bench-recordings');
const SHARED = resolve('../shared/data/traffic');

export function cachePath(clip: string): string {
  return resolve(CACHE_DIR, `${basename(clip).replace(/\.[^.]+$/, '')}.${DEMO_MODEL}.${DEMO_FPS}fps.jsonl`);
}

/** Every clean clip's recording, recorded first where the cache lacks it. */
export async function cleanClipRecordings(log: (s: string) => void = () => undefined): Promise<Array<{ clip: string; recording: Recording }>> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const out: Array<{ clip: string; recording: Recording }> = [];
  for (const clip of CLEAN_CLIPS) {
    const file = cachePath(clip);
    if (!existsSync(file)) {
      const t0 = Date.now();
      const tmp = `${file}.tmp-${process.pid}`;
      const r = await recordDetections({
        clip: resolve(SHARED, clip),
        out: tmp,
        fps: DEMO_FPS,
        model: DEMO_MODEL,
        scoreThreshold: DEMO_SCORE,
        modelsDir: modelsDirFromEnv(resolve('../shared/models')),
        clipName: `traffic/${clip}`,
      });
      renameSync(tmp, file);
      log(`recorded ${clip}: ${r.frames} frames in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    out.push({ clip, recording: parseRecording(readFileSync(file, 'utf8')) });
  }
  return out;
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  const recs = await cleanClipRecordings(console.log);
  for (const r of recs) console.log(r.clip, r.recording.frames.length, 'frames');
}
