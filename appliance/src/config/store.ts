// The running config: the last good one. A change (file reload or API) is validated whole before it
// replaces anything; an invalid one is refused with every issue and the old one stays in force.
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { stringify } from 'yaml';
import { loadConfigFile, validateConfig } from './load.js';
import type { Config } from './schema.js';
import type { ConfigAppliedData } from '../core/event-data.js';
import { cameraHashes, changedSections, configHash, diffCameras, readVersionRecord, writeVersionRecord, type VersionRecord } from './version.js';
import { removeStaleTempFiles } from '../core/leftovers.js';

export type ApplyFn = (next: Config, prev: Config) => Promise<void>;

export interface ConfigStoreOptions {
  /** File that keeps the version across restarts (in the data dir); null keeps it in memory only. */
  versionPath?: string | null;
  /** Called after every applied change with a new hash (and at start when the config is new). */
  onApplied?: (change: ConfigAppliedData) => void;
}

/** A valid config that could not be applied or saved; the previous one is back in force. */
export class ConfigCommitError extends Error {
  override name = 'ConfigCommitError';
  readonly statusCode = 500;
  /** The message names the cause (read-only file system, a camera that failed): safe to show. */
  readonly expose = true;
}

export class ConfigStore {
  private current: Config;
  private queue: Promise<unknown> = Promise.resolve();
  private record: VersionRecord;
  private startChange: ConfigAppliedData | null = null;

  constructor(
    initial: Config,
    /** YAML file the config came from and is saved back to; null keeps changes in memory only. */
    readonly path: string | null,
    private readonly apply: ApplyFn,
    private readonly opts: ConfigStoreOptions = {},
  ) {
    this.current = initial;
    const last = opts.versionPath ? readVersionRecord(opts.versionPath) : null;
    const hash = configHash(initial);
    if (last && last.hash === hash) this.record = last;
    else {
      this.record = this.nextRecord(initial, last?.version ?? 0);
      this.startChange = { ...this.changeOf(last, initial, null), source: 'start' };
      this.persist();
    }
    // A save killed mid-write (kill -9) leaves its temp file, with camera credentials in it.
    this.removedTempFiles = path ? removeStaleTempFiles(path) : [];
  }

  /** Stale `<file>.tmp-<pid>` files removed at start-up (for the log). */
  readonly removedTempFiles: string[];

  get(): Config {
    return this.current;
  }

  /** Version, content hash and when it was applied (the hash includes credentials; it reveals none). */
  get version(): { version: number; hash: string; appliedAt: string } {
    const { version, hash, appliedAt } = this.record;
    return { version, hash, appliedAt };
  }

  /** Reports the start-up change (a config the box had not run before), once. */
  announceStart(): void {
    const c = this.startChange;
    this.startChange = null;
    if (c) this.opts.onApplied?.(c);
  }

  private nextRecord(cfg: Config, after: number): VersionRecord {
    return { version: after + 1, hash: configHash(cfg), appliedAt: new Date().toISOString(), cameras: cameraHashes(cfg) };
  }

  private changeOf(prev: VersionRecord | null, next: Config, prevConfig: Config | null): Omit<ConfigAppliedData, 'source'> {
    return {
      version: this.record.version,
      hash: this.record.hash,
      previousHash: prev?.hash ?? null,
      cameras: diffCameras(prev?.cameras ?? {}, this.record.cameras),
      sections: changedSections(prevConfig, next),
    };
  }

  /** A new running config: a new version when its content differs, reported to onApplied. */
  private bump(prevConfig: Config, next: Config, source: ConfigAppliedData['source']): void {
    if (configHash(next) === this.record.hash) return;
    const prev = this.record;
    this.record = this.nextRecord(next, prev.version);
    this.persist();
    this.opts.onApplied?.({ ...this.changeOf(prev, next, prevConfig), source });
  }

  private persist(): void {
    if (!this.opts.versionPath) return;
    try {
      writeVersionRecord(this.opts.versionPath, this.record);
    } catch {
      // The version still goes up in memory; a box that cannot write its data dir has louder alarms.
    }
  }

  /** Validates the result of `change(current copy)`, saves it, applies it. Serialised. Throws ConfigError. */
  update(change: (draft: Config) => unknown): Promise<Config> {
    const run = this.queue.then(async () => {
      const draft = structuredClone(this.current);
      change(draft);
      const next = validateConfig(draft, 'change', { baseDir: this.path ? dirname(resolve(this.path)) : undefined });
      await this.commit(next);
      return next;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Re-reads the file (SIGHUP). On error the running config stays and the error is thrown. */
  reload(): Promise<Config> {
    const run = this.queue.then(async () => {
      if (!this.path) return this.current;
      const next = loadConfigFile(this.path);
      await this.applyOrRollBack(next);
      const prev = this.current;
      this.current = next;
      this.bump(prev, next, 'reload');
      return next;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Applies first, saves second: a file that could not be applied is never written. */
  private async commit(next: Config): Promise<void> {
    await this.applyOrRollBack(next);
    if (this.path) {
      try {
        // Atomic replace: a crash mid-write leaves the old file, never half a file.
        const tmp = `${this.path}.tmp-${process.pid}`;
        writeFileSync(tmp, stringify(next), { mode: 0o600 });
        renameSync(tmp, this.path);
      } catch (err) {
        await this.apply(this.current, next).catch(() => undefined);
        throw new ConfigCommitError(`cannot save the config to ${this.path}: ${(err as Error).message}; the previous config stays in force`);
      }
    }
    const prev = this.current;
    this.current = next;
    this.bump(prev, next, 'api');
  }

  private async applyOrRollBack(next: Config): Promise<void> {
    try {
      await this.apply(next, this.current);
    } catch (err) {
      await this.apply(this.current, next).catch(() => undefined);
      throw new ConfigCommitError(`config could not be applied: ${(err as Error).message}; the previous config stays in force`);
    }
  }
}
