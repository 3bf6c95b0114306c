// Decodes a real clip (optionally through ffmpeg filters that fake a camera fault) into rgb24 frames
// in memory, at the analysed fps and size, with timestamps as the appliance would give them.
import { spawn } from 'node:child_process';
import type { Frame } from '../../appliance/src/core/types.js';

/** Every shared traffic clip, relative to ../shared/data/traffic: none shows a camera fault. */
export const CLEAN_CLIPS = [
  'cdnet-highway/highway_cdnet_30fps.mp4',
  'opendatacam/opendatacam_placeholder_30fps.mp4',
  'intel/car-detection.mp4',
  'wsdot/wsdot_i5_s188th_15fps.mp4',
  'jakarta-scooters/jakarta_sudirman_25fps.mp4',
  'uk-motorway-rain/uk_motorway_rain_25fps.mp4',
  'sf-freeway-night/sf_freeway_night_24fps.mp4',
  'campus-crosswalk/campus_crosswalk_vfr11fps.mp4',
  'makassar-dusk/makassar_dusk_30fps.mp4',
] as const;

export interface DecodeOptions {
  fps: number;
  width: number;
  height: number;
  /** ffmpeg filters applied before the analysed fps and scaling (the fault). */
  vf?: string;
  /** Stop after this many seconds of the clip. */
  maxSeconds?: number;
  cameraId?: string;
  startMs?: number;
}

export async function decodeFrames(clip: string, o: DecodeOptions): Promise<Frame[]> {
  const filters = [o.vf, `fps=${o.fps}`, `scale=${o.width}:${o.height}:flags=fast_bilinear`].filter(Boolean).join(',');
  const args = ['-nostdin', '-v', 'error', '-i', clip, ...(o.maxSeconds ? ['-t', String(o.maxSeconds)] : []), '-an', '-vf', filters, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  let err = '';
  child.stderr.on('data', (d) => (err += String(d)));
  for await (const c of child.stdout) chunks.push(c as Buffer);
  const code = await new Promise<number>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (c) => r(c ?? 1))));
  if (code !== 0) throw new Error(`ffmpeg failed on ${clip}: ${err}`);
  const all = Buffer.concat(chunks);
  const size = o.width * o.height * 3;
  const frames: Frame[] = [];
  const t0 = o.startMs ?? Date.UTC(2026, 0, 1, 12, 0, 0);
  for (let i = 0; (i + 1) * size <= all.length; i++) {
    frames.push({ cameraId: o.cameraId ?? 'cam', seq: i, timestampMs: t0 + Math.round((i * 1000) / o.fps), width: o.width, height: o.height, data: all.subarray(i * size, (i + 1) * size) });
  }
  return frames;
}
