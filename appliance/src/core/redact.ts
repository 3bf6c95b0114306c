// The one place that removes credentials from URLs and from text that may quote them (ffmpeg stderr,
// request URLs). Over-redaction is fine; a leaked character of a password is not.

/** Query parameter names that carry credentials (case-insensitive, also inside longer names: api_key). */
const SECRET_PARAM = /(user|pass|pwd|token|key|auth|secret|cred|sig|session)/i;
/** `name=value` in a query string; the value runs to the next separator. */
const QUERY_PARAM = /([?&;])([^=&;#\s]*)=([^&;#\s]*)/g;
/** scheme://userinfo@ with a userinfo that may hold any character but a line break (ffmpeg takes the last '@'). */
const USERINFO_IN_TEXT = /([a-z][a-z0-9+.-]*:\/\/)[^\s@]*(?:[ \t][^\s@]*)*@/gi;
const MASK = '***';

/** Masks the values of credential-like query parameters (`?token=x` → `?token=***`). */
export function redactQuery(text: string): string {
  return text.replace(QUERY_PARAM, (all, sep: string, name: string) => (SECRET_PARAM.test(safeDecode(name)) ? `${sep}${name}=${MASK}` : all));
}

/**
 * The URL without credentials: the userinfo (everything between `://` and the last '@', whatever
 * characters the password holds) and the values of credential-like query parameters.
 */
export function safeUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)/i.exec(url);
  if (!m) return redactQuery(url);
  // The whole match is the scheme group.
  const rest = url.slice(m[0].length);
  const at = rest.lastIndexOf('@');
  return redactQuery(at >= 0 ? `${m[0]}${MASK}@${rest.slice(at + 1)}` : url);
}

/** The secrets of one URL: its userinfo (with the '@'), user, password and credential query values. */
interface UrlSecrets {
  /** Exact strings to mask wherever they appear. */
  exact: string[];
  /** Strings a cut line may begin inside of (their suffixes are masked at a line start). */
  cuttable: { value: string; before: string }[];
}

function secretsOf(url: string): UrlSecrets {
  const exact: string[] = [];
  const cuttable: { value: string; before: string }[] = [];
  const m = /^([a-z][a-z0-9+.-]*:\/\/)/i.exec(url);
  const rest = m ? url.slice(m[0].length) : url;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    cuttable.push({ value: `${userinfo}@`, before: '://' });
    const colon = userinfo.indexOf(':');
    const parts = colon >= 0 ? [userinfo, userinfo.slice(0, colon), userinfo.slice(colon + 1)] : [userinfo];
    for (const p of parts) exact.push(p, safeDecode(p));
  }
  for (const q of (at >= 0 ? rest.slice(at + 1) : rest).matchAll(QUERY_PARAM)) {
    const [, , name = '', value] = q;
    if (!SECRET_PARAM.test(safeDecode(name)) || !value) continue;
    exact.push(value, safeDecode(value));
    cuttable.push({ value, before: '=' });
  }
  // Longest first, so a password is not half-masked by its own user name; tiny strings would mask
  // ordinary words, and the URL-shaped rules below catch them in place.
  return { exact: [...new Set(exact)].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length), cuttable };
}

/**
 * Text (a log line, ffmpeg's stderr) with every credential of `url` masked: the whole URL, its user,
 * password and credential query values anywhere, any other scheme://user@ and ?token=, and the
 * pieces a line cut in the middle of the URL leaves at its start or end.
 */
export function redactUrl(text: string, url: string): string {
  const s = secretsOf(url);
  let out = text
    .split(url)
    .join(safeUrl(url))
    .split('\n')
    .map((line) => redactCutLine(line, url, s))
    .join('\n');
  for (const e of s.exact) out = out.split(e).join(MASK);
  return redactQuery(out.replace(USERINFO_IN_TEXT, `$1${MASK}@`));
}

/** A line that starts inside a secret (its suffix) or ends inside one (its prefix, after `://` or `=`). */
function redactCutLine(line: string, url: string, s: UrlSecrets): string {
  let out = line;
  for (const { value, before } of s.cuttable) {
    for (let k = 1; k < value.length; k++) {
      const tail = value.slice(k);
      if (out.startsWith(tail)) {
        out = MASK + out.slice(tail.length);
        break;
      }
    }
    for (let j = value.length - 1; j >= 1; j--) {
      const head = before + value.slice(0, j);
      if (out.endsWith(head)) {
        out = out.slice(0, out.length - j) + MASK;
        break;
      }
    }
  }
  // A line that ends inside the URL's own prefix (cut before the '@' arrived).
  const at = url.lastIndexOf('@');
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0];
  if (scheme && at > 0) {
    for (let j = at; j > scheme.length; j--) {
      if (out.endsWith(url.slice(0, j))) return out.slice(0, out.length - j) + scheme + MASK;
    }
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
