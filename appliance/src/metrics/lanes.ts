// Lane data as Prometheus series (the Grafana panel per lane): labels are the camera and lane ids
// only. Set from each lane.interval event as it is stored, so the series follow the exported data.
import { Counter, Gauge, type Registry } from 'prom-client';
import { isEventOf } from '../core/event-data.js';
import type { CloudEvent } from '../core/types.js';

const labelNames = ['camera', 'lane'] as const;

export function laneMetrics(registry: Registry) {
  return {
    laneVehicles: new Counter({ name: 'roadside_lane_vehicles_total', help: 'Vehicles that passed the lane\'s virtual loop', labelNames, registers: [registry] }),
    laneOccupancy: new Gauge({ name: 'roadside_lane_occupancy_percent', help: 'Time occupancy of the lane\'s virtual loop over the last lane interval (%)', labelNames, registers: [registry] }),
    laneSpeed: new Gauge({ name: 'roadside_lane_speed_kmh', help: 'Mean speed in the lane over the last lane interval (km/h; NaN when not measurable)', labelNames, registers: [registry] }),
    laneHeadway: new Gauge({ name: 'roadside_lane_headway_seconds', help: 'Mean headway in the lane over the last lane interval (s; NaN when not measurable)', labelNames, registers: [registry] }),
  };
}

type LaneMetrics = ReturnType<typeof laneMetrics>;

/** Moves the lane series for a stored event (anything but lane.interval is ignored). */
export function observeLaneEvent(m: LaneMetrics, e: CloudEvent): void {
  if (!isEventOf(e, 'lane.interval')) return;
  const d = e.data;
  const labels = { camera: d.cameraId, lane: d.laneId };
  m.laneVehicles.inc(labels, d.volume);
  m.laneOccupancy.set(labels, d.occupancyPct ?? Number.NaN);
  m.laneSpeed.set(labels, d.meanSpeedKmh ?? Number.NaN);
  m.laneHeadway.set(labels, d.meanHeadwayS ?? Number.NaN);
}
