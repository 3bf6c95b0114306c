// The error catalogue: every code is documented, and error responses of the API carry one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODE_LIST } from '../appliance/src/core/errors.js';

test('every error code in the catalogue is documented in docs/errors.md', () => {
  const doc = readFileSync('docs/errors.md', 'utf8');
  const missing = ERROR_CODE_LIST.filter((c) => !doc.includes('`' + c + '`'));
  assert.deepEqual(missing, []);
  assert.ok(ERROR_CODE_LIST.length >= 10);
});
