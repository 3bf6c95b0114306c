import { Value } from '@sinclair/typebox/value';
import { HealthConfigSchema, type CameraConfig, type HealthConfig } from '../config/schema.js';

/** The camera's health settings with the schema defaults filled (hand-built configs omit them). */
export function healthConfigOf(cam: Pick<CameraConfig, 'health'>): HealthConfig {
  return Value.Default(HealthConfigSchema, structuredClone(cam.health ?? {})) as HealthConfig;
}
