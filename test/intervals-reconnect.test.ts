// A reconnect on a real run does not split a bin: the RTSP server (real clip) is stopped early in a
// 30 s bin and started again; the appliance reconnects, and the outbox holds one count.interval per
// line and bin, the one with the outage flagged 'stream-gap' and still spanning the whole bin.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestRtspServer, freePort, waitFor } from './helpers/rtsp-server.js';
import { startAppliance, type TestAppliance } from './helpers/appliance.js';
import { CLIPS } from './helpers/paths.js';
import type { CountIntervalData } from '../appliance/src/core/event-data.js';

const BIN_MS = 30_000;
let rtsp: TestRtspServer | undefined;
let t: TestAppliance | undefined;

after(async () => {
  await t?.stop();
  await rtsp?.stop();
});

test('a stream lost and back within a bin leaves one record for that bin, flagged stream-gap, with its nominal bounds', async () => {
  rtsp = new TestRtspServer(CLIPS.opendatacam, '/cam');
  const url = await rtsp.start(await freePort());
  t = await startAppliance([{ id: 'cam', url, fps: 5, stallSeconds: 5, lines: [{ id: 'main', from: { x: 0.17, y: 0.55 }, to: { x: 0.62, y: 0.55 } }] }], {
    analytics: { binSeconds: [30] },
  });
  const pipeline = () => t!.app.cameras.get('cam')!;
  await waitFor(() => pipeline().status().framesAnalysed > 3, 60_000, 'first frames');
  const streamingSince = Date.now();
  // Wait for the start of a fresh bin (one that began after the first frames, so it is whole), so the
  // outage and the reconnect fall inside one bin.
  const early = () => Date.now() % BIN_MS > 1_000 && Date.now() % BIN_MS < 4_000 && Math.floor(Date.now() / BIN_MS) * BIN_MS > streamingSince;
  await waitFor(early, 2 * BIN_MS + 5_000, 'early in a fresh bin');
  const binStart = Math.floor(Date.now() / BIN_MS) * BIN_MS;
  await rtsp.stop();
  await waitFor(() => pipeline().status().state !== 'streaming', 10_000, 'stream lost');
  await rtsp.start();
  const before = pipeline().status().framesAnalysed;
  await waitFor(() => pipeline().status().state === 'streaming' && pipeline().status().framesAnalysed > before + 2, 20_000, 'stream back');
  const backAt = Date.now();
  // The bin closes with the first frame after its end (later on a loaded machine: poll the outbox).
  const iso = new Date(binStart).toISOString();
  const binEnd = new Date(binStart + BIN_MS).toISOString();
  let intervals: CountIntervalData[] = [];
  for (const t0 = Date.now(); Date.now() - t0 < BIN_MS + 40_000; await new Promise((r) => setTimeout(r, 500))) {
    const page = await t.app.events.outbox.query({ camera: 'cam', type: 'count.interval', limit: 1000 });
    intervals = page.events.map((e) => e.data as CountIntervalData);
    if (intervals.some((d) => d.intervalEnd >= binEnd)) break;
  }
  const starts = intervals.map((d) => d.intervalStart);
  assert.equal(new Set(starts).size, starts.length, `no bin recorded twice: ${starts.join(', ')}`);
  const outage = intervals.filter((d) => d.intervalStart === iso);
  assert.equal(outage.length, 1, `one record for the bin of the outage (${iso}): ${JSON.stringify(intervals.map((d) => [d.intervalStart, d.intervalEnd, d.flags]))}`);
  const rec = outage[0]!;
  assert.ok(backAt < binStart + BIN_MS, 'the stream came back inside the bin (else this test proves less)');
  assert.equal(rec.intervalEnd, new Date(binStart + BIN_MS).toISOString(), 'the whole bin, not split at the reconnect');
  assert.deepEqual(rec.flags, ['stream-gap']);
  assert.equal(rec.counts.length, 12, 'explicit counts for every direction × class');
});
