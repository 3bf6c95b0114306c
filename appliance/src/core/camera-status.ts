// The status of one running camera: what the pipeline reports and the API returns (one schema).
import { Type, type Static } from '@sinclair/typebox';
import { CAMERA_STATES } from './types.js';
import { literalUnion } from './schema-util.js';
import { HealthStatusSchema } from './health-status.js';

export const CameraStatusSchema = Type.Object({
  id: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  url: Type.String({ description: 'credentials removed' }),
  state: literalUnion(CAMERA_STATES),
  stateSince: Type.Union([Type.String(), Type.Null()]),
  reason: Type.String(),
  fps: Type.Number(),
  restarts: Type.Integer(),
  framesDecoded: Type.Integer(),
  framesAnalysed: Type.Integer(),
  framesDropped: Type.Integer(),
  lastFrameAt: Type.Union([Type.String(), Type.Null()]),
  calibrated: Type.Boolean(),
  width: Type.Integer(),
  height: Type.Integer(),
  /** Picture health: checks, reference, data-quality flags; `suspect` = lines and calibration may no longer fit. */
  health: HealthStatusSchema,
  /** Capture → analysis of the last analysed frame, seconds (null before the first). */
  lagSeconds: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  /** The box cannot hold this camera's configured fps: over 10 % of its frames dropped, or its analysis behind the camera. */
  overloaded: Type.Optional(Type.Boolean()),
});
export type CameraStatus = Static<typeof CameraStatusSchema>;
