// The official DATEX II v3 JSON schemas (../shared/standards/datex2-v3-json, draft-04) loaded ALL into
// one ajv instance, as their README says: files reference each other by file name. validateD2Payload()
// checks a whole served document (the D2Payload wrapper) and returns ajv's errors (empty = valid).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ajvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { SHARED } from './paths.js';

export const DATEX_DIR = join(SHARED, 'standards/datex2-v3-json');

// CommonJS packages: under ESM their class/plugin is the namespace's default.
const Ajv04 = ajvDraft04.default;
const addFormats = ajvFormats.default;

let cached: ValidateFunction | null = null;

function validator(): ValidateFunction {
  if (cached) return cached;
  const ajv = new Ajv04({ allErrors: true, strict: false });
  addFormats(ajv);
  const files = readdirSync(DATEX_DIR).filter((f) => f.endsWith('.json'));
  if (files.length < 10) throw new Error(`DATEX schemas missing in ${DATEX_DIR}`);
  for (const f of files) ajv.addSchema(JSON.parse(readFileSync(join(DATEX_DIR, f), 'utf8')) as object, f);
  cached = ajv.getSchema('DATEXII_3_D2Payload.json') ?? null;
  if (!cached) throw new Error('DATEXII_3_D2Payload.json did not compile');
  return cached;
}

/** ajv errors of one document against the D2Payload schema (every file loaded); [] when valid. */
export function validateD2Payload(doc: unknown): ErrorObject[] {
  const v = validator();
  return v(doc) ? [] : [...(v.errors ?? [])];
}

/** Short text of the first errors, for assertion messages. */
export function explain(errors: ErrorObject[], max = 5): string {
  return errors
    .slice(0, max)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
    .join('\n');
}
