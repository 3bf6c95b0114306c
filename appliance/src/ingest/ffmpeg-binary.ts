// Which ffmpeg decodes the cameras: resolved once, logged once with its version.
// The lean static build of `make deps` (var/ffmpeg-lean, docs/ingest.md) is the default where it is
// present: Debian's ffmpeg links ~100 shared libraries and each camera's process touches ~40 MB of
// their pages; the lean one holds only what ingest uses. It has no hardware decode, so
// `ingest.hwaccel: cuda` takes the system ffmpeg unless ROADSIDE_FFMPEG names one. Not a config field:
// the config can be changed through the API, and no API caller may choose what the box executes.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FfmpegSource, HwAccel } from '../core/types.js';

const execFileAsync = promisify(execFile);

export interface FfmpegBinary {
  /** What spawn() runs: an absolute path, or a name looked up on PATH. */
  path: string;
  /** Why this one: ROADSIDE_FFMPEG, the lean build, or `ffmpeg` on PATH. */
  from: FfmpegSource;
}

export interface FfmpegChoice {
  /** ROADSIDE_FFMPEG of the environment. */
  env?: string;
  /** The lean build's binary, when it exists. */
  lean: string | null;
  hwaccel?: HwAccel;
}

/** Pure: the environment wins, then the lean build (CPU decode only), then PATH. */
export function chooseFfmpeg(c: FfmpegChoice): FfmpegBinary {
  if (c.env) return { path: c.env, from: 'env' };
  if (c.lean && c.hwaccel !== 'cuda') return { path: c.lean, from: 'lean' };
  return { path: 'ffmpeg', from: 'path' };
}

/** The lean build's binary (var/ffmpeg-lean/bin/ffmpeg under the checkout, from source or dist/), if executable. */
export function leanFfmpegPath(start = dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = start;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json'))) {
      const bin = join(dir, 'var', 'ffmpeg-lean', 'bin', 'ffmpeg');
      try {
        accessSync(bin, constants.X_OK);
        return bin;
      } catch {
        return null;
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

/** The binary for this decode setting and environment. */
export function resolveFfmpeg(hwaccel: HwAccel = 'none', env: NodeJS.ProcessEnv = process.env): FfmpegBinary {
  return chooseFfmpeg({ env: env.ROADSIDE_FFMPEG || undefined, lean: leanFfmpegPath(), hwaccel });
}

let fallback: FfmpegBinary | null = null;
/** The default of a source given no path (clip replays, tests, benches): resolved once per process. */
export function defaultFfmpeg(): string {
  fallback ??= resolveFfmpeg();
  return fallback.path;
}

/** The first line of `ffmpeg -version` (null when the binary cannot run: the cameras then report why). */
export async function ffmpegVersion(path: string): Promise<string | null> {
  try {
    // Asynchronous: asked when a config is applied, which must not hold the event loop (other cameras' frames).
    const { stdout } = await execFileAsync(path, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 10_000 });
    return stdout.split('\n')[0]?.trim() || null;
  } catch {
    return null;
  }
}
