export { CameraHealthMonitor, HEALTH_FLAG, coveredFraction } from './monitor.js';
export { HealthStatusSchema, CHECK_STATES, type HealthStatus, type CheckStatus, type CheckState } from '../core/health-status.js';
export { ReferenceStore, type HealthReference } from './reference.js';
export { greySample, laplacianVariance, edgeMap } from './image-stats.js';
export { estimateShift } from './registration.js';
export { healthConfigOf } from './config.js';
