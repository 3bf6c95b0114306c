// Which ffmpeg decodes the cameras (ingest/ffmpeg-binary.ts): the pure choice and the lean build's lookup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseFfmpeg, leanFfmpegPath } from '../appliance/src/ingest/ffmpeg-binary.js';

test('ROADSIDE_FFMPEG wins, then the lean build, then ffmpeg on PATH', () => {
  const lean = '/box/var/ffmpeg-lean/bin/ffmpeg';
  assert.deepEqual(chooseFfmpeg({ env: '/env/ff', lean }), { path: '/env/ff', from: 'env' });
  assert.deepEqual(chooseFfmpeg({ lean }), { path: lean, from: 'lean' });
  assert.deepEqual(chooseFfmpeg({ lean: null }), { path: 'ffmpeg', from: 'path' });
});

test('CUDA decode takes the system ffmpeg: the lean build has no hardware decoders', () => {
  const lean = '/box/var/ffmpeg-lean/bin/ffmpeg';
  assert.deepEqual(chooseFfmpeg({ lean, hwaccel: 'cuda' }), { path: 'ffmpeg', from: 'path' });
  assert.deepEqual(chooseFfmpeg({ lean, hwaccel: 'none' }), { path: lean, from: 'lean' });
  // A binary named by the operator is trusted to have what the config asks for.
  assert.deepEqual(chooseFfmpeg({ env: '/opt/ff-cuda', lean, hwaccel: 'cuda' }), { path: '/opt/ff-cuda', from: 'env' });
});

test('the lean build is found under the checkout (from the sources or from dist/), only when executable', () => {
  const root = mkdtempSync(join(tmpdir(), 'roadside-lean-'));
  try {
    writeFileSync(join(root, 'package.json'), '{}');
    const moduleDir = join(root, 'dist', 'appliance', 'src', 'ingest');
    mkdirSync(moduleDir, { recursive: true });
    assert.equal(leanFfmpegPath(moduleDir), null, 'not built');
    const bin = join(root, 'var', 'ffmpeg-lean', 'bin', 'ffmpeg');
    mkdirSync(join(root, 'var', 'ffmpeg-lean', 'bin'), { recursive: true });
    writeFileSync(bin, '#!/bin/sh\n');
    chmodSync(bin, 0o644);
    assert.equal(leanFfmpegPath(moduleDir), null, 'not executable');
    chmodSync(bin, 0o755);
    assert.equal(leanFfmpegPath(moduleDir), bin);
    assert.equal(leanFfmpegPath(join(root, 'appliance', 'src', 'ingest')), bin);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
