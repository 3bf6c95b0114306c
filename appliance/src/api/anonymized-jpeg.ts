// The only way image bytes leave the box: a raw frame anonymized to JPEG, fail closed. Every refusal
// of the anonymizer is answered here with its code.
import type { FastifyReply } from 'fastify';
import { errorBody } from '../core/errors.js';
import type { Detection, RgbImage } from '../core/types.js';
import { AnonymizationError, AnonymizerBusyError, type Anonymizer } from '../privacy/index.js';

/**
 * The anonymized JPEG of `frame`, or null once the reply has been sent as a 503 (anonymizer not loaded,
 * busy: one job in its worker and one waiting, or failed). Other errors are thrown.
 */
export async function anonymizedJpeg(
  anonymizer: Anonymizer | null,
  reply: FastifyReply,
  frame: RgbImage,
  detections: readonly Detection[],
): Promise<{ jpeg: Buffer; maskedShare: number } | null> {
  if (!anonymizer) {
    await reply.code(503).send(errorBody('ROADSIDE_ERR_IMAGE_WITHHELD', 'image withheld: anonymizer not loaded'));
    return null;
  }
  try {
    // The worker gets its own copy; inline blurring is in place, and the pipeline may still read this frame.
    const { width, height, data } = frame;
    return await anonymizer.anonymize({ width, height, data: anonymizer.blursInPlace ? Buffer.from(data) : data }, detections);
  } catch (err) {
    if (err instanceof AnonymizerBusyError) {
      await reply.code(503).header('retry-after', '1').send(errorBody('ROADSIDE_ERR_BUSY', 'busy with other snapshots, retry in a second'));
      return null;
    }
    if (err instanceof AnonymizationError) {
      await reply.code(503).send(errorBody('ROADSIDE_ERR_IMAGE_WITHHELD', `image withheld: ${err.reason}`));
      return null;
    }
    throw err;
  }
}
