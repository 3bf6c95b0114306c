export { CameraStream, redactUrl, safeUrl, type CameraStreamOptions, type CameraStreamStatus } from './camera-stream.js';
export { backoffDelay, type BackoffPolicy } from '../core/backoff.js';
export { FrameAssembler } from './frame-reader.js';
export { ffmpegArgs } from './ffmpeg-args.js';
