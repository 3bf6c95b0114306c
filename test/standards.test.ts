// The traffic centre's validators against a REAL run: two cameras on the GStreamer RTSP server (real
// clips), YOLOX-Nano, the incident rules tuned so every kind fires on the footage, a batch and a
// structured webhook receiver and an MQTT subscriber on a real Mosquitto. Then:
// - every DATEX II document the appliance serves validates against the official v3 JSON schemas
//   (ajv + draft-04, all files of ../shared/standards/datex2-v3-json loaded): 0 errors;
// - every event received over HTTP and MQTT parses with the `cloudevents` SDK in strict mode: 0 rejected;
// - /docs/json validates as OpenAPI (@seriousme/openapi-schema-validator) and every operation has a 2xx
//   response with a content type and a schema;
// - a real /metrics scrape piped to `promtool check metrics` exits 0 and prints nothing.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { CloudEvent as SdkCloudEvent, HTTP, MQTT, MQTTMessageFactory, type CloudEventV1, type MQTTMessage } from 'cloudevents';
import { Validator } from '@seriousme/openapi-schema-validator';
import { TestRtspServer, waitFor } from './helpers/rtsp-server.js';
import { startAppliance, TOKENS, type TestAppliance } from './helpers/appliance.js';
import { WebhookReceiver } from './helpers/webhook-receiver.js';
import { Mosquitto } from './helpers/mosquitto.js';
import { CLIPS, SHARED } from './helpers/paths.js';
import { explain, validateD2Payload } from './helpers/datex-validator.js';

const CROSSWALK = resolve(SHARED, 'data/traffic/campus-crosswalk/campus_crosswalk_vfr11fps.mp4');
const PROMTOOL = process.env.PROMTOOL ?? 'promtool';
const KINDS = ['stopped-vehicle', 'wrong-way', 'queue', 'pedestrian-on-carriageway'];
const FULL = [
  { x: 0, y: 0 },
  { x: 1, y: 0 },
  { x: 1, y: 1 },
  { x: 0, y: 1 },
];
/** Short timers and thresholds so that each rule fires on ordinary traffic in a minute of footage. */
const EAGER_RULES = {
  stoppedVehicle: { minSeconds: 1, maxSpeedPxPerSec: 1000 },
  wrongWay: { minDistanceRel: 0.05, maxCosine: -0.3 },
  queue: { minOccupancy: 2, maxMeanSpeedPxPerSec: 1000, minSeconds: 1 },
  pedestrian: { minSeconds: 0 },
  clearSeconds: 1,
  updateSeconds: 2,
};

type Json = Record<string, any>;

