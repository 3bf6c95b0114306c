// DATEX II v3 export for the traffic centre: measured data (latest per site, or a window), the
// measurement site table and incidents as situations. Which intervals a publication carries is
// events/latest-per-site.ts; the documents themselves are events/datex.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../../config/schema.js';
import { isEventOf } from '../../core/event-data.js';
import { errorBody } from '../../core/errors.js';
import { eventTypeOf, type CloudEvent } from '../../core/types.js';
import { laneSiteSources, latestLaneIntervals, siteIds, siteTableVersion, toMeasuredData, toMeasurementSiteTable, toSituations, type DatexOptions, type SiteSource } from '../../events/datex.js';
import { selectMeasuredData } from '../../events/latest-per-site.js';
import { overlapsWindow } from '../../events/counts.js';
import type { Outbox } from '../../events/outbox.js';
import { collect, maxBinSeconds, overlapScan, timeRange } from '../outbox-reads.js';
import { DatexMeasuredQuery, DatexPayloadRef, DatexSituationsQuery, ErrorBody } from '../schemas.js';

/** Publication creator, language and locations (config `datex`, camera/line `location`). */
export type DatexSettings = Omit<DatexOptions, 'applianceId' | 'nowMs'>;

export interface DatexRoutesOptions {
  outbox: Pick<Outbox, 'scan' | 'applianceId'>;
  /** Cameras and their counting lines (default: from the count events of the last day). */
  sites?: () => SiteSource[];
  /** Bin sizes in force (site table periods; how far past `to` an overlapping interval can end). */
  binSeconds: () => number[];
  datex: () => DatexSettings;
  /** Most events one request reads. */
  maxScan: number;
}

const DAY_MS = 86_400_000;
const TAGS = ['events'];

/** DATEX settings and locations from the running config. */
export function datexSettings(cfg: Config): DatexSettings {
  return {
    country: cfg.datex.country,
    nationalIdentifier: cfg.datex.nationalIdentifier ?? cfg.appliance.id,
    lang: cfg.datex.lang,
    locate: (cameraId: string, lineId: string | null) => {
      const cam = cfg.cameras.find((c) => c.id === cameraId);
      const line = lineId === null ? undefined : cam?.lines.find((l) => l.id === lineId);
      return line?.location ?? cam?.location;
    },
  };
}

/** The measurement sites of a config: one per camera, with its counting lines and its lanes. */
export function configSites(cfg: Config): SiteSource[] {
  return cfg.cameras.map((c) => ({ cameraId: c.id, cameraName: c.name, lines: c.lines.map((l) => ({ lineId: l.id, name: l.name, classes: l.classes })), lanes: laneSiteSources(c) }));
}

