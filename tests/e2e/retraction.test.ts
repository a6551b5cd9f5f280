import { eq } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deliveries, posts } from '../../src/db/schema';
import { id as msg } from '../../src/web/i18n/id';
import { createFakeMastodon, type FakeMastodon } from '../fakes/mastodon';
import { setChannelCredentials } from '../helpers/engine';
import { createPostVia, insertChannel } from '../helpers/posts';
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

/**
 * Retraction and the emergency stop in Chromium, with the engine's workers running and a Mastodon
 * channel on the Mastodon fake (the press room leaves sandbox channels out): humas retracts one post with a correction (published as a reply before the original is
 * deleted) and one without; the press room shows both as retracted with their reasons; a national
 * admin stops all publishing and a post due meanwhile stays unpublished until the stop is lifted.
 */

const SLOW = { timeout: 45_000, interval: 250 };

describeInBrowser('retracting posts and stopping all publishing', () => {
  let gaung: RunningGaung;
  let browser: Browser;
  let desk: BrowserContext;
  let page: Page;
  let channel = '';
  let watched: { errors: string[] };
  let mastodon: FakeMastodon;
  let account = '';

  beforeAll(async () => {
    gaung = await startGaung({
      workers: true,
      env: { GAUNG_SWEEP_EVERY_MS: '1000', GAUNG_RECONCILE_DELAY_MS: '0' },
    });
    mastodon = createFakeMastodon();
    await mastodon.start();
    account = mastodon.addAccount({ username: 'humas' }).id;
    channel = await insertChannel(gaung.t.ctx, gaung.org.units.national, 'mastodon', {
      name: 'Mastodon Nasional',
      settings: { instanceUrl: mastodon.url, accountId: account },
    });
    await setChannelCredentials(gaung.t.ctx.db, gaung.t.ctx.keys, channel, {
      accessToken: mastodon.issueToken(account),
    });
    browser = await launchBrowser();
    desk = await newContext(browser);
    page = await desk.newPage();
    watched = watchPage(page);
    page.on('dialog', (dialog) => void dialog.accept());
  });

  afterAll(async () => {
    await desk?.close();
    await browser?.close();
    await gaung?.close();
    await mastodon?.stop();
  });

  const statusOf = async (postId: string) =>
    (await gaung.t.ctx.db.select({ status: posts.status }).from(posts).where(eq(posts.id, postId)))[0]
      ?.status;
  const timeline = async () => mastodon.timeline(account);

  /** An office's post, approved by national humas to the Mastodon channel now and published by the workers. */
  async function publishedPost(body: string) {
    const post = await createPostVia(gaung.app, gaung.org.user('officeA1', 'contributor'), { body });
    const approved = await gaung.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post.id}/approve`,
      headers: gaung.org.user('national', 'reviewer').headers,
      payload: { version: post.version, targets: [{ channelId: channel, mode: 'copy', at: 'now' }] },
    });
    expect(approved.statusCode, approved.body).toBe(200);
    await expect
      .poll(
        async () =>
          (await gaung.t.ctx.db.select().from(deliveries).where(eq(deliveries.postId, post.id)))[0]?.status,
        SLOW,
      )
      .toBe('published');
    return post.id;
  }

  async function retractInBrowser(postId: string, reason: string, correction?: string) {
    await page.goto(`${gaung.url}/posts/${postId}/retract`);
    await expect.poll(textOf(page.locator('main')), POLL).toContain('Mastodon Nasional');
    await page.locator('#reason').fill(reason);
    if (correction) await page.locator('#correction').fill(correction);
    await Promise.all([
      page.waitForURL((url) => url.pathname === `/posts/${postId}/retraction`),
      page.locator('#retract button[type=submit]').click(),
    ]);
    await expect
      .poll(() => statusOf(postId), SLOW)
      .toBe('retracted')
      .catch(async (error) => {
        console.log(
          'DEBUG',
          JSON.stringify(
            await gaung.t.ctx.db
              .select({
                s: deliveries.status,
                p: deliveries.postId,
                e: deliveries.lastError,
                r: deliveries.repliesTo,
                d: deliveries.dueAt,
              })
              .from(deliveries),
          ),
        );
        throw error;
      });
    // The progress page refreshes itself while channels are still at work: open it afresh until it
    // says it is done, without racing its own refresh.
    await expect
      .poll(async () => {
        try {
          await page.goto(`${gaung.url}/posts/${postId}/retraction`);
          return (await page.locator('main').textContent()) ?? '';
        } catch {
          return '';
        }
      }, POLL)
      .toContain(msg.retraction.finished);
  }

  it('retracts a post with a correction published as a reply before the original is deleted', async () => {
    await signIn(page, gaung.url, gaung.org.user('national', 'reviewer').email);
    const postId = await publishedPost('Layanan paspor Minggu ini tutup pukul 10.00 WIB.');
    const original = (await timeline()).find((p) => p.text.startsWith('Layanan paspor Minggu ini tutup'));
    expect(original).toBeDefined();
    await retractInBrowser(
      postId,
      'Jam layanan keliru',
      'Ralat: layanan paspor Minggu ini buka sampai pukul 12.00 WIB.',
    );
    await screenshot(page, 'retraction-with-correction');
    const after = await timeline();
    expect(after.some((p) => p.id === original!.id)).toBe(false);
    const reply = after.find((p) => p.text.startsWith('Ralat: layanan paspor'));
    expect(reply?.inReplyTo).toBe(original!.id);
    await expect.poll(countOf(page.getByRole('link', { name: msg.retraction.correctionPost })), POLL).toBe(1);
  });

  it('retracts a post without a correction, and the press room shows both as retracted with their reasons', async () => {
    const postId = await publishedPost('Pengumuman libur kantor tanggal 12.');
    await retractInBrowser(postId, 'Tanggal libur salah');
    expect((await timeline()).some((p) => p.text.startsWith('Pengumuman libur kantor'))).toBe(false);

    const visitor = await newContext(browser);
    const press = await visitor.newPage();
    const pressErrors = watchPage(press).errors;
    await press.goto(`${gaung.url}/press`);
    const main = textOf(press.locator('main'));
    await expect.poll(main, POLL).toContain(msg.press.retractedBecause('Tanggal libur salah'));
    await expect.poll(main, POLL).toContain(msg.press.retractedBecause('Jam layanan keliru'));
    expect(await main()).not.toContain('Pengumuman libur kantor tanggal 12.');
    await screenshot(press, 'press-room-retracted');
    expect(pressErrors).toEqual([]);
    await visitor.close();
  });

  it('stops all publishing with one button: a post due meanwhile waits until the stop is lifted', async () => {
    const admin = await newContext(browser);
    const adminPage = await admin.newPage();
    const adminErrors = watchPage(adminPage).errors;
    adminPage.on('dialog', (dialog) => void dialog.accept());
    await signIn(adminPage, gaung.url, gaung.org.user('national', 'admin').email);
    await adminPage.goto(`${gaung.url}/admin/blackouts`);
    await adminPage.locator('#stop-reason').fill('Akun diretas, periksa dulu');
    await Promise.all([
      adminPage.waitForURL((url) => url.search.includes('ok=publishingStopped')),
      adminPage.getByRole('button', { name: msg.blackouts.emergencyButton }).click(),
    ]);
    await expect
      .poll(textOf(adminPage.locator('.banner.blackout')), POLL)
      .toContain('Akun diretas, periksa dulu');

    const post = await createPostVia(gaung.app, gaung.org.user('officeA1', 'contributor'), {
      body: 'Kabar yang jatuh tempo saat penerbitan dihentikan.',
    });
    const approved = await gaung.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post.id}/approve`,
      headers: gaung.org.user('national', 'reviewer').headers,
      payload: { version: post.version, targets: [{ channelId: channel, mode: 'copy', at: 'now' }] },
    });
    expect(approved.statusCode, approved.body).toBe(200);
    // Several sweeps (one a second) and the workers' turns: nothing goes out.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const [held] = await gaung.t.ctx.db.select().from(deliveries).where(eq(deliveries.postId, post.id));
    expect(held!.status).toBe('scheduled');
    expect((await timeline()).some((p) => p.text.startsWith('Kabar yang jatuh tempo'))).toBe(false);

    await page.goto(`${gaung.url}/posts`);
    await expect.poll(textOf(page.locator('.banner.blackout')), POLL).toContain('Akun diretas, periksa dulu');

    await Promise.all([
      adminPage.waitForURL((url) => url.search.includes('ok=blackoutEnded')),
      adminPage.locator('.emergency').getByRole('button', { name: msg.blackouts.lift }).click(),
    ]);
    await expect.poll(countOf(adminPage.locator('.banner.blackout')), POLL).toBe(0);
    // Lifted: what fell due during the stop waits for a person to decide (the stop ends with "hold").
    await expect
      .poll(
        async () =>
          (await gaung.t.ctx.db.select().from(deliveries).where(eq(deliveries.postId, post.id)))[0]?.status,
        SLOW,
      )
      .toBe('needs_attention');
    expect((await timeline()).some((p) => p.text.startsWith('Kabar yang jatuh tempo'))).toBe(false);
    await screenshot(adminPage, 'emergency-stop-lifted');
    expect(adminErrors).toEqual([]);
    expect(watched.errors).toEqual([]);
    await admin.close();
  });
});
