// Reads roadside.yaml, applies defaults, validates against the one schema and reports every error.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, type Config } from './schema.js';
import { laneProblem, lineProblem, zoneProblem } from '../core/geometry-rules.js';
import { timeZoneProblem } from '../core/time-zone.js';
import type { ErrorCode } from '../core/errors.js';
import { forbiddenTarget } from './targets.js';

export interface ConfigIssue {
  /** JSON pointer of the field, e.g. /cameras/0/url */
  path: string;
  message: string;
  /** A specific code for this field (limit, forbidden target, path outside); absent for schema errors. */
  code?: ErrorCode;
}

export interface ValidateOptions {
  /** Folder that relative paths (calibration, storage.dataDir) are resolved against: the config file's. */
  baseDir?: string;
}

export class ConfigError extends Error {
  readonly code = 'ROADSIDE_ERR_CONFIG_INVALID' as const;
  constructor(
    readonly source: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`invalid config ${source}:\n` + issues.map((i) => `  ${i.path || '/'}: ${i.message}${i.code ? ` (${i.code})` : ''}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/** Validates a parsed object (from YAML or an API body). Returns a new object with defaults applied. */
export function validateConfig(raw: unknown, source = 'config', opts: ValidateOptions = {}): Config {
  const withDefaults = Value.Default(ConfigSchema, structuredClone(raw ?? {}));
  const issues: ConfigIssue[] = [...Value.Errors(ConfigSchema, withDefaults)].map((e) => ({ path: e.path, message: e.message }));
  if (issues.length === 0) issues.push(...limitIssues(withDefaults as Config));
  if (issues.length === 0) issues.push(...semanticIssues(withDefaults as Config, resolve(opts.baseDir ?? '.')));
  if (issues.length > 0) throw new ConfigError(source, issues);
  return withDefaults as Config;
}

/** Counts over the configured limits; checked before any geometry is built. */
function limitIssues(cfg: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const l = cfg.limits;
  const over = (n: number, max: number, path: string, what: string, key: keyof typeof l) => {
    if (n > max) issues.push({ path, message: `${n} ${what}, at most ${max} (limits.${key})`, code: 'ROADSIDE_ERR_LIMIT_EXCEEDED' });
  };
  over(cfg.cameras.length, l.maxCameras, '/cameras', 'cameras', 'maxCameras');
  cfg.cameras.forEach((cam, ci) => {
    over(cam.lines.length, l.maxLinesPerCamera, `/cameras/${ci}/lines`, 'lines', 'maxLinesPerCamera');
    over(cam.zones.length, l.maxZonesPerCamera, `/cameras/${ci}/zones`, 'zones', 'maxZonesPerCamera');
    cam.zones.forEach((z, zi) => over(z.polygon.length, l.maxPointsPerPolygon, `/cameras/${ci}/zones/${zi}/polygon`, 'points', 'maxPointsPerPolygon'));
  });
  return issues;
}

/** Rules a JSON schema cannot say: unique ids, non-degenerate geometry, safe sink targets and paths. */
function semanticIssues(cfg: Config, baseDir: string): ConfigIssue[] {
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
    dup((cam.lanes ?? []).map((l) => l.id), `/cameras/${ci}/lanes`);
    (cam.lanes ?? []).forEach((l, li) => {
      const p = laneProblem(l, cam.lines.map((x) => x.id));
      if (p) issues.push({ path: `/cameras/${ci}/lanes/${li}${p.field ? '/' + p.field : ''}`, message: p.message });
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
  issues.push(...sinkTargetIssues(cfg));
  const roots = [baseDir, resolve(baseDir, cfg.storage.dataDir)];
  cfg.cameras.forEach((cam, ci) => {
    if (cam.calibration !== undefined && !roots.some((root) => inside(resolve(baseDir, cam.calibration!), root)))
      issues.push({ path: `/cameras/${ci}/calibration`, message: 'must be a file inside the config folder or storage.dataDir', code: 'ROADSIDE_ERR_PATH_OUTSIDE' });
  });
  return issues;
}

/** nats:// URLs may be host:port lists that URL cannot parse; an '@' before the host is userinfo. */
function hasUserInfo(url: string): boolean {
  const rest = url.replace(/^[a-z]+:\/\//, '');
  return (rest.split('/')[0] ?? '').includes('@');
}

/** Every sink kind (today webhooks and mqtt; any added later too) is checked by its `url`. */
function sinkTargetIssues(cfg: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [kind, list] of Object.entries(cfg.sinks) as [string, { url?: string; servers?: string[]; allowInternalTargets?: boolean }[]][]) {
    list.forEach((sink, i) => {
      if (sink.allowInternalTargets) return;
      // A sink names its target by `url`, or by a list of `servers` (NATS).
      const targets: Array<[string, string]> = sink.url !== undefined ? [[sink.url, `/sinks/${kind}/${i}/url`]] : (sink.servers ?? []).map((u, j) => [u, `/sinks/${kind}/${i}/servers/${j}`]);
      for (const [url, path] of targets) {
        const why = forbiddenTarget(url);
        if (why) issues.push({ path, message: `${why}; set allowInternalTargets: true on this sink to allow it`, code: 'ROADSIDE_ERR_SINK_TARGET_FORBIDDEN' });
      }
    });
  }
  return issues;
}

/** `path` is `root` itself or below it (both absolute and normalised). */
function inside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && !path.includes('\0');
}

export function parseConfigText(text: string, source: string, opts: ValidateOptions = {}): Config {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({ path: `line ${e.linePos?.[0].line ?? '?'}`, message: e.message.split('\n')[0] ?? e.message })),
    );
  }
  return validateConfig(doc.toJS(), source, opts);
}

export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [{ path: '', message: `cannot read file: ${(err as Error).message}` }]);
  }
  return parseConfigText(text, path, { baseDir: dirname(resolve(path)) });
}
