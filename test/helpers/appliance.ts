// Starts the real appliance in-process on 127.0.0.1 with a temp config, data dir and tokens.
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { pino } from 'pino';
import { Appliance } from '../../appliance/src/app.js';
import { sha256Hex } from '../../appliance/src/api/auth.js';
import { createLogger } from '../../appliance/src/core/log.js';
import { MANIFEST, MODELS_DIR } from './paths.js';

export const TOKENS = { admin: 'test-admin-token-0123456789', installer: 'test-installer-token-0123', viewer: 'test-viewer-token-012345', metrics: 'test-metrics-token-01234' } as const;

export function allTokens() {
  return Object.entries(TOKENS).map(([role, t]) => ({ name: `${role}-1`, sha256: sha256Hex(t), role }));
}

export interface TestAppliance {
  app: Appliance;
  base: string;
  dir: string;
  configPath: string;
  get(path: string, token?: string | null): Promise<Response>;
  send(method: string, path: string, body: unknown, token?: string | null): Promise<Response>;
  stop(): Promise<void>;
}

export function testConfig(dir: string, cameras: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    appliance: { id: 'test-box' },
    server: { host: '127.0.0.1', port: 0 },
    models: { dir: MODELS_DIR, manifest: MANIFEST },
    storage: { dataDir: join(dir, 'data') },
    auth: { enabled: true, tokens: allTokens() },
    cameras,
    ...extra,
  };
}

export async function startAppliance(
  cameras: unknown[],
  extra: Record<string, unknown> = {},
  logTo?: NodeJS.WritableStream,
): Promise<TestAppliance> {
  const dir = mkdtempSync(join(tmpdir(), 'roadside-test-'));
  const configPath = join(dir, 'roadside.yaml');
  writeFileSync(configPath, stringify(testConfig(dir, cameras, extra)));
  const log = logTo ? createLogger({ level: 'debug', destination: logTo }) : pino({ level: process.env.TEST_LOG ?? 'silent' });
  const app = await Appliance.start({ configPath, log, backoff: { initialMs: 200, maxMs: 2000 }, shutdownTimeoutMs: 10_000 });
  const base = app.address();
  const auth = (token: string | null | undefined): Record<string, string> => (token === null ? {} : { authorization: `Bearer ${token ?? TOKENS.admin}` });
  return {
    app,
    base,
    dir,
    configPath,
    get: (path, token) => fetch(base + path, { headers: auth(token) }),
    send: (method, path, body, token) =>
      fetch(base + path, { method, headers: { ...auth(token), 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    async stop() {
      await app.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
