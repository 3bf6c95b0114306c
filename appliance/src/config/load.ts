// Reads roadside.yaml, applies defaults, validates against the one schema and reports every error.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, type Config } from './schema.js';
import { CountingLine } from '../analytics/counting-line.js';
import { ZoneShape } from '../analytics/zones.js';

export interface ConfigIssue {
  /** JSON pointer of the field, e.g. /cameras/0/url */
  path: string;
  message: string;
}

export class ConfigError extends Error {
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
    cam.lines.forEach((l, li) => {
      if (Math.hypot(l.to.x - l.from.x, l.to.y - l.from.y) < 0.01)
        issues.push({ path: `/cameras/${ci}/lines/${li}`, message: 'line is too short (from and to closer than 0.01)' });
      else if (l.direction && Math.hypot(l.direction.x, l.direction.y) === 0)
        issues.push({ path: `/cameras/${ci}/lines/${li}/direction`, message: 'direction must not be the zero vector' });
      // The analytics objects are the authority on what geometry they accept: build them here.
      else issues.push(...built(() => new CountingLine(l), `/cameras/${ci}/lines/${li}/direction`));
    });
    cam.zones.forEach((z, zi) => {
      if (Math.abs(polygonArea(z.polygon)) < 1e-4) issues.push({ path: `/cameras/${ci}/zones/${zi}/polygon`, message: 'polygon has no area' });
      else issues.push(...built(() => new ZoneShape(z), `/cameras/${ci}/zones/${zi}/laneDirection`));
    });
  });
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
  return rest.split('/')[0].includes('@');
}

function built(make: () => unknown, path: string): ConfigIssue[] {
  try {
    make();
    return [];
  } catch (err) {
    return [{ path, message: (err as Error).message }];
  }
}

function polygonArea(p: { x: number; y: number }[]): number {
  let a = 0;
  for (let i = 0; i < p.length; i++) {
    const q = p[(i + 1) % p.length];
    a += p[i].x * q.y - q.x * p[i].y;
  }
  return a / 2;
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
