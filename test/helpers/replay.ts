// Replay helpers: a camera config with the schema's defaults, the recorded fixtures, line counts.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { CameraSchema, type CameraConfig, type CountingLineConfig } from '../../appliance/src/config/schema.js';
import { parseRecording, type Recording } from '../../appliance/src/core/recording.js';
import type { CountIntervalData } from '../../appliance/src/core/event-data.js';
import type { DomainEvent } from '../../appliance/src/core/types.js';
import type { FrameSink, FrameSource } from '../../appliance/src/core/stages.js';

export function replayCameraConfig(id: string, width: number, height: number, fps: number, extra: Partial<CameraConfig> = {}): CameraConfig {
  const cam = Value.Default(CameraSchema, { id, url: 'rtsp://127.0.0.1/replay', fps, width, height, ...extra }) as CameraConfig;
  if (!Value.Check(CameraSchema, cam)) throw new Error(`invalid replay camera: ${[...Value.Errors(CameraSchema, cam)].map((e) => e.path + ' ' + e.message).join('; ')}`);
  return cam;
}

/** cdnet-highway: all traffic drives down the image, towards the camera. */
export const HIGHWAY_LINES: CountingLineConfig[] = [
  { id: 'upper', from: { x: 0.3, y: 0.42 }, to: { x: 0.92, y: 0.42 }, direction: { x: 0, y: 1 }, minTravel: 0.02 },
  { id: 'lower', from: { x: 0.0, y: 0.7 }, to: { x: 0.85, y: 0.7 }, direction: { x: 0, y: 1 }, minTravel: 0.02 },
];

export function loadFixtureRecording(name: string): Recording {
  return parseRecording(readFileSync(resolve('test/fixtures/detections', name), 'utf8'));
}

/** Total per line, direction and class over every count.interval event. */
export function lineTotals(events: readonly DomainEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of events) {
    if (e.type !== 'count.interval') continue;
    const d = e.data as CountIntervalData;
    for (const c of d.counts) {
      const k = `${d.lineId}/${c.direction}/${c.cls}`;
      out[k] = (out[k] ?? 0) + c.count;
    }
  }
  return out;
}

/** A live-like source (as the RTSP source, it never waits for analysis): the test pushes frames into `sink`. */
export class PushSource implements FrameSource {
  sink: FrameSink | null = null;
  start(sink: FrameSink): void {
    this.sink = sink;
  }
  status() {
    return { state: 'streaming' as const, since: 0, reason: '', restarts: 0, framesDecoded: 0, lastFrameAt: null };
  }
  async close(): Promise<void> {}
}
