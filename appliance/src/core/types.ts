// The plain data at the centre of the pipeline. Every stage speaks these types and nothing else;
// they are defined here once. No classes, no methods: they cross worker, disk and wire boundaries.

export type CameraId = string;

/** Classes the appliance cares about (a subset of COCO). */
export const OBJECT_CLASSES = ['person', 'bicycle', 'car', 'motorcycle', 'bus', 'truck'] as const;
export type ObjectClass = (typeof OBJECT_CLASSES)[number];
export const VEHICLE_CLASSES: readonly ObjectClass[] = ['bicycle', 'car', 'motorcycle', 'bus', 'truck'];
export const TWO_WHEELER_CLASSES: readonly ObjectClass[] = ['bicycle', 'motorcycle'];
export const HEAVY_VEHICLE_CLASSES: readonly ObjectClass[] = ['bus', 'truck'];

/**
 * What a drawn zone is: carriageway (running lanes: incident rules look here), sidewalk, area (counts
 * only), parking and bus-stop (stopping there is normal: the stopped-vehicle rule stays quiet),
 * no-stopping (stopping there is never normal: flagged sooner, even in a queue).
 */
export const ZONE_KINDS = ['carriageway', 'sidewalk', 'area', 'parking', 'bus-stop', 'no-stopping'] as const;
export type ZoneKind = (typeof ZONE_KINDS)[number];

/** Lane interval lengths (s) a traffic centre expects from loop detectors (PeMS 30 s, NTCIP 20-60 s). */
export const LANE_INTERVAL_SECONDS = [20, 30, 60] as const;
export type LaneIntervalSeconds = (typeof LANE_INTERVAL_SECONDS)[number];

/**
 * Vehicle length classes of the lane data, shortest first (thresholds in config `analytics.lanes.lengthClasses`):
 * light (cars, vans), medium (small rigid lorries, minibuses), heavy (rigid lorries, buses), articulated.
 */
export const LENGTH_CLASSES = ['light', 'medium', 'heavy', 'articulated'] as const;
export type LengthClass = (typeof LENGTH_CLASSES)[number];

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
  /** The part (pixels) the detector looks at, its boxes mapped back to the whole image; absent: all of it. */
  roi?: Box;
}

