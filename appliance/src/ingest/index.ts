export { CameraStream, StderrTail, type CameraStreamOptions, type CameraStreamStatus } from './camera-stream.js';
export { redactUrl, safeUrl } from '../core/redact.js';
export { backoffDelay, type BackoffPolicy } from '../core/backoff.js';
export { FrameAssembler } from './frame-reader.js';
export { ffmpegArgs } from './ffmpeg-args.js';
export { RtspFrameSource, type RtspSourceOptions } from './rtsp-source.js';
export { ClipFrameSource, REPLAY_EPOCH_MS, type ClipSourceOptions } from './clip-source.js';
export { RecordedFrameSource } from './recorded-source.js';
export { ConnectGate } from './connect-gate.js';
