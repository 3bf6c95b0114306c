// Structured JSON logs (pino). Every camera-scoped line carries `camera`; secrets are redacted by key.
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'token',
  'secret',
  'password',
  '*.secret',
  '*.password',
  '*.token',
];

export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = opts.level ?? process.env.LOG_LEVEL ?? 'info';
  const base = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'roadside' } };
  return opts.destination ? pino(base, opts.destination as pino.DestinationStream) : pino(base);
}

/** Child logger for one camera: every line it writes names the camera. */
export function cameraLogger(log: Logger, cameraId: string): Logger {
  return log.child({ camera: cameraId });
}
