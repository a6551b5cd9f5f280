import { eq } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deliveries, sandboxPosts } from '../../src/db/schema';
import { insertChannel } from '../helpers/posts';
import {
  countOf,
  describeInBrowser,
  launchBrowser,
  newContext,
  POLL,
  type RunningGaung,
  screenshot,
  signIn,
  startGaung,
  textOf,
  watchPage,
} from './support';

const BODY = 'Operasi pengawasan orang asing di Pontianak bersama TNI dan Polri, 12 WNA diperiksa.';

/**
 * Review at two levels in the browser: the office submits, its regional division approves for its
 * own channel and forwards with a note, the national team sees the post marked forwarded and
 * approves for the national channel; each sandbox channel publishes it once and the timeline and
 * the office's page show both levels.
 */
describeInBrowser('an office post reviewed by its region, then by the national team', () => {
  let gaung: RunningGaung;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const watched: { errors: string[] }[] = [];
  let regionalChannel = '';
  let nationalChannel = '';
  let postId = '';

  const pageFor = async (email: string, mobile = false): Promise<Page> => {
    const context = await newContext(browser, { mobile });
    contexts.push(context);
    const page = await context.newPage();
    watched.push(watchPage(page));
    await signIn(page, gaung.url, email);
    return page;
  };
  const approveFor = async (page: Page, channelId: string) => {
    await page.goto(`${gaung.url}/review/${postId}`);
    await page.locator(`input[name="on_${channelId}"]`).check();
    await page.locator(`input[name="at_${channelId}"][value="now"]`).check();
    await Promise.all([
      page.waitForURL(/\/inbox\?ok=approved/),
      page.getByRole('button', { name: /^Setujui/ }).click(),
    ]);
  };

  beforeAll(async () => {
    gaung = await startGaung({
      workers: true,
      env: { GAUNG_SWEEP_EVERY_MS: '1000', GAUNG_RECONCILE_DELAY_MS: '0' },
    });
    regionalChannel = await insertChannel(gaung.t.ctx, gaung.org.units.regionA, 'sandbox', {
      name: '@kanwil_a',
    });
    nationalChannel = await insertChannel(gaung.t.ctx, gaung.org.units.national, 'sandbox', {
      name: '@ditjen',
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await gaung?.close();
  });

  it('the office submits from a phone', async () => {
    const page = await pageFor(gaung.org.user('officeA1', 'contributor').email, true);
    await page.goto(`${gaung.url}/posts/new`);
    await page.locator('#body').fill(BODY);
    await Promise.all([
      page.waitForURL(/\/posts\/[0-9a-f-]{36}\?ok=submitted/),
      page.getByRole('button', { name: 'Simpan dan kirim untuk ditinjau' }).click(),
    ]);
    postId = new URL(page.url()).pathname.split('/')[2]!;
  });

  it('the regional reviewer approves for the regional channel and forwards with a note', async () => {
    const page = await pageFor(gaung.org.user('regionA', 'reviewer').email);
    await page.goto(`${gaung.url}/inbox`);
    await expect.poll(countOf(page.locator(`[data-post="${postId}"]`)), POLL).toBe(1);
    await approveFor(page, regionalChannel);
    // Approved at this level: the post has left the regional inbox, the forward form is still there.
    await expect.poll(countOf(page.locator(`[data-post="${postId}"]`)), POLL).toBe(0);
    await page.goto(`${gaung.url}/review/${postId}`);
    await page.locator('#forward-note').fill('bagus untuk nasional');
    await Promise.all([
      page.waitForURL(/\/inbox\?ok=forwarded/),
      page.getByRole('button', { name: 'Teruskan' }).click(),
    ]);
    await screenshot(page, 'levels-01-regional-forwarded');
  });

  it('the national reviewer sees it marked forwarded, with the region’s decision, and approves', async () => {
    const page = await pageFor(gaung.org.user('national', 'reviewer').email);
    await page.goto(`${gaung.url}/inbox?forwarded=1`);
    const item = page.locator(`[data-post="${postId}"]`);
    await expect.poll(countOf(item), POLL).toBe(1);
    await expect.poll(countOf(item.locator('[data-forwarded]')), POLL).toBe(1);
    await expect
      .poll(textOf(item.locator('[data-decisions]')), POLL)
      .toBe('Kanwil A: disetujui untuk @kanwil_a, diteruskan: “bagus untuk nasional”');
    await screenshot(page, 'levels-02-national-inbox');
    await approveFor(page, nationalChannel);
  });

  it('each channel publishes the post once; the timeline and the office show both levels', async () => {
    const published = async () =>
      (await gaung.t.ctx.db.select().from(deliveries).where(eq(deliveries.postId, postId)))
        .filter((d) => d.status === 'published')
        .map((d) => d.channelId)
        .sort();
    await expect
      .poll(published, { timeout: 90_000, interval: 500 })
      .toEqual([regionalChannel, nationalChannel].sort());
    for (const channelId of [regionalChannel, nationalChannel]) {
      const posts = await gaung.t.ctx.db
        .select()
        .from(sandboxPosts)
        .where(eq(sandboxPosts.channelId, channelId));
      expect(posts.map((p) => p.text.includes(BODY))).toEqual([true]);
    }

    const office = await pageFor(gaung.org.user('officeA1', 'contributor').email);
    await office.goto(`${gaung.url}/posts/${postId}`);
    const timeline = office.locator('.timeline');
    await expect.poll(textOf(timeline), POLL).toContain('(Kanwil A): Disetujui');
    await expect.poll(textOf(timeline), POLL).toContain('(Kanwil A): diteruskan ke Nasional');
    await expect.poll(textOf(timeline), POLL).toContain('(Nasional): Disetujui');
    await office.goto(`${gaung.url}/posts`);
    await expect.poll(countOf(office.locator('main .links a')), POLL).toBe(2);
    await screenshot(office, 'levels-03-office-both-published');
    expect(watched.flatMap((w) => w.errors)).toEqual([]);
  });
});
