// Every Prometheus metric of the appliance, defined once. Labels are ids only (camera, sink, stage):
// never pixels, plate text or anything a person could be recognised by.
// - Node's process metrics keep their standard names (process_cpu_seconds_total, ...), so stock
//   dashboards and alerts find them; the three prom-client gauges named *_total (promtool: a gauge
//   must not end in _total) are exported without the suffix instead.
// - Every labelled counter starts at 0 for each label value known up front (event types, reasons) or
//   as soon as it is known (cameras: initCamera; sinks: initSink), so increase() sees the first event.
// - Base units: seconds, bytes, and frames per second for rates.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { laneMetrics } from './lanes.js';
import { ANONYMIZATION_REASONS, EVENT_TYPES } from '../core/types.js';

/** Outbox drop reasons (retention by age or count, unreadable records). */
export const OUTBOX_DROP_REASONS = ['age', 'count', 'corrupt'] as const;

/** Node.js internals behind prom-client's nodejs_active_*_total gauges (not in @types/node). */
interface NodeInternals {
  _getActiveHandles?: () => unknown[];
  _getActiveRequests?: () => unknown[];
  getActiveResourcesInfo?: () => string[];
}

function nodeActiveGauges(registry: Registry): void {
  const proc = process as unknown as NodeInternals;
  const gauges: [string, string, () => number | undefined][] = [
    ['nodejs_active_handles', 'Number of active libuv handles', () => proc._getActiveHandles?.().length],
    ['nodejs_active_requests', 'Number of active libuv requests', () => proc._getActiveRequests?.().length],
    ['nodejs_active_resources', 'Number of active resources keeping the event loop alive', () => proc.getActiveResourcesInfo?.().length],
  ];
  for (const [name, help, read] of gauges) {
    registry.removeSingleMetric(`${name}_total`);
    // prom-client also exports some of them without the suffix (per resource type): keep those.
    if (registry.getSingleMetric(name)) continue;
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const v = read();
        if (v !== undefined) this.set(v);
      },
    });
  }
}

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  nodeActiveGauges(registry);
  const cam = ['camera'] as const;
  const m = {
    registry,
    framesDecoded: new Counter({ name: 'roadside_frames_decoded_total', help: 'Frames read from ffmpeg', labelNames: cam, registers: [registry] }),
    framesAnalysed: new Counter({ name: 'roadside_frames_analysed_total', help: 'Frames that went through detection', labelNames: cam, registers: [registry] }),
    framesDropped: new Counter({
      name: 'roadside_frames_dropped_total',
      help: 'Frames skipped because the detector was still busy with an earlier one',
      labelNames: cam,
      registers: [registry],
    }),
    inferenceSeconds: new Histogram({
      name: 'roadside_inference_seconds',
      help: 'Detector latency per frame',
      labelNames: cam,
      buckets: [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1, 2],
      registers: [registry],
    }),
    cameraUp: new Gauge({ name: 'roadside_camera_up', help: '1 while the camera is streaming', labelNames: cam, registers: [registry] }),
    cameraState: new Gauge({
      name: 'roadside_camera_state',
      help: '1 for the state the camera is in (connecting, streaming, stalled, backoff, stopped)',
      labelNames: ['camera', 'state'] as const,
      registers: [registry],
    }),
    cameraRestarts: new Counter({ name: 'roadside_camera_restarts_total', help: 'ffmpeg restarts after a lost or stalled stream', labelNames: cam, registers: [registry] }),
    cameraFps: new Gauge({ name: 'roadside_camera_frames_per_second', help: 'Analysed frames per second over the last 10 s', labelNames: cam, registers: [registry] }),
    cameraLag: new Gauge({
      name: 'roadside_camera_lag_seconds',
      help: 'Capture to analysis of the last analysed frame (how far the analysis runs behind the camera)',
      labelNames: cam,
      registers: [registry],
    }),
    cameraLagSeconds: new Histogram({
      name: 'roadside_camera_analysis_lag_seconds',
      help: 'Capture to analysis per analysed frame',
      labelNames: cam,
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
    cameraOverloaded: new Gauge({
      name: 'roadside_camera_overloaded',
      help: '1 while the box cannot hold the camera configured fps (over 10 % of its frames dropped, or lag over the bound)',
      labelNames: cam,
      registers: [registry],
    }),
    tracksActive: new Gauge({ name: 'roadside_tracks_active', help: 'Confirmed tracks in the last frame', labelNames: cam, registers: [registry] }),
    cameraHealthProblem: new Gauge({
      name: 'roadside_camera_health_problem',
      help: '1 while the camera health check has an open problem (frozen, covered, defocused, moved, dark, overexposed)',
      labelNames: ['camera', 'check'] as const,
      registers: [registry],
    }),
    incidentsOpen: new Gauge({ name: 'roadside_incidents_open', help: 'Open incidents', labelNames: ['camera', 'kind'] as const, registers: [registry] }),
    eventsProduced: new Counter({ name: 'roadside_events_produced_total', help: 'Events stored in the outbox', labelNames: ['type'] as const, registers: [registry] }),
    outboxBacklog: new Gauge({ name: 'roadside_outbox_backlog', help: 'Events stored but not yet delivered to the sink', labelNames: ['sink'] as const, registers: [registry] }),
    outboxStoredEvents: new Gauge({ name: 'roadside_outbox_stored_events', help: 'Events held in the outbox', registers: [registry] }),
    outboxDropped: new Counter({
      name: 'roadside_outbox_dropped_total',
      help: 'Events removed by retention before every sink had them',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    outboxWriteErrors: new Counter({ name: 'roadside_outbox_write_errors_total', help: 'Failed outbox writes (disk full, I/O error)', registers: [registry] }),
    sinkDelivered: new Counter({ name: 'roadside_sink_delivered_total', help: 'Events acknowledged by the sink', labelNames: ['sink'] as const, registers: [registry] }),
    sinkFailures: new Counter({ name: 'roadside_sink_failures_total', help: 'Failed delivery attempts', labelNames: ['sink'] as const, registers: [registry] }),
    sinkUp: new Gauge({ name: 'roadside_sink_up', help: '1 when the last delivery attempt succeeded', labelNames: ['sink'] as const, registers: [registry] }),
    anonymizedImages: new Counter({ name: 'roadside_anonymized_images_total', help: 'Images blurred and released', registers: [registry] }),
    anonymizationWithheld: new Counter({
      name: 'roadside_anonymization_withheld_total',
      help: 'Images withheld because blurring failed (fail closed)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    anonymizationRunning: new Gauge({ name: 'roadside_anonymization_running', help: 'Anonymizations running now in the anonymizer worker (0 or 1)', registers: [registry] }),
    snapshotMaskedShare: new Histogram({
      name: 'roadside_snapshot_masked_share',
      help: 'Share of each released image that was pixelated (0..1)',
      buckets: [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1],
      registers: [registry],
    }),
    authFailures: new Counter({ name: 'roadside_auth_failures_total', help: 'Requests refused for a missing or wrong token', registers: [registry] }),
    dataDiskFreeBytes: new Gauge({ name: 'roadside_data_disk_free_bytes', help: 'Free bytes on the data volume', registers: [registry] }),
    dataDiskSizeBytes: new Gauge({ name: 'roadside_data_disk_size_bytes', help: 'Size of the data volume', registers: [registry] }),
    ...laneMetrics(registry),
  };
  for (const type of EVENT_TYPES) m.eventsProduced.inc({ type }, 0);
  for (const reason of OUTBOX_DROP_REASONS) m.outboxDropped.inc({ reason }, 0);
  for (const reason of ANONYMIZATION_REASONS) m.anonymizationWithheld.inc({ reason }, 0);
  m.outboxWriteErrors.inc(0);
  m.authFailures.inc(0);
  m.anonymizedImages.inc(0);
  return m;
}
export type Metrics = ReturnType<typeof createMetrics>;

/** A camera's series from the moment it is added: counters at 0, so increase() counts the first frame. */
export function initCamera(m: Metrics, camera: string): void {
  for (const c of [m.framesDecoded, m.framesAnalysed, m.framesDropped, m.cameraRestarts]) c.inc({ camera }, 0);
  m.inferenceSeconds.zero({ camera });
  m.cameraLagSeconds.zero({ camera });
  m.cameraOverloaded.set({ camera }, 0);
}

/** A sink's series from the moment it is configured. */
export function initSink(m: Metrics, sink: string): void {
  m.sinkDelivered.inc({ sink }, 0);
  m.sinkFailures.inc({ sink }, 0);
}
