import type { HwAccel } from '../core/types.js';

export interface DecodeSpec {
  url: string;
  fps: number;
  width: number;
  height: number;
  /** Socket I/O timeout: ffmpeg gives up on a dead TCP connection after this long. */
  socketTimeoutMs: number;
  /** Decoder threads (default 1: frame threads each hold a copy of the reference frames, and on a box
   *  full of cameras parallel decoding only fights the detector for the same cores). */
  decodeThreads?: number;
  /** Hardware decode (GPU boxes): 'cuda' decodes on the GPU and hands system-memory frames to the filters. */
  hwaccel?: HwAccel;
}

/**
 * ffmpeg command line: RTSP over TCP, fps + fast scaling in one filter chain, rgb24 frames on stdout.
 * Lean by default (measured on a 720p stream, bench/capacity.ts): one decoder thread and one filter
 * thread (private memory 30 → 19 MB per camera, 10 → 3 threads) and a small probe (an RTSP stream's SDP
 * already names the codec and its parameters). Not `-fflags nobuffer`: with it ffmpeg delivered an eighth
 * of the frames of the test server's stream.
 */
export function ffmpegArgs(s: DecodeSpec): string[] {
  const input = s.url.startsWith('rtsp') ? ['-rtsp_transport', 'tcp', '-timeout', String(s.socketTimeoutMs * 1000)] : [];
  const hw = s.hwaccel === 'cuda' ? ['-hwaccel', 'cuda'] : [];
  return [
    '-nostdin',
    '-hide_banner',
    '-loglevel',
    'error',
    ...input,
    '-probesize',
    '500000',
    '-analyzeduration',
    '1000000',
    ...hw,
    '-threads',
    String(s.decodeThreads ?? 1),
    '-i',
    s.url,
    '-an',
    '-sn',
    '-dn',
    '-filter_threads',
    '1',
    '-vf',
    `fps=${s.fps},scale=${s.width}:${s.height}:flags=fast_bilinear`,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
}
