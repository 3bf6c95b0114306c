#!/usr/bin/env node
// roadside --config roadside.yaml
import { parseArgs } from 'node:util';
import { Appliance } from './app.js';
import { ConfigError } from './config/load.js';
import { createLogger } from './core/log.js';

const { values } = parseArgs({ options: { config: { type: 'string', short: 'c', default: process.env.ROADSIDE_CONFIG ?? 'roadside.yaml' } } });
const log = createLogger();

try {
  const app = await Appliance.start({ configPath: values.config!, log });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await app.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => void app.reload());
} catch (err) {
  if (err instanceof ConfigError) log.fatal({ file: err.source, issues: err.issues }, 'invalid config');
  else log.fatal({ err: (err as Error).message }, 'cannot start');
  process.exit(1);
}
