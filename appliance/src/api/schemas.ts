// Request and response schemas of the camera routes (TypeBox: they validate and they type).
import { Type, type Static } from '@sinclair/typebox';
import { CameraSchema } from '../config/schema.js';
import { ERROR_CODE_LIST, type ErrorCode } from '../core/errors.js';
import { PointPairSchema } from '../../../calibration/file.js';

export const CameraIdParams = Type.Object({ id: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }) });
export type CameraIdParams = Static<typeof CameraIdParams>;

export const ErrorBody = Type.Object({
  code: Type.Unsafe<ErrorCode>({ type: 'string', enum: ERROR_CODE_LIST, description: 'stable error code (docs/errors.md)' }),
  error: Type.String(),
  issues: Type.Optional(
    Type.Array(
      Type.Object({
        path: Type.String(),
        message: Type.String(),
        code: Type.Optional(Type.Unsafe<ErrorCode>({ type: 'string', enum: ERROR_CODE_LIST, description: 'a more specific code for this field' })),
      }),
    ),
  ),
});

export const CameraStatusBody = Type.Object({
  id: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  url: Type.String({ description: 'credentials removed' }),
  enabled: Type.Boolean(),
  state: Type.String(),
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
});
export type CameraStatusBody = Static<typeof CameraStatusBody>;

export const CameraListBody = Type.Object({ cameras: Type.Array(CameraStatusBody) });

/** The camera's config as an installer edits it. */
export const CameraBody = CameraSchema;

export const CalibrationRequest = Type.Object(
  {
    /** Size of the image the points were picked on (the snapshot). */
    imageSize: Type.Object({ width: Type.Integer({ minimum: 1 }), height: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
    points: Type.Array(PointPairSchema, { minItems: 4, maxItems: 64 }),
  },
  { additionalProperties: false },
);
export type CalibrationRequest = Static<typeof CalibrationRequest>;

export const CalibrationResult = Type.Object({
  cameraId: Type.String(),
  file: Type.String(),
  errors: Type.Object({ rmsM: Type.Number(), maxM: Type.Number(), rmsPx: Type.Number(), maxPx: Type.Number() }),
});