describe('standards, on a real run', () => {
  let arterial: TestRtspServer;
  let crosswalk: TestRtspServer;
  let batchHook: WebhookReceiver;
  let structuredHook: WebhookReceiver;
  let broker: Mosquitto;
  let sub: MqttClient;
  const mqttMessages: { topic: string; payload: Buffer }[] = [];
  let t: TestAppliance;
  let stopped = false;
  const get = async (path: string, token: string = TOKENS.viewer): Promise<Json> => {
    const r = await t.get(path, token);
    assert.equal(r.status, 200, `${path}: HTTP ${r.status} ${await r.clone().text()}`);
    return (await r.json()) as Json;
  };
  const kindsSeen = (doc: Json): Set<string> =>
    new Set((doc.payload.sitSituationPublication.situation ?? []).map((s: Json) => (Object.values(s.situationRecord[0])[0] as Json).situationRecordExtensionG.roadside.kind));
  const closedRecords = (doc: Json): Json[] =>
    (doc.payload.sitSituationPublication.situation ?? [])
      .map((s: Json) => Object.values(s.situationRecord[0])[0] as Json)
      .filter((r: Json) => r.validity.validityStatus.value === 'definedByValidityTimeSpec');

  before(async () => {
    arterial = new TestRtspServer(CLIPS.opendatacam, '/arterial');
    crosswalk = new TestRtspServer(CROSSWALK, '/crosswalk');
    batchHook = new WebhookReceiver();
    structuredHook = new WebhookReceiver();
    broker = new Mosquitto();
    const [a, c] = await Promise.all([arterial.start(), crosswalk.start(), batchHook.start(), structuredHook.start(), broker.start()]);
    sub = connect(broker.url, { reconnectPeriod: 200 });
    sub.on('message', (topic, payload) => mqttMessages.push({ topic, payload }));
    await new Promise<void>((r) => sub.once('connect', () => r()));
    await sub.subscribeAsync('roadside/#', { qos: 1 });
    t = await startAppliance(
      [
        {
          id: 'arterial',
          name: 'Arterial',
          url: a,
          fps: 5,
          location: { latitude: 52.52, longitude: 13.405, bearing: 180, description: 'B96, km 3.2' },
          lines: [
            { id: 'main', from: { x: 0.17, y: 0.55 }, to: { x: 0.62, y: 0.55 }, direction: { x: 0, y: 1 }, location: { latitude: 52.5201, longitude: 13.4051, bearing: 180 } },
            { id: 'side', from: { x: 0.3, y: 0.8 }, to: { x: 0.9, y: 0.8 }, classes: ['car', 'truck', 'bus'] },
          ],
          zones: [
            // Cars move both ways on the arterial: one lane direction each way makes wrong-way fire.
            { id: 'road', kind: 'carriageway', polygon: FULL, laneDirection: { x: 0, y: 1 } },
            { id: 'road-up', kind: 'area', polygon: FULL, laneDirection: { x: 0, y: -1 } },
          ],
          incidents: EAGER_RULES,
        },
        { id: 'crosswalk', url: c, fps: 5, zones: [{ id: 'junction', kind: 'carriageway', polygon: FULL }], incidents: EAGER_RULES },
      ],
      {
        analytics: { binSeconds: [10, 60], timeZone: 'Asia/Kolkata' },
        datex: { country: 'DE', nationalIdentifier: 'roadside-test-box' },
        events: { schemaBaseUrl: 'https://tc.example.org/roadside/api/v1/schemas/events/' },
        sinks: {
          webhooks: [
            { id: 'tc-batch', url: batchHook.url, batchSize: 20 },
            { id: 'tc-structured', url: structuredHook.url, mode: 'structured' },
          ],
          mqtt: [{ id: 'tc-mqtt', url: broker.url }],
        },
      },
    );
    // Run until every incident kind has fired and at least one incident has closed (bounded).
    const t0 = Date.now();
    for (;;) {
      const doc = await get('/api/v1/datex/situations?active=false');
      const kinds = kindsSeen(doc);
      // ...and a first count interval of the main line is stored (10 s bins: incidents can be quicker).
      const counts = (await (await t.get('/api/v1/events?camera=arterial&type=count.interval&limit=100')).json()) as { events: { data: { lineId: string } }[] };
      const counted = counts.events.some((e) => e.data.lineId === 'main');
      if (KINDS.every((k) => kinds.has(k)) && closedRecords(doc).length > 0 && counted) break;
      if (Date.now() - t0 > 150_000) assert.fail(`not every incident kind fired within 150 s: saw ${[...kinds].join(', ')}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  });

  after(async () => {
    if (!stopped) await t?.stop();
    sub?.end(true);
    await Promise.all([arterial?.stop(), crosswalk?.stop(), batchHook?.stop(), structuredHook?.stop(), broker?.stop()]);
    await broker?.dispose();
  });

  test('every DATEX II document served validates against the official v3 schemas: 0 errors', async (ctx) => {
    const from = new Date(Date.now() - 120_000).toISOString();
    const to = new Date().toISOString();
    const paths = [
      '/api/v1/datex/measured-data',
      '/api/v1/datex/measured-data?binSeconds=60',
      `/api/v1/datex/measured-data?from=${from}&to=${to}`,
      '/api/v1/datex/measured-data?camera=crosswalk',
      '/api/v1/datex/measurement-sites',
      '/api/v1/datex/situations',
      '/api/v1/datex/situations?active=false',
      `/api/v1/datex/situations?active=false&camera=arterial&from=${from}`,
    ];
    let documents = 0;
    for (const p of paths) {
      const doc = await get(p);
      const errors = validateD2Payload(doc);
      assert.deepEqual(errors.length, 0, `${p}: ${errors.length} errors\n${explain(errors)}`);
      assert.equal(doc.payload.modelBaseVersionG, '3');
      documents++;
    }
    assert.equal(documents, paths.length);
    ctx.diagnostic(`${documents} DATEX II documents validated, 0 errors`);

    const sites = (await get('/api/v1/datex/measurement-sites')).payload.roaMeasurementSiteTablePublication;
    assert.deepEqual(sites.publicationCreator, { country: 'DE', nationalIdentifier: 'roadside-test-box' });
    const ids = sites.measurementSiteTable[0].measurementSite.map((s: Json) => s.idG);
    assert.deepEqual(ids, [
      'test-box.arterial.main.forward',
      'test-box.arterial.main.backward',
      'test-box.arterial.side.forward',
      'test-box.arterial.side.backward',
      'test-box.arterial',
      'test-box.crosswalk',
    ]);

    const measured = (await get(`/api/v1/datex/measured-data?from=${from}&to=${to}`)).payload.roaMeasuredDataPublication;
    assert.equal(measured.measurementSiteTableReference[0].versionG, sites.measurementSiteTable[0].versionG, 'measured data references the table version in force');
    const lineSites = measured.siteMeasurements.filter((s: Json) => s.measurementSiteReference.idG.startsWith('test-box.arterial.main.'));
    assert.ok(lineSites.length >= 2, 'the main line has measurements in both directions');
    for (const s of lineSites) assert.equal(s.physicalQuantity.length, 5, 'explicit values (zeros included) for every vehicle class');
  });

  test('situations: each kind as its v3 record; closed ones end after they start; the version does not depend on the window', async () => {
    const all = await get('/api/v1/datex/situations?active=false');
    const records = (all.payload.sitSituationPublication.situation as Json[]).map((s) => Object.entries(s.situationRecord[0])[0] as [string, Json]);
    const byKind = new Map(records.map(([type, r]) => [r.situationRecordExtensionG.roadside.kind as string, { type, r }]));
    assert.equal(byKind.get('stopped-vehicle')?.r.vehicleObstructionType.value, 'brokenDownVehicle');
    assert.equal(byKind.get('wrong-way')?.r.vehicleObstructionType.value, 'vehicleOnWrongCarriageway');
    assert.equal(byKind.get('queue')?.type, 'sitAbnormalTraffic');
    assert.deepEqual(byKind.get('pedestrian-on-carriageway')?.r.obstructionType, [{ value: 'peopleOnRoadway' }]);
    for (const [, r] of records) assert.ok(r.locationReference.locPointLocation, 'every record has a location reference');
    const closed = closedRecords(all);
    assert.ok(closed.length > 0);
    for (const r of closed) {
      const { overallStartTime, overallEndTime } = r.validity.validityTimeSpecification;
      assert.ok(Date.parse(overallEndTime) > Date.parse(overallStartTime), `${r.idG}: end ${overallEndTime} after start ${overallStartTime}`);
    }
    // The same record seen through a narrower window has the same version.
    const narrow = await get(`/api/v1/datex/situations?active=false&from=${new Date(Date.now() - 5_000).toISOString()}`);
    const versions = new Map(records.map(([, r]) => [r.idG, r.versionG]));
    for (const s of narrow.payload.sitSituationPublication.situation as Json[]) {
      const r = Object.values(s.situationRecord[0])[0] as Json;
      const wide = versions.get(r.idG);
      if (wide !== undefined && r.situationRecordVersionTime === records.find(([, x]) => x.idG === r.idG)?.[1].situationRecordVersionTime) assert.equal(r.versionG, wide);
    }
  });

  test('/docs/json is a valid OpenAPI document; every operation has a 2xx response with a content type and a schema', async (ctx) => {
    const doc = await get('/docs/json');
    const result = await new Validator().validate(doc);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1)?.slice(0, 3000));
    assert.ok(['ErrorBody', 'CloudEvent', 'DatexPayload'].every((n) => doc.components?.schemas?.[n]), `shared schemas in components: ${Object.keys(doc.components?.schemas ?? {})}`);
    const missing: string[] = [];
    let operations = 0;
    for (const [path, item] of Object.entries(doc.paths as Json)) {
      for (const [method, op] of Object.entries(item as Json)) {
        if (!['get', 'put', 'post', 'delete', 'patch'].includes(method)) continue;
        operations++;
        const ok = Object.entries((op as Json).responses ?? {}).filter(([code]) => /^2\d\d$/.test(code));
        const documented = ok.some(([code, r]) => code === '204' || Object.values((r as Json).content ?? {}).some((c) => (c as Json).schema));
        if (!documented) missing.push(`${method.toUpperCase()} ${path}`);
      }
    }
    assert.ok(operations >= 20, `${operations} operations`);
    assert.deepEqual(missing, [], 'operations without a documented success response');
    ctx.diagnostic(`OpenAPI ${doc.openapi}: valid, ${operations} operations, every one with a documented 2xx`);
    const content = (p: string, code = '200') => Object.keys(doc.paths[p].get.responses[code].content);
    assert.deepEqual(content('/api/v1/events/stream'), ['text/event-stream']);
    assert.deepEqual(content('/metrics'), ['text/plain']);
    assert.deepEqual(content('/api/v1/cameras/{id}/snapshot.jpg'), ['image/jpeg']);
    assert.ok(doc.paths['/readyz'].get.responses['503'].content['application/json'].schema);
  });

  test('promtool check metrics on a real scrape: exit 0, no output; counters exist at 0 from the start', async () => {
    const r = await t.get('/metrics', TOKENS.metrics);
    assert.equal(r.status, 200);
    const body = await r.text();
    const lint = spawnSync(PROMTOOL, ['check', 'metrics'], { input: body, encoding: 'utf8' });
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
    assert.equal((lint.stdout + lint.stderr).trim(), '');
    assert.match(body, /^process_cpu_seconds_total /m, 'standard process metric names');
    assert.match(body, /^roadside_camera_frames_per_second\{camera="arterial"\} /m);
    assert.match(body, /^roadside_sink_failures_total\{sink="tc-mqtt"\} 0$/m, 'a labelled counter is there at 0 before its first increment');
    assert.match(body, /^roadside_outbox_dropped_total\{reason="corrupt"\} 0$/m);
    assert.match(body, /^roadside_events_produced_total\{type="count.interval"\} [1-9]/m, "internal type names as label values");
    assert.match(body, /^roadside_camera_restarts_total\{camera="crosswalk"\} 0$/m);
  });

  test('every event received over webhook (batch and structured) and MQTT parses with the cloudevents SDK in strict mode: 0 rejected', async (ctx) => {
    await t.stop(); // flushes open intervals and incidents and delivers what is pending
    stopped = true;
    await waitFor(() => mqttMessages.length > 0 && structuredHook.requests.length > 0 && batchHook.requests.length > 0, 10_000, 'deliveries');
    const rejected: string[] = [];
    // Strict: the SDK validates every attribute (absolute dataschema URI, RFC 3339 time...) and throws.
    const check = (where: string, raw: unknown, parsed: CloudEventV1<unknown>) => {
      try {
        new SdkCloudEvent({ ...(raw as object) } as never, true);
        new SdkCloudEvent({ ...parsed }, true);
      } catch (err) {
        rejected.push(`${where}: ${(err as Error).message} ${JSON.stringify((err as { errors?: unknown }).errors ?? '')}`);
      }
    };
    let httpEvents = 0;
    for (const hook of [batchHook, structuredHook]) {
      for (const req of hook.requests) {
        const parsed = HTTP.toEvent({ headers: req.headers as Record<string, string>, body: req.body });
        const list = Array.isArray(parsed) ? parsed : [parsed];
        assert.equal(list.length, req.events.length);
        for (let i = 0; i < list.length; i++) check(`http ${String(req.headers['content-type'])}`, req.events[i], list[i]!);
        httpEvents += list.length;
      }
    }
    assert.ok(batchHook.requests.every((r) => String(r.headers['content-type']).startsWith('application/cloudevents-batch+json')));
    assert.ok(structuredHook.requests.every((r) => String(r.headers['content-type']).startsWith('application/cloudevents+json') && r.events.length === 1));
    for (const m of mqttMessages) {
      const raw = JSON.parse(m.payload.toString('utf8')) as Json;
      // The binding's strict flag (its typings omit it): refuse a message that is not a CloudEvent.
      const toEvent = MQTT.toEvent as (m: MQTTMessage<unknown>, strict: boolean) => CloudEventV1<unknown>;
      const parsed = toEvent(MQTTMessageFactory('application/cloudevents+json', {}, raw), true);
      check(`mqtt ${m.topic}`, raw, parsed);
      assert.match(String(parsed.type), /^org\.roadside\./);
      assert.match(String(parsed.dataschema), /^https:\/\/tc\.example\.org\/roadside\/api\/v1\/schemas\/events\//);
    }
    assert.ok(httpEvents > 20 && mqttMessages.length > 20, `${httpEvents} HTTP events, ${mqttMessages.length} MQTT messages`);
    assert.deepEqual(rejected.slice(0, 5), [], `${rejected.length} of ${httpEvents + mqttMessages.length} rejected`);
    ctx.diagnostic(`${httpEvents} events over HTTP (${batchHook.requests.length} batch + ${structuredHook.requests.length} structured requests), ${mqttMessages.length} over MQTT: 0 rejected`);
  });
});
