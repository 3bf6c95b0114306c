// The one schema of roadside.yaml. It validates the file and gives every stage its types.
import { Type, type Static } from '@sinclair/typebox';
import { DEFAULT_SCHEMA_BASE_URL, DETECTOR_BACKENDS, DETECTOR_HOSTS, ENHANCE_MODES, HW_ACCELS, ID_PATTERN, LANE_INTERVAL_SECONDS, OBJECT_CLASSES, ROI_MODES, ROLES, WEBHOOK_MODES, ZONE_KINDS } from '../core/types.js';
import { literalUnion } from '../core/schema-util.js';
import { Value } from '@sinclair/typebox/value';

export const Id = Type.String({ pattern: ID_PATTERN, description: 'lower-case id: a-z 0-9 _ -' });
/** Coordinates relative to the frame: 0..1 on both axes, so lines survive a resolution change. */
const RelPoint = Type.Object({ x: Type.Number({ minimum: 0, maximum: 1 }), y: Type.Number({ minimum: 0, maximum: 1 }) }, { additionalProperties: false });
const ObjectClassSchema = literalUnion(OBJECT_CLASSES);

/** A WGS84 position (DATEX II measurement site and situation locations). */
export const GeoPointSchema = Type.Object(
  {
    latitude: Type.Number({ minimum: -90, maximum: 90 }),
    longitude: Type.Number({ minimum: -180, maximum: 180 }),
    /** Heading of the `forward` direction, degrees clockwise from north (DATEX bearing). */
    bearing: Type.Optional(Type.Number({ minimum: 0, maximum: 360 })),
    /** Free text for the traffic centre (road, kilometre post...). */
    description: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);
export type GeoPoint = Static<typeof GeoPointSchema>;

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
    /** Where the line is (WGS84); default: the camera's location. */
    location: Type.Optional(GeoPointSchema),
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
    kind: literalUnion(ZONE_KINDS, { default: 'area' }),
    /** Lane direction (relative coords) for the wrong-way rule. */
    laneDirection: Type.Optional(Type.Object({ x: Type.Number(), y: Type.Number() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type ZoneConfig = Static<typeof ZoneSchema>;

/**
 * A stop line (relative coordinates): vehicles waiting at it, and the queue behind them, stop by rule,
 * not by incident.
 */
export const StopLineSchema = Type.Object(
  {
    id: Id,
    name: Type.Optional(Type.String()),
    from: RelPoint,
    to: RelPoint,
  },
  { additionalProperties: false },
);
export type StopLineConfig = Static<typeof StopLineSchema>;
const RelVector = Type.Object({ x: Type.Number(), y: Type.Number() }, { additionalProperties: false });

/**
 * A virtual loop: a short stretch of a lane, drawn in the image. A vehicle is over it while its box
 * footprint overlaps the polygon; its length along the lane is measured on the ground plane when the
 * camera is calibrated, else it is `lengthM` as the installer measured it (speed and vehicle length
 * need one of the two).
 */
export const VirtualLoopSchema = Type.Object(
  {
    polygon: Type.Array(RelPoint, { minItems: 3 }),
    /** Length of the loop along the lane (m), for an uncalibrated camera; the calibration wins when there is one. */
    lengthM: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100 })),
  },
  { additionalProperties: false },
);
export type VirtualLoopConfig = Static<typeof VirtualLoopSchema>;

/** Lane dividers drawn across a counting line: the lane is the part of the line between `from` and `to`. */
export const LaneDividerSchema = Type.Object(
  {
    lineId: Id,
    /** Position along the line (0 = its `from` point, 1 = its `to` point) where the lane starts and ends. */
    from: Type.Number({ minimum: 0, maximum: 1 }),
    to: Type.Number({ minimum: 0, maximum: 1 }),
  },
  { additionalProperties: false },
);

/**
 * One traffic lane, like a loop-detector station's lane: a polygon on the road (or the stretch of a
 * counting line between two dividers), its direction of travel and an optional virtual loop. A
 * vehicle belongs to the lane its bottom-centre (ground point) is in.
 */
export const LaneSchema = Type.Object(
  {
    id: Id,
    name: Type.Optional(Type.String()),
    /** The lane on the road, relative frame coordinates (give this or `divider`). */
    polygon: Type.Optional(Type.Array(RelPoint, { minItems: 3 })),
    divider: Type.Optional(LaneDividerSchema),
    /** Direction of travel in the image (relative coordinates); vehicles moving against it are not the lane's traffic. */
    direction: RelVector,
    /** Without a loop, a polygon lane uses its whole polygon as the loop. */
    loop: Type.Optional(VirtualLoopSchema),
  },
  { additionalProperties: false },
);
export type LaneConfig = Static<typeof LaneSchema>;

/**
 * Lane data settings. Length class thresholds (m, upper bounds; longer = articulated) default to:
 * light ≤ 6.0 (cars, vans), medium ≤ 9.0 (small rigid lorries, minibuses), heavy ≤ 13.0 (rigid
 * lorries, buses up to 12 m), articulated above (semi-trailers, road trains, articulated buses).
 */
export const LaneSettingsSchema = Type.Object(
  {
    /** Interval of the lane data (s): 20, 30 or 60. */
    intervalSeconds: Type.Union(
      LANE_INTERVAL_SECONDS.map((v) => Type.Literal(v)),
      { default: 30 },
    ),
    lengthClasses: Type.Object(
      {
        lightMaxM: Type.Number({ exclusiveMinimum: 0, default: 6 }),
        mediumMaxM: Type.Number({ exclusiveMinimum: 0, default: 9 }),
        heavyMaxM: Type.Number({ exclusiveMinimum: 0, default: 13 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);
export type LaneSettings = Static<typeof LaneSettingsSchema>;

export const IncidentRulesSchema = Type.Object(
  {
    stoppedVehicle: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        maxSpeedKmh: Type.Number({ minimum: 0, default: 5 }),
        /** Pixels/s used instead when the camera has no calibration. */
        maxSpeedPxPerSec: Type.Number({ minimum: 0, default: 4 }),
        minSeconds: Type.Number({ minimum: 1, default: 30 }),
        /** A longer wait for some classes (a bus at a stop outside a bus-stop zone, a truck unloading). */
        minSecondsByClass: Type.Partial(Type.Record(ObjectClassSchema, Type.Number({ minimum: 1 })), { default: { bus: 120 } }),
        /** A vehicle that stopped suddenly (from speed, within suddenWindowSeconds) is flagged after this instead. */
        suddenStopSeconds: Type.Number({ minimum: 1, default: 5 }),
        /** "From speed": at least this fast (km/h; without calibration, vehicle lengths per second) just before it stopped. */
        suddenFromKmh: Type.Number({ minimum: 0, default: 25 }),
        suddenFromLengthsPerSec: Type.Number({ minimum: 0, default: 0.5 }),
        suddenWindowSeconds: Type.Number({ minimum: 0.5, maximum: 10, default: 1.5 }),
        /** In a no-stopping zone: flagged after this, queue or not. */
        noStoppingSeconds: Type.Number({ minimum: 1, default: 10 }),
        /** A vehicle this close to a stop line (in vehicle lengths) waits at it. */
        stopLineReachLengths: Type.Number({ minimum: 0, maximum: 10, default: 1.5 }),
        /** Queue neighbours: stopped vehicles at most this many vehicle lengths apart, anchor to anchor. */
        queueGapLengths: Type.Number({ minimum: 0, maximum: 10, default: 2.5 }),
        /**
         * The head of a queue with no stop line drawn (it stopped gently, others stopped behind it): most
         * likely a signal; flagged only after this (a signal cycle).
         */
        queueHeadSeconds: Type.Number({ minimum: 1, default: 90 }),
        /** A vehicle that was queued stays normal this long after (the queue ahead drives off first). */
        queueMemorySeconds: Type.Number({ minimum: 0, maximum: 120, default: 10 }),
      },
      { additionalProperties: false, default: {} },
    ),
    wrongWay: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        /** Minimum distance travelled against the lane direction (m, or relative units without calibration). */
        minDistanceM: Type.Number({ minimum: 0, default: 15 }),
        minDistanceRel: Type.Number({ minimum: 0, maximum: 1, default: 0.15 }),
        /** ...and for at least this long, on the smoothed trajectory. */
        minSeconds: Type.Number({ minimum: 0, maximum: 60, default: 1.5 }),
        /** Cosine between motion and lane direction below which motion counts as against it. */
        maxCosine: Type.Number({ minimum: -1, maximum: 0, default: -0.5 }),
        /** Window of the trajectory smoothing (moving average of the anchor). */
        smoothSeconds: Type.Number({ minimum: 0, maximum: 5, default: 0.6 }),
        /** A step this far (vehicle lengths) from where the track's own motion predicts is an identity jump: the evidence starts over. */
        maxJumpLengths: Type.Number({ minimum: 0.1, maximum: 20, default: 1.2 }),
        /**
         * ...at a driving pace: mean speed against the lane of at least this (km/h with calibration, vehicle
         * lengths per second without). A track creeping backwards as its box slides from one queued vehicle
         * to the next is not a wrong-way driver; a car at 20 km/h does ~1.2 lengths/s, a cyclist ~2.
         */
        minSpeedKmh: Type.Number({ minimum: 0, default: 8 }),
        minLengthsPerSec: Type.Number({ minimum: 0, default: 0.5 }),
      },
      { additionalProperties: false, default: {} },
    ),
    collision: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        /** The vehicles must stay stopped this long after the sharp stop (a touch and drive on is no crash). */
        confirmSeconds: Type.Number({ minimum: 0, maximum: 60, default: 3 }),
        /** Two sharp stops at most this far apart in time belong to one collision. */
        pairSeconds: Type.Number({ minimum: 0, maximum: 10, default: 2 }),
        /** Boxes closer than this (vehicle lengths) when they stop are in contact. */
        contactGapLengths: Type.Number({ minimum: 0, maximum: 2, default: 0.15 }),
        /** A lone vehicle stopped sharply whose last heading is this far off the lane axis is across the lane. */
        acrossLaneDegrees: Type.Number({ minimum: 10, maximum: 90, default: 40 }),
        /** People first seen within this many vehicle lengths of a stopped vehicle after it stopped raise the severity. */
        peopleRadiusLengths: Type.Number({ minimum: 0, maximum: 20, default: 3 }),
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
        /** A queue whose head waits at a stop line is a signal queue: only one standing longer than a signal cycle is an incident. */
        atStopLineSeconds: Type.Number({ minimum: 1, default: 120 }),
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
    /**
     * A track takes part in the incident rules only once one of its detections scored at least this.
     * The counting detector runs at a low threshold to keep faint vehicles tracked (rain, night);
     * an alarm needs confident evidence (faint 'person' boxes on riders, jittery far boxes). Counting
     * lines count a track below it only once it has travelled one box height (analytics/evidence.ts).
     */
    minEvidenceScore: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
    /** An incident closes after its condition has been false this long. */
    clearSeconds: Type.Number({ minimum: 0, default: 5 }),
    /** An open incident emits incident.updated at most this often. */
    updateSeconds: Type.Number({ minimum: 1, default: 30 }),
  },
  { additionalProperties: false, default: {} },
);
export type IncidentRulesConfig = Static<typeof IncidentRulesSchema>;

const hysteresis = (openSeconds: number, closeSeconds: number) => ({
  /** The fault must persist this long before the problem opens. */
  openSeconds: Type.Number({ minimum: 0, maximum: 3600, default: openSeconds }),
  /** The picture must be healthy this long before the problem closes. */
  closeSeconds: Type.Number({ minimum: 0, maximum: 3600, default: closeSeconds }),
});

/** Camera health checks (appliance/src/health). Each compares against the camera's own reference. */
export const HealthConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    /** One small grey sample of the analysed frame this often. */
    sampleSeconds: Type.Number({ minimum: 0.2, maximum: 60, default: 1 }),
    /** Healthy seconds the reference is learned over (at start, after a confirm or a new line/calibration). */
    learnSeconds: Type.Number({ minimum: 1, maximum: 3600, default: 10 }),
    /** An open problem emits camera.health 'updated' at most this often. */
    updateSeconds: Type.Number({ minimum: 1, default: 60 }),
    frozen: Type.Object(
      {
        ...hysteresis(5, 2),
        /** Successive samples count as the same picture when at most this share of pixels changed by > 3 levels... */
        maxChangedFraction: Type.Number({ minimum: 0, maximum: 1, default: 0.0005 }),
        /** ...and the mean absolute difference is at most this (grey levels). */
        maxMeanAbsDiff: Type.Number({ minimum: 0, maximum: 255, default: 0.25 }),
      },
      { additionalProperties: false, default: {} },
    ),
    covered: Type.Object(
      {
        ...hysteresis(5, 5),
        /** Share of the blocks that had texture in the reference and are now blank. */
        minFraction: Type.Number({ minimum: 0.05, maximum: 1, default: 0.5 }),
      },
      { additionalProperties: false, default: {} },
    ),
    defocused: Type.Object(
      {
        ...hysteresis(10, 5),
        /** Sharpness (variance of the Laplacian) below this share of the reference's. */
        maxSharpnessRatio: Type.Number({ minimum: 0.01, maximum: 1, default: 0.35 }),
      },
      { additionalProperties: false, default: {} },
    ),
    moved: Type.Object(
      {
        ...hysteresis(10, 5),
        /** Shift of the static scene, as a share of the frame width, that counts as moved. */
        minShift: Type.Number({ minimum: 0.002, maximum: 0.2, default: 0.02 }),
        /** Scene no longer recognised: edge correlation below this share of the reference's own. */
        minCorrelationRatio: Type.Number({ minimum: 0, maximum: 1, default: 0.4 }),
      },
      { additionalProperties: false, default: {} },
    ),
    dark: Type.Object(
      {
        ...hysteresis(10, 5),
        /** Mean grey level (0-255) below which the picture is too dark... */
        maxMeanLuma: Type.Number({ minimum: 0, maximum: 255, default: 20 }),
        /** ...unless at least this share of pixels is lit (headlights, street lights). */
        minLitFraction: Type.Number({ minimum: 0, maximum: 1, default: 0.02 }),
      },
      { additionalProperties: false, default: {} },
    ),
    overexposed: Type.Object(
      {
        ...hysteresis(10, 5),
        /** Share of saturated pixels (> 245) above which the picture is washed out. */
        minSaturatedFraction: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);
export type HealthConfig = Static<typeof HealthConfigSchema>;

/**
 * The part of the picture the detector looks at, resized to the model's input (same CPU per frame,
 * more input pixels per vehicle there): 'full' the whole frame; 'auto' the lines, zones, stop lines
 * and lane polygons with a margin of 10 % of the frame; or a rectangle (relative). Grown to the
 * model's aspect where the frame allows. Vehicles outside it are not seen at all.
 */
const RoiSchema = Type.Union(
  [
    literalUnion(ROI_MODES),
    Type.Object(
      { x: Type.Number({ minimum: 0, maximum: 1 }), y: Type.Number({ minimum: 0, maximum: 1 }), w: Type.Number({ exclusiveMinimum: 0, maximum: 1 }), h: Type.Number({ exclusiveMinimum: 0, maximum: 1 }) },
      { additionalProperties: false },
    ),
  ],
  { default: 'full' },
);

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
    /** Where the camera looks (WGS84): DATEX II site and situation locations. */
    location: Type.Optional(GeoPointSchema),
    lines: Type.Array(CountingLineSchema, { default: [] }),
    zones: Type.Array(ZoneSchema, { default: [] }),
    /** Stop lines of signalled or priority junctions: queues waiting at them are not incidents. */
    stopLines: Type.Optional(Type.Array(StopLineSchema, { maxItems: 64 })),
    /** Traffic lanes (lane data like loop detectors); optional so a camera without lanes reads as before. */
    lanes: Type.Optional(Type.Array(LaneSchema, { default: [] })),
    /** Interval and length classes of this camera's lane data. */
    laneData: Type.Optional(LaneSettingsSchema),
    incidents: IncidentRulesSchema,
    health: Type.Optional(HealthConfigSchema),
    /** This camera's detection settings (the model itself is the top-level `detector`'s). */
    detector: Type.Optional(Type.Object({ roi: RoiSchema }, { additionalProperties: false, default: {} })),
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
    /** CloudEvents HTTP mode: batch (one JSON array per request) or structured (one event per request). */
    mode: literalUnion(WEBHOOK_MODES, { default: 'batch' }),
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
/** A NATS subject prefix: one or more tokens of letters, digits, _ and -, separated by dots. */
const SubjectPrefix = Type.String({ pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$', default: 'roadside', description: 'NATS subject prefix (dot-separated tokens)' });
export const NatsSinkSchema = Type.Object(
  {
    id: Id,
    /** Seed servers of the cluster (the client learns the rest); credentials in a URL are refused. */
    servers: Type.Array(Type.String({ pattern: '^(nats|tls)://' }), { minItems: 1 }),
    allowInternalTargets: AllowInternalTargets,
    /** JetStream stream capturing <subjectPrefix>.>; created by operators, checked on every publish. */
    stream: Type.String({ pattern: '^[A-Za-z0-9_-]{1,255}$' }),
    subjectPrefix: SubjectPrefix,
    user: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Type.String()),
    token: Type.Optional(Type.String({ minLength: 1 })),
    /** Path of a .creds file (JWT + nkey seed). */
    credsFile: Type.Optional(Type.String({ minLength: 1 })),
    tls: Type.Optional(
      Type.Object(
        { caFile: Type.Optional(Type.String()), certFile: Type.Optional(Type.String()), keyFile: Type.Optional(Type.String()) },
        { additionalProperties: false },
      ),
    ),
    ackTimeoutMs: Type.Integer({ minimum: 100, default: 5000 }),
    batchSize: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);
export type NatsSinkConfig = Static<typeof NatsSinkSchema>;

export const TokenSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    /** sha256 hex of the token; plain tokens never sit in the config. */
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    role: literalUnion(ROLES),
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

/** How every camera's stream is decoded (ffmpeg): cheap on the CPU by default, on the GPU where there is one. */
export const IngestSchema = Type.Object(
  {
    /** 'cuda': ffmpeg -hwaccel cuda (NVIDIA GPU and an ffmpeg built with it); 'none': CPU decode. */
    hwaccel: literalUnion(HW_ACCELS, { default: 'none' }),
    /** Decoder threads per camera: 1 leaves the cores to detection and keeps ffmpeg's memory small. */
    decodeThreads: Type.Integer({ minimum: 1, maximum: 16, default: 1 }),
    /** Analysis lag (capture → analysed) above which a camera counts as behind real time (status, metric, alert). */
    maxLagSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 60, default: 1 }),
  },
  { additionalProperties: false, default: {} },
);
export type IngestConfig = Static<typeof IngestSchema>;
export const IngestDefaults: IngestConfig = Value.Default(IngestSchema, {}) as IngestConfig;

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
    ingest: IngestSchema,
    detector: Type.Object(
      {
        /** onnx-cpu here; onnx-cuda on GPU boxes with the CUDA build of onnxruntime. */
        backend: literalUnion(DETECTOR_BACKENDS, { default: 'onnx-cpu' }),
        /** Chosen by the hand-counted dev set (bench/counts.ts): Open Model Zoo's road-camera model. */
        model: Type.String({ default: 'person_vehicle_bike_2003' }),
        scoreThreshold: Type.Number({ minimum: 0, maximum: 1, default: 0.15 }),
        nmsIou: Type.Number({ minimum: 0, maximum: 1, default: 0.45 }),
        /** Intra-op threads per session. With `workers`, workers × threads ≈ the cores (a small model gains more from frames side by side). */
        threads: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
        /** 'worker': inference in a worker thread at a lower priority than decoding, so the event loop keeps reading every camera. */
        host: literalUnion(DETECTOR_HOSTS, { default: 'worker' }),
        /** Worker host: sessions side by side (frames of different cameras at once), each with `threads` threads.
         *  On 2 cores 2 × 1 thread did 53–55 frames/s at 33 ms CPU each, 1 × 2 threads 32–36 frames/s at 41–44 ms (YOLOX-Nano 416). */
        workers: Type.Integer({ minimum: 1, maximum: 16, default: 2 }),
        /** Boxes larger than this share of the frame are dropped (small detectors' whole-frame false boxes). */
        maxBoxArea: Type.Number({ minimum: 0.01, maximum: 1, default: 0.6 }),
        /** NMS across vehicle classes: a car box and a truck box on one vehicle count once. */
        crossClassNms: Type.Boolean({ default: true }),
        /**
         * A COCO model run on the same frame to name the model's vehicles truck/bus/bicycle/motorcycle
         * (for models that only know 'vehicle' and 'bike'); null: none (the tracker names lorries by size).
         */
        classModel: Type.Union([Type.String(), Type.Null()], { default: null }),
        classScoreThreshold: Type.Number({ minimum: 0, maximum: 1, default: 0.45 }),
        /**
         * Low-light step before the model (detect/enhance.ts), decided per frame from luma statistics:
         * 'auto' brightens dark frames (gamma 0.5 where the median luma is < 40) and stretches hazy ones
         * (2nd–98th percentile to full range where p2 > 64 and the median > 130); every other frame
         * reaches the model untouched. 'off': never. Chosen by the hand-counted dev set (README "Dark
         * and hazy frames", `npx tsx bench/run.ts enhance` and `counts`).
         */
        enhance: literalUnion(ENHANCE_MODES, { default: 'auto' }),
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
      {
        binSeconds: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, default: [60, 900] }),
        /** IANA zone the bins align to (e.g. Asia/Kolkata for hour bins on the local hour). */
        timeZone: Type.String({ default: 'UTC', minLength: 1, maxLength: 64 }),
      },
      { additionalProperties: false, default: {} },
    ),
    events: Type.Object(
      {
        /** Base of the absolute CloudEvents `dataschema` URIs; set it to the appliance's public URL + /api/v1/schemas/events/. */
        schemaBaseUrl: Type.String({ pattern: '^https?://[^\\s]+$', default: DEFAULT_SCHEMA_BASE_URL }),
      },
      { additionalProperties: false, default: {} },
    ),
    datex: Type.Object(
      {
        /** ISO 3166-1 alpha-2 country of the publication creator (XX = not set). */
        country: Type.String({ pattern: '^[A-Z]{2}$', default: 'XX' }),
        /** National identifier of the publication creator; default: the appliance id. */
        nationalIdentifier: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
        /** Language of the free-text fields. */
        lang: Type.String({ pattern: '^[a-z]{2}$', default: 'en' }),
      },
      { additionalProperties: false, default: {} },
    ),
    sinks: Type.Object(
      {
        webhooks: Type.Array(WebhookSinkSchema, { default: [] }),
        mqtt: Type.Array(MqttSinkSchema, { default: [] }),
        nats: Type.Array(NatsSinkSchema, { default: [] }),
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
