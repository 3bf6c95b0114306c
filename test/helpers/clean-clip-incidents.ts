// Normal traffic for the incident rules: every clean shared clip, recorded once with the demo config's
// detector and kept in var/ (not committed: they derive from clips that may not be redistributed),
// looped and replayed end to end through the real pipeline with the camera geometry drawn by eye
// (bench/ground-truth/incidents/clean-clips.json). The benchmark and the full-tier test use it.
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { recordDetections } from '../../appliance/src/cli/record-detections.js';
import { parseRecording, type RecordedFrame, type Recording } from '../../appliance/src/core/recording.js';
import { loadConfigFile } from '../../appliance/src/config/load.js';
import { modelsDirFromEnv } from '../../appliance/src/core/models.js';
import { Value } from '@sinclair/typebox/value';
import { CameraSchema, type CameraConfig, type StopLineConfig, type ZoneConfig } from '../../appliance/src/config/schema.js';
import type { IncidentData, ZoneIntervalData } from '../../appliance/src/core/event-data.js';
import type { TrackerStage } from '../../appliance/src/core/stages.js';
import type { DomainEvent, FrameDetections, FrameTracks, IncidentKind } from '../../appliance/src/core/types.js';
import { ReplayDetector } from '../../appliance/src/detect/replay-detector.js';
import { RecordedFrameSource } from '../../appliance/src/ingest/recorded-source.js';
import { replayCamera } from '../../appliance/src/pipeline/replay.js';
import { MultiObjectTracker } from '../../appliance/src/track/index.js';
import { CLEAN_CLIPS } from './clips.js';

/** The demo camera's analysed rate and detector, read from the shipped demo config (the defaults we ship). */
const DEMO_CONFIG = loadConfigFile(resolve('appliance/config/roadside.demo.yaml'));
export const DEMO_FPS = DEMO_CONFIG.cameras[0]?.fps ?? 5;
export const DEMO_MODEL = DEMO_CONFIG.detector.model;
export const DEMO_SCORE = DEMO_CONFIG.detector.scoreThreshold;
export const DEMO_ENHANCE = DEMO_CONFIG.detector.enhance;
export const CACHE_DIR = resolve('var/bench-recordings');
const SHARED = resolve('../shared/data/traffic');

export function cachePath(clip: string): string {
  // The low-light step changes what the model sees on dark and hazy clips: recorded apart.
  return resolve(CACHE_DIR, `${basename(clip).replace(/\.[^.]+$/, '')}.${DEMO_MODEL}${DEMO_ENHANCE === 'off' ? '' : `.enhance-${DEMO_ENHANCE}`}.${DEMO_FPS}fps.jsonl`);
}

/** Every clean clip's recording, recorded first (real detector, ffmpeg) where the cache lacks it. */
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
        enhance: DEMO_ENHANCE,
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

/** Video time of clean footage replayed in all by default (s): an hour, shared evenly by the clips. */
export const CLEAN_SECONDS = 3600;
const CLEAN_GEOMETRY = resolve('bench/ground-truth/incidents/clean-clips.json');

type CleanGeometry = Record<string, { note: string; zones: ZoneConfig[]; stopLines?: StopLineConfig[] }>;

/**
 * The recording played `times` times back to back: seq and time continue across the seam (one frame
 * period between the last frame and the next loop's first). Returns the seams' times too: a vehicle
 * at the end of one loop is not the one at the same place at the start of the next.
 */
export function loopRecording(rec: Recording, times: number): Recording & { seamsMs: number[] } {
  const period = 1000 / rec.header.fps;
  const first = rec.frames[0];
  const last = rec.frames[rec.frames.length - 1];
  if (!first || !last) return { ...rec, seamsMs: [] };
  const span = last.timestampMs - first.timestampMs + period;
  const frames: RecordedFrame[] = [];
  for (let k = 0; k < times; k++) {
    for (const f of rec.frames) frames.push({ seq: frames.length, timestampMs: f.timestampMs + Math.round(k * span), detections: f.detections });
  }
  const seamsMs = Array.from({ length: times - 1 }, (_, k) => first.timestampMs + Math.round((k + 1) * span));
  return { header: rec.header, frames, seamsMs };
}

