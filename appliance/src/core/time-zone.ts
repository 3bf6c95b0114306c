// An IANA time zone the runtime knows, checked once for config validation and for the bins.

/** Why a time zone cannot be used (null: it can). */
export function timeZoneProblem(timeZone: string | undefined): string | null {
  if (timeZone === undefined) return null;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return null;
  } catch {
    return `unknown time zone '${timeZone}' (an IANA name such as Europe/Paris)`;
  }
}
