// The plain data at the centre of the pipeline. Every stage speaks these types and nothing else;
// they are defined here once. No classes, no methods: they cross worker, disk and wire boundaries.

export type CameraId = string;

/** Classes the appliance cares about (a subset of COCO). */
export const OBJECT_CLASSES = ['person', 'bicycle', 'car', 'motorcycle', 'bus', 'truck'] as const;
export type ObjectClass = (typeof OBJECT_CLASSES)[number];
export const VEHICLE_CLASSES: readonly ObjectClass[] = ['bicycle', 'car', 'motorcycle', 'bus', 'truck'];

/** Axis-aligned box in pixels of the analysed frame, top-left origin. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Point {
  x: number;
  y: number;
}

/** A raw RGB image (rgb24, row-major, no padding). Never leaves the box unless anonymized. */
export interface RgbImage {
  width: number;
  height: number;
  /** width * height * 3 bytes */
  data: Buffer;
}

/** One decoded frame of one camera. */
export interface Frame extends RgbImage {
  cameraId: CameraId;
  /** Monotonic per camera ingest session, starting at 0. */
  seq: number;
  /** Wall-clock time the frame was read, ms since epoch. */
  timestampMs: number;
}

export interface Detection {
  box: Box;
  cls: ObjectClass;
  /** objectness * class probability, 0..1 */
  score: number;
}

/** What the detector saw in one frame. */
export interface FrameDetections {
  cameraId: CameraId;
  seq: number;
  timestampMs: number;
  width: number;
  height: number;
  detections: Detection[];
}

export type TrackStatus = 'tentative' | 'confirmed' | 'lost';

/** A tracked object as seen after one frame. */
export interface Track {
  id: number;
  cls: ObjectClass;
  box: Box;
  score: number;
  status: TrackStatus;
  /** Velocity of the box centre in pixels per second (from the motion model). */
  velocity: Point;
  /** Frames since the track was created. */
  age: number;
  /** Frames in which the track was matched to a detection. */
  hits: number;
  /** Timestamp (ms) of the first frame this track was seen. */
  firstSeenMs: number;
}

/** Tracker output for one frame: the confirmed and recently lost tracks. */
export interface FrameTracks {
  cameraId: CameraId;
  seq: number;
  timestampMs: number;
  width: number;
  height: number;
  tracks: Track[];
}

export type CameraState = 'connecting' | 'streaming' | 'stalled' | 'backoff' | 'stopped';

export type IncidentKind = 'stopped-vehicle' | 'wrong-way' | 'queue' | 'pedestrian-on-carriageway';

/**
 * Why an interval's numbers cannot be taken at face value. An interval without flags is complete and
 * trusted; consumers (DATEX export, query API) turn any flag into a data-quality mark, never into a
 * confident zero. 'partial' = observed only in part; 'stream-gap' = no frames for part of it;
 * 'camera-*' = the camera's health checks found the picture untrustworthy during it.
 */
export const DATA_QUALITY_FLAGS = ['partial', 'stream-gap', 'camera-frozen', 'camera-covered', 'camera-defocused', 'camera-moved', 'camera-dark', 'camera-overexposed'] as const;
export type DataQualityFlag = (typeof DATA_QUALITY_FLAGS)[number];

/** The camera health checks (appliance/src/health): each one is a `camera.health` problem when it fires. */
export const HEALTH_CHECKS = ['frozen', 'covered', 'defocused', 'moved', 'dark', 'overexposed'] as const;
export type HealthCheck = (typeof HEALTH_CHECKS)[number];
/** Phases of a camera health problem, like an incident's. */
export const HEALTH_EVENT_STATES = ['opened', 'updated', 'closed'] as const;
export type HealthEventState = (typeof HEALTH_EVENT_STATES)[number];

/** Event types exported upstream. Payload shapes live in events/schemas.ts. */
export const EVENT_TYPES = [
  'count.interval',
  'zone.interval',
  'movement.interval',
  'speed.interval',
  'incident.opened',
  'incident.updated',
  'incident.closed',
  'camera.state',
  'camera.health',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** An event as produced by a pipeline stage, before it is stored and enveloped. */
export interface DomainEvent<T = unknown> {
  type: EventType;
  cameraId: CameraId;
  /** When the thing happened (ms since epoch). */
  timeMs: number;
  data: T;
}

/** CloudEvents 1.0 JSON envelope, as stored in the outbox and delivered to sinks. */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: EventType;
  subject: CameraId;
  time: string;
  datacontenttype: 'application/json';
  dataschema?: string;
  data: T;
}
