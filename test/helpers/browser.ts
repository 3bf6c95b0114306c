// A real headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, for UI tests.
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** A context that logs in like an installer: HTTP Basic, any user name, the token as password. */
export async function installerContext(browser: Browser, token: string, opts: BrowserContextOptions = {}): Promise<BrowserContext> {
  return browser.newContext({
    httpCredentials: { username: 'installer', password: token },
    viewport: { width: 1360, height: 1000 },
    ...opts,
  });
}
