// The catalogue of stable error codes. Every error body of the API and every refusal of a config
// carries one of these codes besides its human message; clients and tests match the code, never the text.
// Documented in docs/errors.md (a test checks that every code here is documented there).

export const ERROR_CODES = {
  ROADSIDE_ERR_REQUEST_INVALID: 'a request body, parameter or query failed its schema',
  ROADSIDE_ERR_CONFIG_INVALID: 'a config (file or API change) failed validation; issues name each field',
  ROADSIDE_ERR_LIMIT_EXCEEDED: 'a config field holds more than its limit (limits.*: cameras, lines, zones, polygon points); the issue names the field',
  ROADSIDE_ERR_SINK_TARGET_FORBIDDEN: 'a sink URL points at a link-local or cloud-metadata address; set allowInternalTargets on that sink to allow it',
  ROADSIDE_ERR_PATH_OUTSIDE: 'a path in the config (camera calibration) leaves the config or data folder it is resolved against',
  ROADSIDE_ERR_CONFIG_SAVE_FAILED: 'a valid config could not be saved or applied; the running config is unchanged',
  ROADSIDE_ERR_AUTH_REQUIRED: 'no token, or a token that matches none',
  ROADSIDE_ERR_FORBIDDEN: "the token's role may not use this route",
  ROADSIDE_ERR_RATE_LIMITED: 'too many failed authentications from this address; retry after the Retry-After seconds',
  ROADSIDE_ERR_NOT_FOUND: 'no such route, camera, event type or resource',
  ROADSIDE_ERR_CONFLICT: 'the request contradicts itself or the current state (e.g. body id differs from the URL id)',
  ROADSIDE_ERR_CURSOR_INVALID: 'an event cursor that this outbox never issued',
  ROADSIDE_ERR_BUSY: 'the resource is busy (another snapshot, too many live streams); retry after Retry-After',
  ROADSIDE_ERR_NO_FRAME: 'the camera has not analysed a frame yet (or, for the health reference image, is still learning its reference)',
  ROADSIDE_ERR_IMAGE_WITHHELD: 'the anonymizer could not guarantee masking (model missing, failed, timed out): no image leaves',
  ROADSIDE_ERR_NOT_CALIBRATED: 'the camera has no calibration',
  ROADSIDE_ERR_CALIBRATION_INVALID: 'the calibration points are degenerate or inconsistent',
  ROADSIDE_ERR_MODEL_MISSING: 'a model file is missing, or its checksum differs from the manifest',
  ROADSIDE_ERR_DISK_FULL: 'the outbox could not write (disk full or read-only); nothing stored is lost',
  ROADSIDE_ERR_STREAM_LOST: 'the camera stream ended, stalled or could not be opened',
  ROADSIDE_ERR_INTERNAL: 'an unexpected error; the message is generic, details are in the log',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as ErrorCode[];

export interface ErrorIssue {
  path: string;
  message: string;
  /** A more specific code for this field, where there is one (the body's code stays the general one). */
  code?: ErrorCode;
}

/** The body of every API error response. */
export interface ErrorResponse {
  code: ErrorCode;
  error: string;
  issues?: ErrorIssue[];
}

export function errorBody(code: ErrorCode, error: string, issues?: ErrorIssue[]): ErrorResponse {
  return issues ? { code, error, issues } : { code, error };
}

/** An error that knows its stable code (thrown by stages; the API maps it to a response). */
export class RoadsideError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RoadsideError';
  }
}
