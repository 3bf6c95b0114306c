// The running config: the last good one. A change (file reload or API) is validated whole before it
// replaces anything; an invalid one is refused with every issue and the old one stays in force.
import { renameSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { loadConfigFile, validateConfig } from './load.js';
import type { Config } from './schema.js';

export type ApplyFn = (next: Config, prev: Config) => Promise<void>;

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
  }

  get(): Config {
    return this.current;
  }

  /** Validates the result of `change(current copy)`, saves it, applies it. Serialised. Throws ConfigError. */
  update(change: (draft: Config) => unknown): Promise<Config> {
    const run = this.queue.then(async () => {
      const draft = structuredClone(this.current);
      change(draft);
      const next = validateConfig(draft, 'change');
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
      const prev = this.current;
      this.current = next;
      await this.apply(next, prev);
      return next;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async commit(next: Config): Promise<void> {
    if (this.path) {
      // Atomic replace: a crash mid-write leaves the old file, never half a file.
      const tmp = `${this.path}.tmp-${process.pid}`;
      writeFileSync(tmp, stringify(next), { mode: 0o600 });
      renameSync(tmp, this.path);
    }
    const prev = this.current;
    this.current = next;
    await this.apply(next, prev);
  }
}
