// The camera health status as the API reports it (TypeBox: validates the response and types it).
import { Type, type Static } from '@sinclair/typebox';
import { DATA_QUALITY_FLAGS, HEALTH_CHECKS, type DataQualityFlag, type HealthCheck } from './types.js';

export const CHECK_STATES = ['unknown', 'ok', 'pending', 'open'] as const;
type CheckStateT = (typeof CHECK_STATES)[number];

// Enums as plain JSON-Schema enums (the API's type provider resolves them to the literal unions).
const enumOf = <T extends string>(values: readonly T[], description?: string) => Type.Unsafe<T>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });

export const HealthStatusSchema = Type.Object({
  enabled: Type.Boolean(),
  reference: Type.Union([Type.Literal('learning'), Type.Literal('ready')], { description: 'learning: the healthy view is being learned (at start, after a confirm or new lines)' }),
  referenceTakenAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  checks: Type.Array(
    Type.Object({
      check: enumOf<HealthCheck>(HEALTH_CHECKS),
      state: enumOf<CheckStateT>(CHECK_STATES, 'unknown = not evaluated now; pending = fault seen, not yet long enough to open'),
      since: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
      measures: Type.Record(Type.String(), Type.Number()),
    }),
  ),
  /** Data-quality flags the intervals of this moment carry. */
  flags: Type.Array(enumOf<DataQualityFlag>(DATA_QUALITY_FLAGS)),
  /** The camera moved: its lines and calibration are suspect until an installer confirms or the scene returns. */
  suspect: Type.Boolean(),
});
export type HealthStatus = Static<typeof HealthStatusSchema>;
export type CheckStatus = HealthStatus['checks'][number];
export type CheckState = (typeof CHECK_STATES)[number];

/** The status of a camera that runs no health checks (a replay). */
export const HEALTH_NOT_MONITORED: HealthStatus = { enabled: false, reference: 'learning', referenceTakenAt: null, checks: [], flags: [], suspect: false };
