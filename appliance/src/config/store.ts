// The running config: the last good one. A change (file reload or API) is validated whole before it
// replaces anything; an invalid one is refused with every issue and the old one stays in force.
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { stringify } from 'yaml';
import { loadConfigFile, validateConfig } from './load.js';
import type { Config } from './schema.js';
import { removeStaleTempFiles } from '../core/leftovers.js';

export type ApplyFn = (next: Config, prev: Config) => Promise<void>;

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

  constructor(
    initial: Config,
    /** YAML file the config came from and is saved back to; null keeps changes in memory only. */
    readonly path: string | null,
    private readonly apply: ApplyFn,
  ) {
    this.current = initial;
    // A save killed mid-write (kill -9) leaves its temp file, with camera credentials in it.
    this.removedTempFiles = path ? removeStaleTempFiles(path) : [];
  }

  /** Stale `<file>.tmp-<pid>` files removed at start-up (for the log). */
  readonly removedTempFiles: string[];

  get(): Config {
    return this.current;
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
      this.current = next;
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
    this.current = next;
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
