// Reads roadside.yaml, applies defaults, validates against the one schema and reports every error.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, type Config } from './schema.js';
import { CountingLine } from '../analytics/counting-line.js';
import { ZoneShape } from '../analytics/zones.js';
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
  issues.push(...sinkTargetIssues(cfg));
  const roots = [baseDir, resolve(baseDir, cfg.storage.dataDir)];
  cfg.cameras.forEach((cam, ci) => {
    if (cam.calibration !== undefined && !roots.some((root) => inside(resolve(baseDir, cam.calibration!), root)))
      issues.push({ path: `/cameras/${ci}/calibration`, message: 'must be a file inside the config folder or storage.dataDir', code: 'ROADSIDE_ERR_PATH_OUTSIDE' });
  });
  return issues;
}

/** Every sink kind (today webhooks and mqtt; any added later too) is checked by its `url`. */
function sinkTargetIssues(cfg: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [kind, list] of Object.entries(cfg.sinks) as [string, { url: string; allowInternalTargets?: boolean }[]][]) {
    list.forEach((sink, i) => {
      const why = sink.allowInternalTargets ? null : forbiddenTarget(sink.url);
      if (why) issues.push({ path: `/sinks/${kind}/${i}/url`, message: `${why}; set allowInternalTargets: true on this sink to allow it`, code: 'ROADSIDE_ERR_SINK_TARGET_FORBIDDEN' });
    });
  }
  return issues;
}

/** `path` is `root` itself or below it (both absolute and normalised). */
function inside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && !path.includes('\0');
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

export function parseConfigText(text: string, source: string, opts: ValidateOptions = {}): Config {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({ path: `line ${e.linePos?.[0].line ?? '?'}`, message: e.message.split('\n')[0] })),
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
