// The running config's identity: a version that only goes up (kept across restarts in the data dir)
// and a content hash (sha256 of the canonical JSON, credentials included, so a changed password is a
// new version too). A fleet tool compares hashes to know which config a box runs; the hash cannot be
// turned back into a credential. Also: the view of the config that may leave the box (credentials out).
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { Config } from './schema.js';

export const REDACTED = '<redacted>';

/** JSON with object keys sorted at every level: the same config always gives the same bytes. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function configHash(cfg: Config): string {
  return sha256(canonicalJson(cfg));
}

/** Per camera, the hash of its section: what a change touched, without keeping old configs. */
export function cameraHashes(cfg: Config): Record<string, string> {
  return Object.fromEntries(cfg.cameras.map((c) => [c.id, sha256(canonicalJson(c))]));
}

export interface ConfigChange {
  added: string[];
  removed: string[];
  changed: string[];
}

export function diffCameras(prev: Record<string, string>, next: Record<string, string>): ConfigChange {
  const ids = (o: Record<string, string>) => Object.keys(o).sort();
  return {
    added: ids(next).filter((id) => !(id in prev)),
    removed: ids(prev).filter((id) => !(id in next)),
    changed: ids(next).filter((id) => id in prev && prev[id] !== next[id]),
  };
}

/** Top-level sections that differ (cameras included), e.g. ['cameras', 'sinks']. */
export function changedSections(prev: Config | null, next: Config): string[] {
  if (!prev) return [];
  const keys = new Set([...Object.keys(prev), ...Object.keys(next)]) as Set<keyof Config>;
  return [...keys].filter((k) => !isDeepStrictEqual(prev[k], next[k])).sort();
}

export interface VersionRecord {
  version: number;
  hash: string;
  appliedAt: string;
  cameras: Record<string, string>;
}

/** The last applied version from disk; null when there is none or it cannot be read (starts over at 1). */
export function readVersionRecord(path: string): VersionRecord | null {
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as Partial<VersionRecord>;
    if (typeof r.version !== 'number' || typeof r.hash !== 'string' || !r.cameras || typeof r.appliedAt !== 'string') return null;
    return r as VersionRecord;
  } catch {
    return null;
  }
}

export function writeVersionRecord(path: string, r: VersionRecord): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(r), { mode: 0o600 });
  renameSync(tmp, path);
}

/** What may leave the box: the config with every credential replaced by REDACTED. */
export function redactConfig(cfg: Config): Config {
  const c = structuredClone(cfg);
  const hide = <T extends object>(o: T, k: keyof T) => {
    if (o[k] !== undefined) (o as Record<keyof T, unknown>)[k] = REDACTED;
  };
  c.cameras.forEach((cam) => (cam.url = redactUrl(cam.url)));
  c.sinks.webhooks.forEach((w) => hide(w, 'secret'));
  c.sinks.mqtt.forEach((m) => hide(m, 'password'));
  c.sinks.nats.forEach((n) => {
    hide(n, 'password');
    hide(n, 'token');
  });
  c.auth.tokens.forEach((t) => (t.sha256 = REDACTED));
  return c;
}

/** A URL's user and password replaced; the rest kept so the installer still sees which camera it is. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, `$1${REDACTED}@`);
}
