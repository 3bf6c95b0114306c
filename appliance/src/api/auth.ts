// Bearer tokens with roles. Every route declares its access level in `config.access`; the hook refuses
// anything else. Tokens are compared by sha256 (the config holds only hashes). Repeated failures from
// one address are rate limited; the limiter only slows guessing and never blocks a valid token. The
// token itself is never logged (the logger redacts the header, request URLs lose credential values).
import { errorBody } from '../core/errors.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

import type { Role } from '../core/types.js';

export type { Role };
export type Access = 'public' | 'read' | 'write' | 'metrics';

export const ROLE_ACCESS: Record<Role, readonly Access[]> = {
  admin: ['read', 'write', 'metrics'],
  installer: ['read', 'write'],
  viewer: ['read'],
  metrics: ['metrics'],
};

export interface TokenEntry {
  name: string;
  sha256: string;
  role: Role;
}

export interface Principal {
  name: string;
  role: Role;
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/** Token from `Authorization: Bearer <t>` or, for the installer page in a browser, `Basic <user:t>`. */
export function tokenFromHeader(header: string | undefined): string | null {
  if (!header) return null;
  const [scheme = '', value] = header.split(' ', 2);
  if (!value) return null;
  if (/^bearer$/i.test(scheme)) return value.trim();
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    return i >= 0 ? decoded.slice(i + 1) : null;
  }
  return null;
}

export function authenticate(token: string | null, tokens: readonly TokenEntry[]): Principal | null {
  if (!token) return null;
  const digest = Buffer.from(sha256Hex(token), 'hex');
  for (const t of tokens) {
    const want = Buffer.from(t.sha256, 'hex');
    if (want.length === digest.length && timingSafeEqual(want, digest)) return { name: t.name, role: t.role };
  }
  return null;
}

export function allowed(role: Role, access: Access): boolean {
  return access === 'public' || ROLE_ACCESS[role].includes(access);
}

/** Failures per address in a fixed window; past the limit the address gets 429 until the window ends. */
export class AuthFailureLimiter {
  private readonly failures = new Map<string, { count: number; windowStart: number }>();

  constructor(
    private readonly maxFailures = 10,
    private readonly windowMs = 60_000,
  ) {}

  blocked(ip: string, now = Date.now()): number | null {
    const f = this.failures.get(ip);
    if (!f || now - f.windowStart > this.windowMs) return null;
    return f.count >= this.maxFailures ? Math.ceil((f.windowStart + this.windowMs - now) / 1000) : null;
  }

  fail(ip: string, now = Date.now()): void {
    const f = this.failures.get(ip);
    if (!f || now - f.windowStart > this.windowMs) this.failures.set(ip, { count: 1, windowStart: now });
    else f.count++;
    if (this.failures.size > 10_000) this.prune(now);
  }

  private prune(now: number): void {
    for (const [ip, f] of this.failures) if (now - f.windowStart > this.windowMs) this.failures.delete(ip);
  }
}

export interface AuthOptions {
  enabled: () => boolean;
  tokens: () => readonly TokenEntry[];
  limiter: AuthFailureLimiter;
  onFailure?: () => void;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export function authHook(o: AuthOptions): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async function onRequest(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    // Unknown URLs need a token too (then 404): nobody learns which routes exist without one.
    const access: Access | undefined = req.routeOptions.url === undefined ? 'read' : req.routeOptions.config?.access;
    // A route without a declared access level is a programming error: refuse rather than expose.
    if (!access) return void reply.code(500).send(errorBody('ROADSIDE_ERR_INTERNAL', 'route has no access level'));
    if (access === 'public') return;
    if (!o.enabled()) {
      req.principal = { name: 'auth-disabled', role: 'admin' };
      return;
    }
    // The token first: a valid one always gets in, however many guesses came from its address
    // (a shared NAT, the Prometheus scraper, a browser that asked anonymously first).
    const presented = tokenFromHeader(req.headers.authorization);
    const principal = authenticate(presented, o.tokens());
    if (!principal) {
      // No credentials at all (a browser's first visit, /favicon.ico) is not a guess: challenge only.
      if (req.headers.authorization !== undefined) {
        const retryAfter = o.limiter.blocked(req.ip);
        if (retryAfter !== null) {
          return void reply.code(429).header('retry-after', String(retryAfter)).send(errorBody('ROADSIDE_ERR_RATE_LIMITED', 'too many failed authentications'));
        }
        o.limiter.fail(req.ip);
        o.onFailure?.();
      }
      // RFC 9110: a 401 names its schemes. Browsers answer the Basic challenge with the installer's
      // credentials, also for the page's own fetch() calls under /api/v1.
      reply.header('www-authenticate', 'Basic realm="roadside", charset="UTF-8"');
      return void reply.code(401).send(errorBody('ROADSIDE_ERR_AUTH_REQUIRED', 'missing or invalid token'));
    }
    if (!allowed(principal.role, access)) return void reply.code(403).send(errorBody('ROADSIDE_ERR_FORBIDDEN', `role '${principal.role}' may not ${access}`));
    req.principal = principal;
  };
}

export interface RegisteredRoute {
  method: string;
  url: string;
  access: Access | null;
}
const ROUTES = new WeakMap<object, RegisteredRoute[]>();

/** Every route of the server the API was registered on, with its access level (for the auth walk test and audits). */
export function registeredRoutes(app: object): RegisteredRoute[] {
  return ROUTES.get(app) ?? [];
}

export interface AuthPluginOptions {
  enabled: () => boolean;
  tokens: () => readonly TokenEntry[];
  /** Failed authentications per address before 429, and the window they count in. */
  maxFailures: number;
  failureWindowMs: number;
  onFailure?: () => void;
}

/**
 * The access check of every route, and the record of each route's access level. fastify-plugin: the
 * hook and the `principal` request decorator must reach every route plugin of the app, and unknown
 * URLs (the 404 handler) too. Register it before any route.
 */
const auth: FastifyPluginAsync<AuthPluginOptions> = async (app, o) => {
  const routes: RegisteredRoute[] = [];
  ROUTES.set(app, routes);
  app.decorateRequest('principal', undefined);
  app.addHook('onRoute', (route) => {
    // Routes added by plugins (swagger-ui's /docs) get read access here; every other route declares one.
    if (route.url.startsWith('/docs')) route.config = { ...(route.config ?? {}), access: 'read' };
    const access = route.config?.access ?? null;
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, access });
  });
  app.addHook('onRequest', authHook({ enabled: o.enabled, tokens: o.tokens, limiter: new AuthFailureLimiter(o.maxFailures, o.failureWindowMs), onFailure: o.onFailure }));
};
export const authPlugin = fp(auth, { name: 'roadside-auth' });
