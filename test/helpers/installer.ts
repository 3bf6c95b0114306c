// One installer at the box: the real appliance pulling a real RTSP stream (GStreamer server on
// 127.0.0.1), and headless Chromium logged in with an installer's token. Shared by the page tests.
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { sha256Hex } from '../../appliance/src/api/auth.js';
import { startAppliance, type TestAppliance } from './appliance.js';
import { installerContext, launchChromium } from './browser.js';
import { TestRtspServer, freePort } from './rtsp-server.js';

export interface Pt {
  x: number;
  y: number;
}

export interface InstallerSessionOptions {
  clip: string;
  token: string;
  /** The one camera, without its url (the test server's). */
  camera: { id: string; name: string; fps: number; width: number; height: number };
}

export class InstallerSession {
  rtsp!: TestRtspServer;
  ui!: TestAppliance;
  browser!: Browser;
  context!: BrowserContext;
  page!: Page;
  rtspUrl = '';
  readonly pageErrors: string[] = [];

  constructor(private readonly o: InstallerSessionOptions) {}

  async start(): Promise<void> {
    this.rtsp = new TestRtspServer(this.o.clip);
    this.rtspUrl = await this.rtsp.start(await freePort());
    this.ui = await startAppliance([{ ...this.o.camera, url: this.rtspUrl }], {
      auth: { enabled: true, tokens: [{ name: 'inst', sha256: sha256Hex(this.o.token), role: 'installer' }] },
      // These tests are about the page, not the anonymizer's speed: a busy shared 2-core box needs
      // more than the default 5 s, after which the snapshot is (rightly) withheld.
      privacy: { timeoutMs: 30_000 },
    });
    this.browser = await launchChromium();
    this.context = await installerContext(this.browser, this.o.token);
    this.page = await this.context.newPage();
    this.page.on('pageerror', (err) => this.pageErrors.push(err.message));
  }

  async stop(): Promise<void> {
    await this.browser?.close();
    await this.ui?.stop();
    await this.rtsp?.stop();
  }

  /** The camera's running config, as the API gives it to the installer. */
  async cameraConfig<T>(): Promise<T> {
    const res = await fetch(`${this.ui.base}/api/v1/cameras/${this.o.camera.id}/config`, { headers: { authorization: `Bearer ${this.o.token}` } });
    assert.equal(res.status, 200);
    return (await res.json()) as T;
  }

  /** Clicks on the drawing canvas at relative image coordinates. */
  async clickCanvas(p: Pt): Promise<void> {
    const canvas = this.page.getByLabel('Drawing area over the snapshot');
    await canvas.scrollIntoViewIfNeeded();
    const box = await canvas.boundingBox();
    assert.ok(box && box.width > 100 && box.height > 50, 'the canvas has a size');
    await this.page.mouse.click(box.x + box.width * p.x, box.y + box.height * p.y);
  }
}
