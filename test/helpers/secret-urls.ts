// Camera URLs with credentials in every awkward place, for the redaction tests. Each secret carries a
// marker that must never appear in any output (API body, log, metric, event); `safe` is what the API shows.

/** Markers of the secrets: no output may contain them. */
export const MARKERS = ['QXUSR', 'QXPWD', 'QXQRY'] as const;

export interface SecretUrl {
  what: string;
  /** `HOST` stands for host:port, filled in by `url()`. */
  template: string;
  safe: string;
}

export const SECRET_URLS: SecretUrl[] = [
  { what: 'plain user:password', template: 'rtsp://QXUSR1:QXPWD1@HOST/s1', safe: 'rtsp://***@HOST/s1' },
  { what: 'space in the password', template: 'rtsp://QXUSR2:QX PWDSEC2 x@HOST/s2', safe: 'rtsp://***@HOST/s2' },
  { what: 'tab in the password', template: 'rtsp://QXUSR3:QX\tPWDSEC3@HOST/s3', safe: 'rtsp://***@HOST/s3' },
  { what: "'/' in the password", template: 'rtsp://QXUSR4:QXP/WD4/QXPWD4@HOST/s4', safe: 'rtsp://***@HOST/s4' },
  { what: "'@' in the password", template: 'rtsp://QXUSR5:QX@PWDSEC5@QXPWD5@HOST/s5', safe: 'rtsp://***@HOST/s5' },
  { what: "':' in user and password", template: 'rtsp://QX:USRSEC6:QXP:WD6:QXPWD6@HOST/s6', safe: 'rtsp://***@HOST/s6' },
  { what: "'#' and '?' in the password", template: 'rtsp://QXUSR7:QX#PWDSEC7?QXPWD7@HOST/s7', safe: 'rtsp://***@HOST/s7' },
  { what: 'percent-encoded password', template: 'rtsp://QXUSR8:QXPWD8%40%2F%20%3A@HOST/s8', safe: 'rtsp://***@HOST/s8' },
  { what: 'user and password in the query', template: 'rtsp://HOST/s9?user=QXUSR9&password=QXPWD9&channel=1', safe: 'rtsp://HOST/s9?user=***&password=***&channel=1' },
  { what: 'mixed-case credential parameters', template: 'rtsp://HOST/s10?Username=QXUSR10&PWD=QXPWD10&Token=QXQRY10&api_key=QXQRY10k&AUTH=QXQRY10a&Secret=QXQRY10s', safe: 'rtsp://HOST/s10?Username=***&PWD=***&Token=***&api_key=***&AUTH=***&Secret=***' },
  { what: 'both userinfo and query credentials', template: 'rtsps://QXUSR11:QXPWD11@HOST/s11?pass=QXQRY11&key=QXQRY11k', safe: 'rtsps://***@HOST/s11?pass=***&key=***' },
];

export const fill = (s: string, host: string) => s.split('HOST').join(host);

/**
 * The markers found in `text`. They are long enough (5-6 characters) that a ULID, a cursor or a hash
 * does not hold one by chance; pieces of a password split by an awkward character carry PWDSEC/USRSEC.
 */
export function leaks(text: string): string[] {
  return [...MARKERS, 'PWDSEC', 'USRSEC'].filter((m) => text.includes(m));
}

/** Fails with the context of the first leak, if any. */
export function assertNoLeaks(text: string, where: string): void {
  const found = leaks(text);
  if (found.length === 0) return;
  const i = text.indexOf(found[0]!);
  throw new Error(`${where} leaks ${found.join(', ')}: …${text.slice(Math.max(0, i - 200), i + 80)}…`);
}
