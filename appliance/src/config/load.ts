// Reads roadside.yaml, applies defaults, validates against the one schema and reports every error.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, type Config } from './schema.js';
import { lineProblem, zoneProblem } from '../core/geometry-rules.js';
import { timeZoneProblem } from '../core/time-zone.js';

export interface ConfigIssue {
  /** JSON pointer of the field, e.g. /cameras/0/url */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly code = 'ROADSIDE_ERR_CONFIG_INVALID' as const;
  constructor(
    readonly source: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`invalid config ${source}:\n` + issues.map((i) => `  ${i.path || '/'}: ${i.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/** Validates a parsed object (from YAML or an API body). Returns a new object with defaults applied. */
export function validateConfig(raw: unknown, source = 'config'): Config {
  const withDefaults = Value.Default(ConfigSchema, structuredClone(raw ?? {}));
  const issues: ConfigIssue[] = [...Value.Errors(ConfigSchema, withDefaults)].map((e) => ({ path: e.path, message: e.message }));
  if (issues.length === 0) issues.push(...semanticIssues(withDefaults as Config));
  if (issues.length > 0) throw new ConfigError(source, issues);
  return withDefaults as Config;
}

/** Rules a JSON schema cannot say: unique ids, non-degenerate geometry. */
function semanticIssues(cfg: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const dup = (ids: string[], path: string) => {
    const seen = new Set<string>();
    ids.forEach((id, i) => {
      if (seen.has(id)) issues.push({ path: `${path}/${i}/id`, message: `duplicate id '${id}'` });
      seen.add(id);
    });
  };
  dup(cfg.cameras.map((c) => c.id), '/cameras');
  dup(cfg.sinks.webhooks.map((s) => s.id), '/sinks/webhooks');
  dup(cfg.sinks.mqtt.map((s) => s.id), '/sinks/mqtt');
  dup(cfg.sinks.nats.map((s) => s.id), '/sinks/nats');
  cfg.cameras.forEach((cam, ci) => {
    dup(cam.lines.map((l) => l.id), `/cameras/${ci}/lines`);
    dup(cam.zones.map((z) => z.id), `/cameras/${ci}/zones`);
    // The same predicates the analytics enforce (core/geometry-rules.ts), reported by field.
    cam.lines.forEach((l, li) => {
      const p = lineProblem(l);
      if (p) issues.push({ path: `/cameras/${ci}/lines/${li}${p.field ? '/' + p.field : ''}`, message: p.message });
    });
    cam.zones.forEach((z, zi) => {
      const p = zoneProblem(z);
      if (p) issues.push({ path: `/cameras/${ci}/zones/${zi}${p.field ? '/' + p.field : ''}`, message: p.message });
    });
  });
  // An unknown zone must not silently mean UTC: the bins would be misaligned for good.
  const tz = timeZoneProblem(cfg.analytics.timeZone);
  if (tz) issues.push({ path: '/analytics/timeZone', message: tz });
  cfg.sinks.webhooks.forEach((w, i) => {
    const u = new URL(w.url);
    if (u.username || u.password) issues.push({ path: `/sinks/webhooks/${i}/url`, message: 'credentials in the URL are not supported (use secret for the HMAC signature)' });
  });
  cfg.sinks.nats.forEach((n, i) => {
    n.servers.forEach((url, j) => {
      if (hasUserInfo(url)) issues.push({ path: `/sinks/nats/${i}/servers/${j}`, message: 'credentials in the URL are not supported (use user/password, token or credsFile)' });
    });
    const ways = [n.user !== undefined, n.token !== undefined, n.credsFile !== undefined].filter(Boolean).length;
    if (ways > 1) issues.push({ path: `/sinks/nats/${i}`, message: 'use one of user/password, token or credsFile' });
    if (n.password !== undefined && n.user === undefined) issues.push({ path: `/sinks/nats/${i}/password`, message: 'password needs user' });
  });
  return issues;
}

/** nats:// URLs may be host:port lists that URL cannot parse; an '@' before the host is userinfo. */
function hasUserInfo(url: string): boolean {
  const rest = url.replace(/^[a-z]+:\/\//, '');
  return (rest.split('/')[0] ?? '').includes('@');
}

export function parseConfigText(text: string, source: string): Config {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({ path: `line ${e.linePos?.[0].line ?? '?'}`, message: e.message.split('\n')[0] })),
    );
  }
  return validateConfig(doc.toJS(), source);
}

export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [{ path: '', message: `cannot read file: ${(err as Error).message}` }]);
  }
  return parseConfigText(text, path);
}
