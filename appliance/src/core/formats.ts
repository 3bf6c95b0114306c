// String formats used by our TypeBox schemas. TypeBox's Value.Check knows no formats until they are
// registered; importing this module once registers them for the whole process.
import { FormatRegistry } from '@sinclair/typebox';

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)));
// Absolute URI (RFC 3986 scheme + rest), as CloudEvents `dataschema` requires.
if (!FormatRegistry.Has('uri')) FormatRegistry.Set('uri', (v) => /^[a-z][a-z0-9+.-]*:[^\s]*$/i.test(v) && URL.canParse(v));
