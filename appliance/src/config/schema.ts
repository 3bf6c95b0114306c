// The one schema of roadside.yaml. It validates the file and gives every stage its types.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { OBJECT_CLASSES } from '../core/types.js';

const Id = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', description: 'lower-case id: a-z 0-9 _ -' });
/** Coordinates relative to the frame: 0..1 on both axes, so lines survive a resolution change. */
const RelPoint = Type.Object({ x: Type.Number({ minimum: 0, maximum: 1 }), y: Type.Number({ minimum: 0, maximum: 1 }) }, { additionalProperties: false });
const ObjectClassSchema = Type.Union(OBJECT_CLASSES.map((c) => Type.Literal(c)));

export const CountingLineSchema = Type.Object(
  {
    id: Id,
    name: Type.Optional(Type.String()),
    from: RelPoint,
    to: RelPoint,
    /** Direction counted as 'forward', relative coordinates. Default: the left normal of from→to. */
    direction: Type.Optional(Type.Object({ x: Type.Number(), y: Type.Number() }, { additionalProperties: false })),
    /** Minimum travel (relative units, perpendicular to the line) on each side before a crossing counts. */
    minTravel: Type.Number({ minimum: 0, maximum: 0.5, default: 0.02 }),
    classes: Type.Optional(Type.Array(ObjectClassSchema, { minItems: 1 })),
  },
  { additionalProperties: false },
);
export type CountingLineConfig = Static<typeof CountingLineSchema>;

export const ZoneSchema = Type.Object(
  {
    id: Id,
    name: Type.Optional(Type.String()),
    polygon: Type.Array(RelPoint, { minItems: 3 }),
    /** A carriageway zone is where stopped-vehicle, queue and pedestrian rules look. */
    kind: Type.Union([Type.Literal('carriageway'), Type.Literal('sidewalk'), Type.Literal('area')], { default: 'area' }),
    /** Lane direction (relative coords) for the wrong-way rule. */
    laneDirection: Type.Optional(Type.Object({ x: Type.Number(), y: Type.Number() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type ZoneConfig = Static<typeof ZoneSchema>;

export const IncidentRulesSchema = Type.Object(
  {
    stoppedVehicle: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        maxSpeedKmh: Type.Number({ minimum: 0, default: 5 }),
        /** Pixels/s used instead when the camera has no calibration. */
        maxSpeedPxPerSec: Type.Number({ minimum: 0, default: 4 }),
        minSeconds: Type.Number({ minimum: 1, default: 30 }),
      },
      { additionalProperties: false, default: {} },
    ),
    wrongWay: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        /** Minimum distance travelled against the lane direction (m, or relative units without calibration). */
        minDistanceM: Type.Number({ minimum: 0, default: 15 }),
        minDistanceRel: Type.Number({ minimum: 0, maximum: 1, default: 0.15 }),
        /** Cosine between motion and lane direction below which motion counts as against it. */
        maxCosine: Type.Number({ minimum: -1, maximum: 0, default: -0.5 }),
      },
      { additionalProperties: false, default: {} },
    ),
    queue: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        minOccupancy: Type.Integer({ minimum: 1, default: 5 }),
        maxMeanSpeedKmh: Type.Number({ minimum: 0, default: 10 }),
        maxMeanSpeedPxPerSec: Type.Number({ minimum: 0, default: 10 }),
        minSeconds: Type.Number({ minimum: 1, default: 20 }),
      },
      { additionalProperties: false, default: {} },
    ),
    pedestrian: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        minSeconds: Type.Number({ minimum: 0, default: 2 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** An incident closes after its condition has been false this long. */
    clearSeconds: Type.Number({ minimum: 0, default: 5 }),
    /** An open incident emits incident.updated at most this often. */
    updateSeconds: Type.Number({ minimum: 1, default: 30 }),
  },
  { additionalProperties: false, default: {} },
);
export type IncidentRulesConfig = Static<typeof IncidentRulesSchema>;

export const CameraSchema = Type.Object(
  {
    id: Id,
    name: Type.Optional(Type.String()),
    url: Type.String({ pattern: '^rtsps?://', description: 'rtsp:// or rtsps:// URL' }),
    enabled: Type.Boolean({ default: true }),
    /** Analysed frames per second (ffmpeg fps filter). */
    fps: Type.Number({ exclusiveMinimum: 0, maximum: 30, default: 5 }),
    width: Type.Integer({ minimum: 64, maximum: 3840, default: 640 }),
    height: Type.Integer({ minimum: 64, maximum: 2160, default: 360 }),
    /** Frames stop for this long → the camera is stalled and ffmpeg is restarted. */
    stallSeconds: Type.Number({ minimum: 1, maximum: 600, default: 10 }),
    /** Path (relative to the config file) of this camera's calibration JSON written by calibration/cli. */
    calibration: Type.Optional(Type.String({ pattern: '\\.calibration\\.json$', description: 'a *.calibration.json file' })),
    lines: Type.Array(CountingLineSchema, { default: [] }),
    zones: Type.Array(ZoneSchema, { default: [] }),
    incidents: IncidentRulesSchema,
  },
  { additionalProperties: false },
);
export type CameraConfig = Static<typeof CameraSchema>;

/** Every sink has it: link-local and cloud-metadata targets are refused unless this is true. */
const AllowInternalTargets = Type.Boolean({
  default: false,
  description: 'allow a link-local or cloud-metadata address (169.254.0.0/16, fe80::/10, metadata.google.internal...) as the target',
});

export const WebhookSinkSchema = Type.Object(
  {
    id: Id,
    url: Type.String({ pattern: '^https?://' }),
    /** HMAC-SHA256 key for the X-Roadside-Signature header. */
    secret: Type.Optional(Type.String({ minLength: 16 })),
    timeoutMs: Type.Integer({ minimum: 100, default: 5000 }),
    batchSize: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
    allowInternalTargets: AllowInternalTargets,
  },
  { additionalProperties: false },
);
export const MqttSinkSchema = Type.Object(
  {
    id: Id,
    url: Type.String({ pattern: '^(mqtts?|wss?|tcp)://' }),
    topicPrefix: Type.String({ default: 'roadside' }),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    clientId: Type.Optional(Type.String()),
    allowInternalTargets: AllowInternalTargets,
  },
  { additionalProperties: false },
);

export const TokenSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    /** sha256 hex of the token; plain tokens never sit in the config. */
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    role: Type.Union([Type.Literal('admin'), Type.Literal('installer'), Type.Literal('viewer'), Type.Literal('metrics')]),
  },
  { additionalProperties: false },
);