/** Id offset per loop: far above any id one loop's tracker hands out. */
const LOOP_ID_STRIDE = 1_000_000;

/**
 * The real tracker, started afresh at every seam of a looped recording, with the ids of each loop
 * shifted by LOOP_ID_STRIDE: at a seam every track ends and new ones begin, as if new traffic came
 * by, and no id is reused (the analytics would take a reused id for the same vehicle jumping).
 */
export class LoopingTracker implements TrackerStage {
  private inner = new MultiObjectTracker();
  private loop = 0;
  constructor(private readonly seamsMs: readonly number[]) {}
  process(fd: FrameDetections): FrameTracks {
    while (this.loop < this.seamsMs.length && fd.timestampMs >= (this.seamsMs[this.loop] ?? Infinity)) {
      this.inner.close();
      this.inner = new MultiObjectTracker();
      this.loop++;
    }
    const ft = this.inner.process(fd);
    const shift = this.loop * LOOP_ID_STRIDE;
    return { ...ft, tracks: ft.tracks.map((t) => ({ ...t, id: t.id + shift })) };
  }
  close(): void {
    this.inner.close();
  }
}

function cleanCamera(id: string, rec: Recording, g: CleanGeometry[string]): CameraConfig {
  const { fps, width, height } = rec.header;
  const cam = Value.Default(CameraSchema, { id, url: 'rtsp://127.0.0.1/bench', fps, width, height, zones: g.zones, ...(g.stopLines ? { stopLines: g.stopLines } : {}) }) as CameraConfig;
  if (!Value.Check(CameraSchema, cam)) throw new Error(`${id}: invalid camera geometry`);
  return cam;
}

export interface CleanClipResult {
  clip: string;
  videoSeconds: number;
  loops: number;
  incidents: Array<{ kind: IncidentKind; atS: number; zoneId: string | null }>;
  /** Tracks that entered each zone (the geometry looks at traffic, not at an empty corner). */
  zoneEntries: Record<string, number>;
}

/** Each clean clip looped to `perClipSeconds` of video (default: an hour in all) and replayed end to end. */
export async function runCleanClips(log: (s: string) => void = () => undefined, perClipSeconds = CLEAN_SECONDS / CLEAN_CLIPS.length): Promise<CleanClipResult[]> {
  const out: CleanClipResult[] = [];
  for (const { clip, recording } of await cleanClipRecordings(log)) out.push(await replayCleanClip(clip, recording, perClipSeconds));
  return out;
}

/** One clean clip's recording (any detector setting) looped to `perClipSeconds` and replayed with its drawn geometry. */
export async function replayCleanClip(clip: string, recording: Recording, perClipSeconds = CLEAN_SECONDS / CLEAN_CLIPS.length): Promise<CleanClipResult> {
  const geometry = JSON.parse(readFileSync(CLEAN_GEOMETRY, 'utf8')) as CleanGeometry;
  const g = geometry[clip];
  if (!g) throw new Error(`no camera geometry for ${clip} in ${CLEAN_GEOMETRY}`);
  const seconds = recording.frames.length / recording.header.fps;
  const loops = Math.max(1, Math.ceil(perClipSeconds / seconds));
  const looped = loopRecording(recording, loops);
  const id = clip.split('/')[0] ?? 'clip';
  const r = await replayCamera({
    camera: cleanCamera(id, looped, g),
    source: new RecordedFrameSource(id, looped),
    detector: new ReplayDetector(looped),
    tracker: () => new LoopingTracker(looped.seamsMs),
  });
  const t0 = looped.frames[0]?.timestampMs ?? 0;
  const incidents = (r.events.filter((e) => e.type === 'incident.opened') as Array<DomainEvent<IncidentData>>).map((e) => ({
    kind: e.data.kind,
    atS: Math.round((e.timeMs - t0) / 100) / 10,
    zoneId: e.data.zoneId,
  }));
  const zoneEntries: Record<string, number> = {};
  for (const e of r.events) {
    if (e.type !== 'zone.interval') continue;
    const d = e.data as ZoneIntervalData;
    zoneEntries[d.zoneId] = (zoneEntries[d.zoneId] ?? 0) + d.entries;
  }
  return { clip, videoSeconds: Math.round(looped.frames.length / looped.header.fps), loops, incidents, zoneEntries };
}
