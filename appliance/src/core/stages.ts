// The stage contract of one camera: FrameSource → Detector → Tracker → Analytics → Publisher.
// Every stage has the same lifecycle: `process` one input, `close` once. CameraPipeline is the
// conductor and gets each stage injected, so a clip replay, recorded detections or a GPU detector
// slot in without touching it. Shared stages (one detector, one publisher for all cameras) are
// closed by their owner (the appliance), never by a camera.
import type { CameraState, Detection, DomainEvent, Frame, FrameDetections, FrameTracks, IncidentKind, RgbImage } from './types.js';

/** Where a source delivers. */
export interface FrameSink {
  /**
   * A decoded frame. Live sources ignore the promise (the pipeline drops what it cannot analyse);
   * a replay that must not drop frames awaits it before reading the next one.
   */
  frame(frame: Frame): Promise<void>;
  state(state: CameraState, reason: string): void;
}

export interface FrameSourceStatus {
  state: CameraState;
  /** ms since epoch of the last state change */
  since: number;
  reason: string;
  restarts: number;
  framesDecoded: number;
  lastFrameAt: number | null;
}

/** One camera's frames: the RTSP stream (ffmpeg), a clip file, or a recording. */
export interface FrameSource {
  start(sink: FrameSink): void;
  status(): FrameSourceStatus;
  close(): Promise<void>;
}

/** A pretrained object detector. Boxes come back in pixels of the image given. */
export interface DetectorStage {
  process(image: RgbImage): Promise<Detection[]>;
  close(): Promise<void>;
}

/** Multi-object tracking: detections of one frame in, tracks out. `close` forgets every track. */
export interface TrackerStage {
  process(input: FrameDetections): FrameTracks;
  close(): void;
}

/** Counting, zones, speeds, incidents. `close` ends the open intervals and incidents at a time. */
export interface AnalyticsStage {
  process(input: FrameTracks): DomainEvent[];
  close(nowMs: number): DomainEvent[];
  openIncidents(): readonly { kind: IncidentKind }[];
}

/** Hands events on (to the outbox). Resolves once they are stored. */
export interface Publisher {
  process(events: DomainEvent[]): Promise<void>;
  close(): Promise<void>;
}