/** Bounds that keep one config from eating the box (10,000 zones took a camera from 5 fps to 0.5). */
export const LimitsSchema = Type.Object(
  {
    maxCameras: Type.Integer({ minimum: 1, maximum: 1024, default: 32 }),
    maxLinesPerCamera: Type.Integer({ minimum: 0, maximum: 4096, default: 64 }),
    maxZonesPerCamera: Type.Integer({ minimum: 0, maximum: 4096, default: 64 }),
    maxPointsPerPolygon: Type.Integer({ minimum: 3, maximum: 4096, default: 64 }),
    /** Cameras connecting at once; the others wait without an ffmpeg process (a dead camera holds one per attempt). */
    maxConnectingCameras: Type.Integer({ minimum: 1, maximum: 1024, default: 8 }),
  },
  { additionalProperties: false, default: {} },
);
export type LimitsConfig = Static<typeof LimitsSchema>;
export const LimitsDefaults: LimitsConfig = Value.Default(LimitsSchema, {}) as LimitsConfig;

export const ConfigSchema = Type.Object(
  {
    appliance: Type.Object({ id: Id, site: Type.Optional(Type.String()) }, { additionalProperties: false, default: { id: 'roadside' } }),
    server: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
        tls: Type.Optional(Type.Object({ cert: Type.String(), key: Type.String() }, { additionalProperties: false })),
      },
      { additionalProperties: false, default: {} },
    ),
    models: Type.Object(
      {
        /** Folder holding the weight files; env MODELS_DIR wins. */
        dir: Type.String({ default: '../shared/models' }),
        /** Manifest with file names, sha256, licence, input spec. */
        manifest: Type.String({ default: 'models/manifest.json' }),
      },
      { additionalProperties: false, default: {} },
    ),
    detector: Type.Object(
      {
        /** onnx-cpu here; onnx-cuda on GPU boxes with the CUDA build of onnxruntime. */
        backend: Type.Union([Type.Literal('onnx-cpu'), Type.Literal('onnx-cuda')], { default: 'onnx-cpu' }),
        model: Type.String({ default: 'yolox_nano' }),
        scoreThreshold: Type.Number({ minimum: 0, maximum: 1, default: 0.3 }),
        nmsIou: Type.Number({ minimum: 0, maximum: 1, default: 0.45 }),
        threads: Type.Integer({ minimum: 1, maximum: 64, default: 2 }),
      },
      { additionalProperties: false, default: {} },
    ),
    privacy: Type.Object(
      {
        faceModel: Type.String({ default: 'yunet_n' }),
        faceScoreThreshold: Type.Number({ minimum: 0, maximum: 1, default: 0.3 }),
        /** Plate text detector; null disables it (the geometric fallback always runs). */
        plateModel: Type.Union([Type.String(), Type.Null()], { default: 'ppocr_v4_det' }),
        timeoutMs: Type.Integer({ minimum: 100, default: 5000 }),
        jpegQuality: Type.Integer({ minimum: 30, maximum: 95, default: 80 }),
      },
      { additionalProperties: false, default: {} },
    ),
    storage: Type.Object(
      {
        dataDir: Type.String({ default: 'var/data' }),
        retentionDays: Type.Number({ minimum: 0.001, default: 30 }),
        maxEvents: Type.Integer({ minimum: 100, default: 5_000_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    analytics: Type.Object(
      { binSeconds: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, default: [60, 900] }) },
      { additionalProperties: false, default: {} },
    ),
    sinks: Type.Object(
      {
        webhooks: Type.Array(WebhookSinkSchema, { default: [] }),
        mqtt: Type.Array(MqttSinkSchema, { default: [] }),
      },
      { additionalProperties: false, default: {} },
    ),
    auth: Type.Object(
      {
        /** Off only for local demos: every route but /healthz and /readyz then is open. */
        enabled: Type.Boolean({ default: true }),
        tokens: Type.Array(TokenSchema, { default: [] }),
        /** Failed authentications per address and window before the address gets 429. */
        maxFailures: Type.Integer({ minimum: 1, default: 10 }),
        failureWindowSeconds: Type.Integer({ minimum: 1, default: 60 }),
      },
      { additionalProperties: false, default: {} },
    ),
    limits: LimitsSchema,
    cameras: Type.Array(CameraSchema, { default: [] }),
  },
  { additionalProperties: false },
);
export type Config = Static<typeof ConfigSchema>;
