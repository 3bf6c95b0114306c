// Finding a camera for a route: in the config (404 when absent) and its status body.
import type { CameraConfig } from '../config/schema.js';
import { safeUrl } from '../core/redact.js';
import type { CameraManager } from '../pipeline/camera-manager.js';
import { errorBody, type ErrorResponse } from '../core/errors.js';
import { httpError } from './errors.js';
import type { CameraStatusBody } from './schemas.js';

/** The camera of that id in `cameras`, or a 404 thrown. */
export function cameraOr404(id: string, cameras: readonly CameraConfig[]): CameraConfig {
  const cam = cameras.find((c) => c.id === id);
  if (!cam) throw httpError(404, `no camera '${id}'`, 'ROADSIDE_ERR_NOT_FOUND');
  return cam;
}

/** The 404 body of a route that needs the camera's running pipeline (snapshot, health). */
export function noRunningCamera(id: string): ErrorResponse {
  return errorBody('ROADSIDE_ERR_NOT_FOUND', `no running camera '${id}'`);
}

/** The status of a configured camera: its pipeline's while it runs, a stopped one otherwise. */
export function cameraStatus(cam: CameraConfig, cameras: Pick<CameraManager, 'get'>): CameraStatusBody {
  const p = cameras.get(cam.id);
  if (p) return { ...p.status(), enabled: true };
  return {
    id: cam.id,
    name: cam.name ?? null,
    url: safeUrl(cam.url),
    enabled: cam.enabled,
    state: 'stopped',
    stateSince: null,
    reason: cam.enabled ? 'not started' : 'disabled in config',
    fps: 0,
    restarts: 0,
    framesDecoded: 0,
    framesAnalysed: 0,
    framesDropped: 0,
    lastFrameAt: null,
    calibrated: false,
    width: cam.width,
    height: cam.height,
    health: { enabled: cam.health?.enabled ?? true, reference: 'learning' as const, referenceTakenAt: null, checks: [], flags: [], suspect: false },
  };
}
