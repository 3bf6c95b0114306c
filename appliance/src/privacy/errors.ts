// The one error the anonymizer throws. Its message never carries pixels, plate text or file contents.

import { ANONYMIZATION_REASONS, type AnonymizationReason } from '../core/types.js';

export { ANONYMIZATION_REASONS, type AnonymizationReason };

/** The image was withheld: nothing was encoded, nothing may leave the box. */
export class AnonymizationError extends Error {
  override name = 'AnonymizationError';
  constructor(
    readonly reason: AnonymizationReason,
    readonly detail: string,
  ) {
    super(`image withheld (${reason}): ${detail}`);
  }
}

/** Not a failure: one anonymization runs and one waits already; the caller retries later. */
export class AnonymizerBusyError extends Error {
  override name = 'AnonymizerBusyError';
  constructor() {
    super('busy: one anonymization running and one waiting');
  }
}
