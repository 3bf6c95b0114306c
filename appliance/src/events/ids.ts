// Event ids: ULIDs (26 chars, Crockford base32, 48-bit ms time + 80 random bits). They sort by creation
// time as plain strings, are unique across restarts and boxes, and are monotonic within one process
// (same millisecond → random part + 1), so the order of ids matches the order they were made in.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function encodeTime(ms: number): string {
  let out = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

/** 80 random bits as 16 base32 digits, kept as digits so "+1" is simple. */
function randomDigits(): number[] {
  const b = randomBytes(16);
  return Array.from(b, (x) => x % 32);
}

export class UlidGenerator {
  private lastMs = -1;
  private digits: number[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  next(): string {
    let ms = this.now();
    if (ms <= this.lastMs) {
      // Same (or earlier: clock stepped back) millisecond: keep the last time and increment.
      ms = this.lastMs;
      let i = this.digits.length - 1;
      while (i >= 0 && this.digits[i] === 31) this.digits[i--] = 0;
      if (i < 0) throw new Error('ULID random part overflowed within one millisecond');
      this.digits[i]!++; // 0 ≤ i < digits.length
    } else {
      this.lastMs = ms;
      this.digits = randomDigits();
      this.digits[0]! &= 0x0f; // leave head room so increments never overflow in practice
    }
    return encodeTime(ms) + this.digits.map((d) => ALPHABET[d]).join('');
  }
}

const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** The ms timestamp of a ULID, or null for anything else. */
export function ulidTime(id: string): number | null {
  if (!ULID_RE.test(id)) return null;
  let t = 0;
  for (const ch of id.slice(0, 10)) t = t * 32 + ALPHABET.indexOf(ch);
  return t;
}

export const defaultIds = new UlidGenerator();
