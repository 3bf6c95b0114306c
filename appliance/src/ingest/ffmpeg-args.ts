export interface DecodeSpec {
  url: string;
  fps: number;
  width: number;
  height: number;
  /** Socket I/O timeout: ffmpeg gives up on a dead TCP connection after this long. */
  socketTimeoutMs: number;
}

/** ffmpeg command line: RTSP over TCP, fps + fast scaling in one filter chain, rgb24 frames on stdout. */
export function ffmpegArgs(s: DecodeSpec): string[] {
  const input = s.url.startsWith('rtsp') ? ['-rtsp_transport', 'tcp', '-timeout', String(s.socketTimeoutMs * 1000)] : [];
  return [
    '-nostdin',
    '-hide_banner',
    '-loglevel',
    'error',
    ...input,
    '-i',
    s.url,
    '-an',
    '-sn',
    '-vf',
    `fps=${s.fps},scale=${s.width}:${s.height}:flags=fast_bilinear`,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
}