export const datexRoutes: FastifyPluginAsyncTypebox<DatexRoutesOptions> = async (app, o) => {
  const { outbox } = o;
  const options = (): DatexOptions => ({ applianceId: outbox.applianceId, ...o.datex() });

  /** Sites from the config, or (without one) from the count events of the last day. */
  async function siteSources(): Promise<SiteSource[]> {
    const configured = o.sites?.();
    if (configured) return configured;
    const byCamera = new Map<string, Map<string, { lineId: string }>>();
    for await (const { event } of outbox.scan({ type: 'count.interval', fromMs: Date.now() - DAY_MS })) {
      if (!isEventOf(event, 'count.interval')) continue;
      const d = event.data;
      const lines = byCamera.get(d.cameraId) ?? new Map<string, { lineId: string }>();
      lines.set(d.lineId, { lineId: d.lineId });
      byCamera.set(d.cameraId, lines);
      if (byCamera.size > 1000) break;
    }
    return [...byCamera].map(([cameraId, lines]) => ({ cameraId, lines: [...lines.values()] }));
  }

  app.get(
    '/api/v1/datex/measured-data',
    {
      config: { access: 'read' },
      schema: {
        tags: TAGS,
        summary:
          'DATEX II v3 MeasuredDataPublication (D2Payload JSON): flows per line and direction, speeds per camera, lane data per lane; without from/to the latest interval per site, with them every interval that overlaps [from, to)',
        querystring: DatexMeasuredQuery,
        response: { 200: DatexPayloadRef, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const q = req.query;
      // Latest per site: look back one day.
      const filter = !q.from && !q.to ? { fromMs: Date.now() - DAY_MS } : overlapScan(q, maxBinSeconds(o.binSeconds()));
      const counts = await collect(outbox, { camera: q.camera, type: q.camera ? undefined : 'count.interval', ...filter }, o.maxScan);
      const speeds = q.camera ? { events: [] as CloudEvent[] } : await collect(outbox, { type: 'speed.interval', ...filter }, o.maxScan);
      const events = selectMeasuredData([...counts.events, ...speeds.events], { binSeconds: q.binSeconds, ...timeRange(q) });
      // Lane data has its own interval (20/30/60 s): selected by binSeconds only when asked for.
      const window = timeRange(q);
      const latestOnly = window.fromMs === undefined && window.toMs === undefined;
      const laneScan = q.camera ? counts : await collect(outbox, { type: 'lane.interval', ...filter }, o.maxScan);
      const lanes = latestLaneIntervals(
        laneScan.events.filter((e) => isEventOf(e, 'lane.interval')).filter((e) => (q.binSeconds === undefined || e.data.binSeconds === q.binSeconds) && (latestOnly || overlapsWindow(e.data, window.fromMs, window.toMs))),
        latestOnly,
      );
      const all = await siteSources();
      const sources = all.filter((s) => q.camera === undefined || s.cameraId === q.camera);
      // v3 needs at least one SiteMeasurements; with no site at all there is nothing to publish.
      if (events.length === 0 && lanes.length === 0 && sources.length === 0) return reply.code(404).send(errorBody('ROADSIDE_ERR_NOT_FOUND', 'no measurement site and no measured data'));
      const opts = options();
      return toMeasuredData([...events, ...lanes], { ...opts, emptySites: siteIds(outbox.applianceId, sources), siteTableVersion: siteTableVersion(all, o.binSeconds(), opts) });
    },
  );

  app.get(
    '/api/v1/datex/measurement-sites',
    {
      config: { access: 'read' },
      schema: {
        tags: TAGS,
        summary: 'DATEX II v3 MeasurementSiteTablePublication (D2Payload JSON): one site per counting line and direction, one speed site per camera, one site per lane',
        response: { 200: DatexPayloadRef, 404: ErrorBody },
      },
    },
    async (_req, reply) => {
      const sources = await siteSources();
      if (sources.length === 0) return reply.code(404).send(errorBody('ROADSIDE_ERR_NOT_FOUND', 'no measurement site: no camera configured'));
      return toMeasurementSiteTable(sources, o.binSeconds(), options());
    },
  );

  app.get(
    '/api/v1/datex/situations',
    {
      config: { access: 'read' },
      schema: { tags: TAGS, summary: 'DATEX II v3 SituationPublication (D2Payload JSON): incidents as situation records', querystring: DatexSituationsQuery, response: { 200: DatexPayloadRef } },
    },
    async (req) => {
      const q = req.query;
      const filter = { camera: q.camera, fromMs: q.from ? Date.parse(q.from) : Date.now() - DAY_MS, ...(q.to ? { toMs: Date.parse(q.to) } : {}) };
      const isIncident = (e: CloudEvent) => eventTypeOf(e).startsWith('incident.');
      const all: CloudEvent[] = [];
      if (q.camera) all.push(...(await collect(outbox, filter, o.maxScan)).events.filter(isIncident));
      else for (const type of ['incident.opened', 'incident.updated', 'incident.closed'] as const) all.push(...(await collect(outbox, { ...filter, type }, o.maxScan)).events);
      return toSituations(all, { ...options(), activeOnly: q.active });
    },
  );
};
