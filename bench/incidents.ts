// `npx tsx bench/run.ts incidents`: the incident rules measured like an AID system.
// 1. False alarms: every clean shared clip (none shows an incident; queues at signals, people on a
//    zebra, parked cars are normal traffic), recorded once with the demo config's detector and looped
//    to an hour of video in all, played end to end through the real pipeline at the default rules with
//    the camera geometry drawn by eye (bench/ground-truth/incidents/clean-clips.json).
// 2. Detection: scenario replays of recorded real detections, edited by a committed script
//    (bench/ground-truth/incidents/scenarios.json, test/helpers/incident-scenarios.ts), with the ground
//    truth that follows from each edit: detection rate and mean time to detect per kind, and the
//    near-misses (queue at a stop line, bus at its stop, parked car, identity swap, roll-back, close
//    merge) that must stay silent.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { CameraSchema, type CameraConfig, type StopLineConfig, type ZoneConfig } from '../appliance/src/config/schema.js';
import type { RecordedFrame, Recording } from '../appliance/src/core/recording.js';
import type { TrackerStage } from '../appliance/src/core/stages.js';
import { MultiObjectTracker } from '../appliance/src/track/index.js';
import type { IncidentData } from '../appliance/src/core/event-data.js';
import { INCIDENT_KINDS, type DomainEvent, type FrameDetections, type FrameTracks, type IncidentKind } from '../appliance/src/core/types.js';
import { ReplayDetector } from '../appliance/src/detect/replay-detector.js';
import { RecordedFrameSource } from '../appliance/src/ingest/recorded-source.js';
import { replayCamera } from '../appliance/src/pipeline/replay.js';
import { buildScenario, loadScenarioSpecs, runScenario, scoreScenario, type ScenarioScore } from '../test/helpers/incident-scenarios.js';
import { cleanClipRecordings } from './incidents-recordings.js';

/** Video time of clean footage replayed in all (s): an hour, shared evenly by the clips. */
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
}

export async function runCleanClips(log: (s: string) => void = () => undefined): Promise<CleanClipResult[]> {
  const geometry = JSON.parse(readFileSync(CLEAN_GEOMETRY, 'utf8')) as CleanGeometry;
  const recs = await cleanClipRecordings(log);
  const perClip = CLEAN_SECONDS / recs.length;
  const out: CleanClipResult[] = [];
  for (const { clip, recording } of recs) {
    const g = geometry[clip];
    if (!g) throw new Error(`no camera geometry for ${clip} in ${CLEAN_GEOMETRY}`);
    const seconds = recording.frames.length / recording.header.fps;
    const loops = Math.max(1, Math.ceil(perClip / seconds));
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
    out.push({ clip, videoSeconds: Math.round(looped.frames.length / looped.header.fps), loops, incidents });
  }
  return out;
}

export async function runScenarios(): Promise<ScenarioScore[]> {
  const out: ScenarioScore[] = [];
  for (const spec of loadScenarioSpecs()) {
    const sc = buildScenario(spec);
    out.push(scoreScenario(sc, await runScenario(sc)));
  }
  return out;
}

const r1 = (v: number) => Math.round(v * 10) / 10;

export async function runIncidentsBench(): Promise<{ summary: string[] } & Record<string, unknown>> {
  const clean = await runCleanClips((s) => console.log(`  ${s}`));
  const scenarios = await runScenarios();
  const hours = clean.reduce((s, c) => s + c.videoSeconds, 0) / 3600;
  const cleanAlarms = clean.reduce((s, c) => s + c.incidents.length, 0);
  const scenarioAlarms = scenarios.reduce((s, c) => s + c.falseAlarms.length, 0);
  const perKind = INCIDENT_KINDS.map((kind) => {
    const all = scenarios.flatMap((s) => s.detected.filter((d) => d.kind === kind));
    const hits = all.filter((d) => d.delayS !== null).map((d) => d.delayS as number);
    const fa = clean.reduce((s, c) => s + c.incidents.filter((i) => i.kind === kind).length, 0);
    return {
      kind,
      labelled: all.length,
      detected: hits.length,
      detectionRate: all.length ? hits.length / all.length : null,
      meanTimeToDetectS: hits.length ? r1(hits.reduce((a, b) => a + b, 0) / hits.length) : null,
      falseAlarmsPerCameraHour: r1(fa / hours),
    };
  });
  const silent = scenarios.filter((s) => s.detected.length === 0);
  const summary = [
    `false alarms on clean footage: ${cleanAlarms} in ${r1(hours)} camera-hours of video (${clean.length} clips looped) = ${r1(cleanAlarms / hours)} per camera-hour`,
    ...clean.map((c) => `${c.clip}: ${c.videoSeconds} s (${c.loops} loops), ${c.incidents.length} incidents${c.incidents.length ? ` ${JSON.stringify(c.incidents.slice(0, 5))}` : ''}`),
    `scenario replays: ${scenarios.length}; normal-traffic near-misses silent: ${silent.filter((s) => s.falseAlarms.length === 0).length}/${silent.length}; false alarms in scenarios: ${scenarioAlarms}`,
    '',
    '| kind | labelled | detected | detection rate | mean time to detect (s) | false alarms / camera-hour (clean) |',
    '|---|---|---|---|---|---|',
    ...perKind.map((k) => `| ${k.kind} | ${k.labelled} | ${k.detected} | ${k.detectionRate === null ? '-' : `${Math.round(k.detectionRate * 100)} %`} | ${k.meanTimeToDetectS ?? '-'} | ${k.falseAlarmsPerCameraHour} |`),
    '',
    ...scenarios.map((s) => `${s.name}: ${s.detected.map((d) => `${d.kind} ${d.delayS === null ? 'MISSED' : `in ${r1(d.delayS)} s`}`).join(', ') || 'silent expected'}${s.falseAlarms.length ? `; false alarms ${JSON.stringify(s.falseAlarms)}` : ''}`),
  ];
  return { summary, cameraHours: r1(hours * 100) / 100, cleanFalseAlarms: cleanAlarms, scenarioFalseAlarms: scenarioAlarms, perKind, clean, scenarios };
}
