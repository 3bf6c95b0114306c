// The installer page (plain HTML/JS). Browsers log in with HTTP Basic (any user name, the token as password).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export interface InstallerPageOptions {
  /** The folder of index.html, app.js and style.css (appliance/web). */
  webDir: string;
}

const FILES = [
  ['/ui/', 'index.html', 'text/html; charset=utf-8'],
  ['/ui/app.js', 'app.js', 'text/javascript; charset=utf-8'],
  ['/ui/style.css', 'style.css', 'text/css; charset=utf-8'],
] as const;

export const installerPage: FastifyPluginAsyncTypebox<InstallerPageOptions> = async (app, o) => {
  app.get('/', { config: { access: 'read' }, schema: { hide: true } }, async (_req, reply) => reply.redirect('/ui/'));
  for (const [url, file, type] of FILES) {
    app.get(url, { config: { access: 'read' }, schema: { hide: true } }, async (_req, reply) => reply.header('content-type', type).send(await readFile(join(o.webDir, file))));
  }
};
