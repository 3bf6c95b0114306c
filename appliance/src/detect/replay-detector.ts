// Detectors for replays: ReplayDetector answers each frame with what the real model saw in it
// (a recording), RecordingDetector wraps the real model and writes what it sees.
import { appendFileSync, writeFileSync } from 'node:fs';
import type { DetectorStage } from '../core/stages.js';
import type { Detection, Frame, RgbImage } from '../core/types.js';
import { formatRecordingLine, type Recording, type RecordingHeader } from '../core/recording.js';

function seqOf(image: RgbImage): number {
  const seq = (image as Partial<Frame>).seq;
  if (typeof seq !== 'number') throw new Error('a replayed detector needs frames with a seq');
  return seq;
}

export class ReplayDetector implements DetectorStage {
  private readonly bySeq: Map<number, Detection[]>;

  constructor(recording: Recording) {
    this.bySeq = new Map(recording.frames.map((f) => [f.seq, f.detections]));
  }

  async process(image: RgbImage): Promise<Detection[]> {
    const seq = seqOf(image);
    const found = this.bySeq.get(seq);
    if (!found) throw new Error(`frame ${seq} is not in the recording`);
    // Copies: the tracker may keep references.
    return found.map((d) => ({ box: { ...d.box }, cls: d.cls, score: d.score }));
  }

  async close(): Promise<void> {}
}

export class RecordingDetector implements DetectorStage {
  constructor(
    private readonly inner: DetectorStage,
    private readonly path: string,
    header: RecordingHeader,
  ) {
    writeFileSync(path, formatRecordingLine(header));
  }

  async process(image: RgbImage): Promise<Detection[]> {
    const detections = await this.inner.process(image);
    const timestampMs = (image as Partial<Frame>).timestampMs ?? 0;
    appendFileSync(this.path, formatRecordingLine({ seq: seqOf(image), timestampMs, detections }));
    return detections;
  }

  async close(): Promise<void> {}
}
