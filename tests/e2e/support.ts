import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { describe } from 'vitest';
import { type App, buildApp } from '../../src/app';
import { type RunningWorkers, startWorkers } from '../../workers/index';
import { createTestContext, type TestContext } from '../helpers/context';
import { seedTestOrg, TEST_PASSWORD, type TestOrg } from '../helpers/org';
import { REPO_ROOT } from '../helpers/process';

/**
 * Browser tests drive Debian's chromium (never a downloaded browser) against Gaung started in this
 * process on a free port: the real app, optionally with its workers, on a fresh database and Redis
 * prefix.
 */

export const CHROMIUM = process.env.GAUNG_CHROMIUM || '/usr/bin/chromium';
const CI = process.env.CI === 'true' || process.env.CI === '1';
export const ARTIFACTS = path.join(REPO_ROOT, 'tests', 'artifacts');

/**
 * `describe`, or — when chromium is missing and this is not CI — a skipped block saying why.
 * With CI=true the tests always run (and fail clearly if the browser cannot start).
 */
export function describeInBrowser(name: string, body: () => void): void {
  if (existsSync(CHROMIUM) || CI) {
    describe(name, body);
    return;
  }
  const reason = `chromium not found at ${CHROMIUM}; install it with \`apt-get install -y chromium\` (CI=true makes these tests required)`;
  console.warn(`skipping browser tests "${name}": ${reason}`);
  describe.skip(`${name} — skipped: ${reason}`, body);
}

export async function launchBrowser(): Promise<Browser> {
  // Playwright gives every launch a fresh temporary profile (--user-data-dir) of its own.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningGaung {
  url: string;
  t: TestContext;
  app: App;
  org: TestOrg;
  close(): Promise<void>;
}

/** Gaung listening on a free port (its public URL is that address), with the test organisation. */
export async function startGaung(
  options: { env?: Record<string, string>; workers?: boolean } = {},
): Promise<RunningGaung> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t = await createTestContext('pglite', {
    env: { GAUNG_PUBLIC_URL: url, PORT: String(port), LOG_LEVEL: 'warn', ...options.env },
  });
  let app: App | undefined;
  let workers: RunningWorkers | undefined;
  try {
    const org = await seedTestOrg(t.ctx);
    app = await buildApp(t.ctx);
    await app.listen({ host: '127.0.0.1', port });
    if (options.workers) workers = await startWorkers(t.ctx);
    const started = app;
    return {
      url,
      t,
      app: started,
      org,
      async close() {
        await workers?.close();
        await started.close();
        await t.close();
      },
    };
  } catch (error) {
    await workers?.close();
    await app?.close();
    await t.close();
    throw error;
  }
}

/** Signs in through the sign-in page, as a person would. */
export async function signIn(
  page: Page,
  base: string,
  email: string,
  password = TEST_PASSWORD,
): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByLabel(/e-mail/i).fill(email);
  await page.locator('#password').fill(password);
  await Promise.all([
    page.waitForURL((url) => !url.pathname.startsWith('/login')),
    page.locator('main form button[type=submit]').click(),
  ]);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = path.join(ARTIFACTS, 'e2e');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/** Failures a page must not have: script errors and refused resources are collected, not ignored. */
export function watchPage(page: Page): { errors: string[] } {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  return { errors };
}

export async function newContext(
  browser: Browser,
  options: { mobile?: boolean; bypassCSP?: boolean } = {},
): Promise<BrowserContext> {
  return browser.newContext({
    viewport: options.mobile ? { width: 390, height: 844 } : { width: 1280, height: 900 },
    deviceScaleFactor: 1,
    isMobile: options.mobile ?? false,
    hasTouch: options.mobile ?? false,
    locale: 'id-ID',
    bypassCSP: options.bypassCSP ?? false,
  });
}

/** Waiting assertions with vitest's `expect.poll`: what the page shows settles after scripts and navigation. */
export const POLL = { timeout: 15_000, interval: 100 };

/** The element's text with whitespace collapsed. */
export const textOf = (locator: Locator) => async () =>
  ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();
export const countOf = (locator: Locator) => () => locator.count();
export const classOf = (locator: Locator) => async () => (await locator.getAttribute('class')) ?? '';
export const attributeOf = (locator: Locator, name: string) => () => locator.getAttribute(name);
export const inputValueOf = (locator: Locator) => () => locator.inputValue();
export const isFocused = (locator: Locator) => () =>
  locator.evaluate((element) => element === document.activeElement);
export const urlOf = (page: Page) => () => page.url();
