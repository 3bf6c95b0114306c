// Where a sink may send events. A config that points a sink at the cloud metadata service (or any
// link-local address) would hand instance credentials to whoever reads the sink's responses or logs.
import ipaddr from 'ipaddr.js';

/** Metadata services that do not sit in a link-local range, by address. */
const METADATA_ADDRESSES = ['100.100.100.200', 'fd00:ec2::254', '192.0.0.192'];
/** ...and by name (compared lower-case, without a trailing dot). */
const METADATA_HOSTS = ['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal', 'metadata.azure.com', 'metadata.tencentyun.com'];
/** ipaddr.js ranges refused: link-local (169.254.0.0/16, fe80::/10) and the unspecified address. */
const FORBIDDEN_RANGES = new Set(['linkLocal', 'unspecified']);

/** Why a sink URL's host is refused, or null when it may be used. Loopback and private LANs are fine. */
export function forbiddenTarget(url: string): string | null {
  let host: string;
  try {
    host = hostOf(url);
  } catch {
    return null; // not a URL: the schema's pattern reports it
  }
  if (METADATA_HOSTS.includes(host)) return `'${host}' is a cloud metadata service`;
  const addr = parseAddress(host);
  if (!addr) return null;
  const range = addr.range();
  if (FORBIDDEN_RANGES.has(range)) return `${addr.toString()} is a ${range === 'linkLocal' ? 'link-local' : 'unspecified'} address`;
  if (METADATA_ADDRESSES.some((m) => ipaddr.parse(m).toString() === addr.toString())) return `${addr.toString()} is a cloud metadata service`;
  return null;
}

/** The host as the client library will connect to it: lower-case, no brackets, no trailing dot. */
function hostOf(url: string): string {
  const u = new URL(url);
  let host = u.hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.+$/, '');
  // Non-special schemes (mqtt://) keep hex or short IPv4 forms as written; reparse them as http would.
  if (!/^https?:$/.test(u.protocol) && !host.includes(':')) host = new URL(`http://${host}/`).hostname;
  return host;
}

/** An address (IPv4-mapped IPv6 unwrapped), or null for a DNS name. */
function parseAddress(host: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (!ipaddr.isValid(host)) return null;
  const a = ipaddr.parse(host);
  return a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress() ? (a as ipaddr.IPv6).toIPv4Address() : a;
}