/** One decoded frame of one camera. */
export interface Frame extends RgbImage {
  cameraId: CameraId;
  /** Monotonic per camera ingest session, starting at 0. */
  seq: number;
  /** When the frame was captured, ms since epoch (live: on ffmpeg's fps grid, ingest/capture-clock.ts; replay: clip time). */
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

export const CAMERA_STATES = ['connecting', 'streaming', 'stalled', 'backoff', 'stopped'] as const;
export type CameraState = (typeof CAMERA_STATES)[number];

export const INCIDENT_KINDS = ['stopped-vehicle', 'wrong-way', 'queue', 'pedestrian-on-carriageway', 'collision'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

/** How urgent an open incident is (DATEX severity): the rule's own level, raised when people appear around stopped vehicles. */
export const INCIDENT_SEVERITIES = ['low', 'medium', 'high', 'highest'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];

/** What made a collision: tracks that touched and stopped sharply, or one vehicle that stopped sharply across the lane. */
export const COLLISION_CUES = ['contact', 'across-lane'] as const;
export type CollisionCue = (typeof COLLISION_CUES)[number];

/** API roles: admin (everything), installer (read + change config), viewer (read), metrics (scrape only). */
export const ROLES = ['admin', 'installer', 'viewer', 'metrics'] as const;
export type Role = (typeof ROLES)[number];

/** onnx-cpu: onnxruntime-node's bundled CPU library; onnx-cuda: its CUDA execution provider (GPU boxes). */
export const DETECTOR_BACKENDS = ['onnx-cpu', 'onnx-cuda'] as const;
export type DetectorBackend = (typeof DETECTOR_BACKENDS)[number];

/** Where inference runs: a worker thread (the event loop stays free for the cameras' pipes) or inline. */
export const DETECTOR_HOSTS = ['worker', 'inline'] as const;
export type DetectorHost = (typeof DETECTOR_HOSTS)[number];

/** What a camera's detector looks at: the whole frame, or the region around its lines, zones and lanes (detect/roi.ts). */
export const ROI_MODES = ['full', 'auto'] as const;
export type RoiMode = (typeof ROI_MODES)[number];

/** Low-light step before the detector (detect/enhance.ts): never, or on frames that are dark by their luma statistics. */
export const ENHANCE_MODES = ['off', 'auto'] as const;
export type EnhanceMode = (typeof ENHANCE_MODES)[number];

/** Video decode: on the CPU, or on an NVIDIA GPU (ffmpeg -hwaccel cuda). */
export const HW_ACCELS = ['none', 'cuda'] as const;
export type HwAccel = (typeof HW_ACCELS)[number];

/** Where the decoder binary came from: ROADSIDE_FFMPEG, the lean build of `make deps`, or PATH. */
export const FFMPEG_SOURCES = ['env', 'lean', 'path'] as const;
export type FfmpegSource = (typeof FFMPEG_SOURCES)[number];

/** Ids of cameras, lines, zones, rules: lower-case a-z 0-9 _ -, up to 63 characters. */
export const ID_PATTERN = '^[a-z0-9][a-z0-9_-]{0,62}$';

/** Why an incident closed: its condition cleared, or nobody can watch it any more. */
export const INCIDENT_CLOSE_REASONS = ['cleared', 'stream-lost', 'stopped'] as const;
export type IncidentCloseReason = (typeof INCIDENT_CLOSE_REASONS)[number];

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

/** Why an image was withheld (metric label `reason` of roadside_anonymization_failures_total). */
export const ANONYMIZATION_REASONS = ['model-missing', 'model-error', 'timeout', 'invalid-image'] as const;
export type AnonymizationReason = (typeof ANONYMIZATION_REASONS)[number];

/** Event types exported upstream. Payload shapes live in events/schemas.ts. */
export const EVENT_TYPES = [
  'count.interval',
  'zone.interval',
  'movement.interval',
  'speed.interval',
  'lane.interval',
  'incident.opened',
  'incident.updated',
  'incident.closed',
  'camera.state',
  'config.applied',
  'camera.health',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * The subject (and `cameraId`) of events about the appliance itself rather than one camera
 * (config.applied). Camera ids start with a-z or 0-9, so it never names a camera.
 */
export const APPLIANCE_SUBJECT = '_appliance';

/** An event as produced by a pipeline stage, before it is stored and enveloped. */
export interface DomainEvent<T = unknown> {
  type: EventType;
  cameraId: CameraId;
  /** When the thing happened (ms since epoch). */
  timeMs: number;
  data: T;
}

/**
 * CloudEvents `type` on the wire: the internal type behind a reverse-DNS prefix (the spec's SHOULD),
 * e.g. `org.roadside.count.interval`. Internal code speaks EventType; eventTypeOf() maps back.
 */
export const CLOUDEVENT_TYPE_PREFIX = 'org.roadside.';
export type CloudEventType = `org.roadside.${EventType}`;

/**
 * Default base of the absolute CloudEvents `dataschema` URIs (config `events.schemaBaseUrl`). The path
 * is the appliance's own schema route, so the appliance's public URL in its place makes them resolve;
 * the default host is a reserved name (RFC 2606) that never resolves to someone else's server.
 */
export const DEFAULT_SCHEMA_BASE_URL = 'https://roadside.invalid/api/v1/schemas/events/';

export function cloudEventType(t: EventType): CloudEventType {
  return `${CLOUDEVENT_TYPE_PREFIX}${t}` as CloudEventType;
}

/** The internal type of an envelope; also accepts envelopes stored before the prefix existed. */
export function eventTypeOf(e: { type: string }): EventType {
  const t = e.type.startsWith(CLOUDEVENT_TYPE_PREFIX) ? e.type.slice(CLOUDEVENT_TYPE_PREFIX.length) : e.type;
  return t as EventType;
}

/** CloudEvents HTTP content modes of the webhook sink. */
export const WEBHOOK_MODES = ['batch', 'structured'] as const;
export type WebhookMode = (typeof WEBHOOK_MODES)[number];

/** CloudEvents 1.0 JSON envelope, as stored in the outbox and delivered to sinks. */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: CloudEventType;
  subject: CameraId;
  time: string;
  datacontenttype: 'application/json';
  dataschema?: string;
  data: T;
}
