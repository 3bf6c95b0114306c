// Unit tier: the config schema refuses bad input with every issue named by its path and a stable code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfigText, validateConfig } from '../appliance/src/config/load.js';

function issuesOf(fn: () => unknown): { code: string; paths: string[] } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return { code: err.code, paths: err.issues.map((i) => i.path) };
  }
  assert.fail('expected a ConfigError');
}

test('every error of an invalid config is listed by its field path, with ROADSIDE_ERR_CONFIG_INVALID', () => {
  const r = issuesOf(() =>
    validateConfig({
      server: { port: 'eighty' },
      cameras: [{ id: 'Cam 1', url: 'http://not-rtsp', fps: 0, width: 640, height: 360 }],
    }),
  );
  assert.equal(r.code, 'ROADSIDE_ERR_CONFIG_INVALID');
  for (const p of ['/server/port', '/cameras/0/id', '/cameras/0/url', '/cameras/0/fps']) assert.ok(r.paths.includes(p), `${p} in ${r.paths.join(', ')}`);
});

test('geometry the analytics cannot use is refused at validation, naming the line', () => {
  const r = issuesOf(() =>
    validateConfig({
      cameras: [{ id: 'cam', url: 'rtsp://127.0.0.1/x', lines: [{ id: 'l', from: { x: 0.1, y: 0.5 }, to: { x: 0.9, y: 0.5 }, direction: { x: 1, y: 0 } }] }],
    }),
  );
  assert.ok(r.paths.some((p) => p.startsWith('/cameras/0/lines/0')), r.paths.join(', '));
});

test('duplicate camera ids are refused', () => {
  const cam = { id: 'cam', url: 'rtsp://127.0.0.1/x' };
  const r = issuesOf(() => validateConfig({ cameras: [cam, cam] }));
  assert.ok(r.paths.some((p) => p.startsWith('/cameras')), r.paths.join(', '));
});

test('YAML that does not parse is a ConfigError too', () => {
  const r = issuesOf(() => parseConfigText('cameras: [\n  - id: a\n  url', 'test.yaml'));
  assert.equal(r.code, 'ROADSIDE_ERR_CONFIG_INVALID');
});

test('a valid minimal config gets the documented defaults', () => {
  const cfg = validateConfig({ cameras: [{ id: 'cam', url: 'rtsp://127.0.0.1/x' }] });
  const cam = cfg.cameras[0]!;
  assert.equal(cam.enabled, true);
  assert.ok(cam.fps > 0 && cam.width > 0 && cam.height > 0);
  assert.equal(cfg.server.host, '127.0.0.1');
});

test('stop lines and no-stopping zones are camera config; the incident rules get their defaults', () => {
  const cfg = validateConfig({
    cameras: [
      {
        id: 'cam',
        url: 'rtsp://127.0.0.1/x',
        zones: [{ id: 'box-junction', kind: 'no-stopping', polygon: [{ x: 0.1, y: 0.1 }, { x: 0.5, y: 0.1 }, { x: 0.5, y: 0.5 }] }],
        stopLines: [{ id: 'north-stop', from: { x: 0.2, y: 0.6 }, to: { x: 0.6, y: 0.6 } }],
      },
    ],
  });
  const cam = cfg.cameras[0];
  assert.equal(cam?.zones[0]?.kind, 'no-stopping');
  assert.equal(cam?.stopLines?.[0]?.id, 'north-stop');
  assert.equal(cam?.incidents.stoppedVehicle.suddenStopSeconds, 5);
  assert.equal(cam?.incidents.wrongWay.minSeconds, 1.5);
  assert.equal(cam?.incidents.collision.confirmSeconds, 3);
  assert.equal(cam?.incidents.queue.atStopLineSeconds, 120);
  const bad = issuesOf(() => validateConfig({ cameras: [{ id: 'cam', url: 'rtsp://127.0.0.1/x', stopLines: [{ id: 'Bad Id', from: { x: 2, y: 0 }, to: { x: 0, y: 0 } }] }] }));
  assert.ok(bad.paths.some((p) => p.startsWith('/cameras/0/stopLines/0')), JSON.stringify(bad));
});
