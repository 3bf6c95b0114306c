// Request and response schemas of the camera routes (TypeBox: they validate and they type).
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CE_ATTRIBUTE_NAME, CloudEventBody } from '../events/cloudevent.js';
import { CameraSchema, Id } from '../config/schema.js';
import { CameraStatusSchema } from '../core/camera-status.js';
import { ERROR_CODE_LIST, type ErrorCode } from '../core/errors.js';
import { PointPairSchema } from '../../../calibration/file.js';
import { HealthStatusSchema } from '../core/health-status.js';

export const CameraIdParams = Type.Object({ id: Id });
export type CameraIdParams = Static<typeof CameraIdParams>;

// Shared schemas: registered once with fastify (addSchema, by $id), referenced by routes with $ref, and
// published by the OpenAPI document under components.schemas.
export const ErrorBodySchema = Type.Object(
  {
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
  },
  { $id: 'ErrorBody', title: 'ErrorBody', description: 'Every API error: a stable code, a message, and the failing fields' },
);
export const CloudEventSchema = Type.Object(
  { ...CloudEventBody.properties },
  {
    $id: 'CloudEvent',
    title: 'CloudEvent',
    description: 'CloudEvents 1.0 structured envelope; `data` follows the schema named by `dataschema`; extension attributes allowed',
    additionalProperties: true,
    propertyNames: { pattern: CE_ATTRIBUTE_NAME },
  },
);
export const DatexPayloadSchema = Type.Object(
  { payload: Type.Object({ modelBaseVersionG: Type.Literal('3') }, { additionalProperties: true }) },
  { $id: 'DatexPayload', title: 'DatexPayload', description: 'DATEX II v3 D2Payload (JSON): valid against the official v3 JSON schemas (docs/datex2.md)', additionalProperties: false },
);
export const SHARED_SCHEMAS = [ErrorBodySchema, CloudEventSchema, DatexPayloadSchema];

const ref = <T extends TSchema>(s: T) => Type.Unsafe<Static<T>>({ $ref: `${s.$id}#` });
export const ErrorBody = ref(ErrorBodySchema);
export const CloudEventRef = ref(CloudEventSchema);
export const DatexPayloadRef = ref(DatexPayloadSchema);
/** A JSON Schema document (the published event schemas). */
export const JsonSchemaDoc = Type.Object({}, { additionalProperties: true });

export const CameraStatusBody = Type.Object({ ...CameraStatusSchema.properties, enabled: Type.Boolean() });
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

export const HealthConfirmBody = Type.Object({ cameraId: Type.String(), health: HealthStatusSchema });
