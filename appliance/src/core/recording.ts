// Recorded detections: one JSON line per analysed frame, as the real detector saw it, so the tracker,
// lines, zones, incidents and events can replay real data in seconds with no model and no video.
// First line: the header. Written by `npm run record-detections`, read by the replay source and detector.
import type { Detection } from './types.js';

export interface RecordingHeader {
  kind: 'roadside-detections';
  version: 1;
  /** The clip, relative to the shared data folder when it lies there. */
  clip: string;
  fps: number;
  width: number;
  height: number;
  detector: string;
  scoreThreshold: number;
}

export interface RecordedFrame {
  seq: number;
  /** the frame's time as the pipeline saw it, ms since epoch (a clip replay starts at REPLAY_EPOCH_MS) */
  timestampMs: number;
  detections: Detection[];
}

export interface Recording {
  header: RecordingHeader;
  frames: RecordedFrame[];
}

export function formatRecordingLine(x: RecordingHeader | RecordedFrame): string {
  return JSON.stringify(x) + '\n';
}

/** Parses a recording; throws naming the line that is not one. */
export function parseRecording(text: string): Recording {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const first = lines[0];
  if (first === undefined) throw new Error('recording is empty');
  const header = JSON.parse(first) as RecordingHeader;
  if (header.kind !== 'roadside-detections' || header.version !== 1) throw new Error('line 1: not a roadside-detections v1 header');
  const frames = lines.slice(1).map((l, i) => {
    const f = JSON.parse(l) as RecordedFrame;
    if (typeof f.seq !== 'number' || typeof f.timestampMs !== 'number' || !Array.isArray(f.detections)) throw new Error(`line ${i + 2}: not a recorded frame`);
    return f;
  });
  return { header, frames };
}
