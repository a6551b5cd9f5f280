import { eq } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  channels,
  deliveries,
  media,
  notifications,
  posts,
  sources,
  units,
  users,
} from '../../src/db/schema';
import type { TestUser } from '../helpers/org';
import { insertChannel, insertMedia } from '../helpers/posts';
import {
  describeInBrowser,
  launchBrowser,
  newContext,
  POLL,
  type RunningGaung,
  screenshot,
  signIn,
  startGaung,
} from './support';

/**
 * Hostile text in every field people (and platforms) fill in: post text, comments, reasons, alt text,
 * tags, names of units, users, channels and tokens, a channel's credit line, platform errors and
 * URLs, a source's title, address and last error. The browser runs with the Content-Security-Policy
 * bypassed, so only escaping stands between the payload and execution; the payload must show as
 * text and never run.
 */

const PAYLOAD = '<script>window.__xss=1</script>"><img src=x onerror="window.__xss=2"><svg onload=alert(3)>';
const HOSTILE_URL = "javascript:window.__xss='href'";

describeInBrowser('hostile text is shown, never run', () => {
  let gaung: RunningGaung;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const dialogs: string[] = [];
  const ids: Record<
    'changes' | 'approved' | 'rejected' | 'waiting' | 'withdrawn' | 'published' | 'retracted' | 'channel',
    string
  > = {
    changes: '',
    approved: '',
    rejected: '',
    waiting: '',
    withdrawn: '',
    published: '',
    retracted: '',
    channel: '',
  };

  async function api(
    user: TestUser,
    method: 'POST' | 'PATCH',
    url: string,
    payload: object,
  ): Promise<{ id: string; version: number }> {
    const response = await gaung.app.inject({ method, url: `/api/v1${url}`, headers: user.headers, payload });
    if (response.statusCode >= 300)
      throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.json();
  }

  beforeAll(async () => {
    gaung = await startGaung();
    const { ctx } = gaung.t;
    const { org } = gaung;
    const office = org.user('officeA1', 'contributor');
    const reviewer = org.user('national', 'reviewer');
    ids.channel = await insertChannel(ctx, org.units.national, 'sandbox', {
      name: `Kanal ${PAYLOAD}`,
      slots: ['0 9 * * *', '0 15 * * *'],
      creditTemplate: `{text}\n\n📍 {unit} ${PAYLOAD}`,
    });
    await ctx.db
      .update(channels)
      .set({ handle: PAYLOAD, statusReason: PAYLOAD })
      .where(eq(channels.id, ids.channel));
    const mediumId = await insertMedia(ctx, org.units.officeA1);
    await ctx.db.update(media).set({ altText: PAYLOAD }).where(eq(media.id, mediumId));

    const content = {
      body: `Kabar kantor ${PAYLOAD}`,
      tags: ['<b>tebal</b>"><img src=x onerror=alert(1)>'],
      sourceUrl: `https://example.com/"><img src=x onerror="window.__xss='source'">`,
      media: [{ id: mediumId, altText: PAYLOAD }],
    };
    const submit = async () => {
      const post = await api(office, 'POST', '/posts', content);
      return api(office, 'POST', `/posts/${post.id}/submit`, { version: post.version });
    };
    const approve = async (postId: string, version: number) =>
      api(reviewer, 'POST', `/posts/${postId}/approve`, {
        version,
        targets: [{ channelId: ids.channel, mode: 'copy', at: 'now', text: `Teks humas ${PAYLOAD}` }],
        comment: PAYLOAD,
      });

    const changes = await submit();
    ids.changes = changes.id;
    await api(reviewer, 'POST', `/posts/${changes.id}/comments`, { body: PAYLOAD });
    await api(reviewer, 'POST', `/posts/${changes.id}/request-changes`, {
      version: changes.version,
      comment: PAYLOAD,
    });

    const approved = await submit();
    ids.approved = approved.id;
    await approve(approved.id, approved.version);
    await ctx.db
      .update(deliveries)
      .set({ status: 'failed', lastError: PAYLOAD, attempts: 1 })
      .where(eq(deliveries.postId, approved.id));

    const published = await submit();
    ids.published = published.id;
    await approve(published.id, published.version);
    // The press room shows public platforms only (no sandbox): this one went out on a Telegram channel.
    const pressChannel = await insertChannel(ctx, org.units.national, 'telegram', {
      name: `Telegram ${PAYLOAD}`,
    });
    await ctx.db
      .update(deliveries)
      .set({
        channelId: pressChannel,
        status: 'published',
        publishedAt: new Date(),
        remoteUrl: HOSTILE_URL,
        renderedText: PAYLOAD,
      })
      .where(eq(deliveries.postId, published.id));

    // Retracted with a hostile reason, waiting for a person to remove it (older, so the feeds' first item stays).
    const retracted = await submit();
    ids.retracted = retracted.id;
    await approve(retracted.id, retracted.version);
    await ctx.db.update(posts).set({ retractionReason: PAYLOAD }).where(eq(posts.id, retracted.id));
    await ctx.db
      .update(deliveries)
      .set({
        channelId: pressChannel,
        status: 'retraction_needs_attention',
        publishedAt: new Date(Date.now() - 3_600_000),
        remoteUrl: HOSTILE_URL,
        lastError: PAYLOAD,
        retractionReason: PAYLOAD,
      })
      .where(eq(deliveries.postId, retracted.id));

    const rejected = await submit();
    ids.rejected = rejected.id;
    await api(reviewer, 'POST', `/posts/${rejected.id}/reject`, {
      version: rejected.version,
      reason: PAYLOAD,
    });

    ids.waiting = (await submit()).id;

    const withdrawn = await api(office, 'POST', '/posts', content);
    ids.withdrawn = withdrawn.id;
    await api(office, 'POST', `/posts/${withdrawn.id}/withdraw`, {
      version: withdrawn.version,
      reason: PAYLOAD,
    });

    await ctx.db.insert(notifications).values({
      userId: office.id,
      kind: 'delivery.failed',
      postId: approved.id,
      data: { channelName: PAYLOAD, error: PAYLOAD, url: HOSTILE_URL },
    });
    for (const user of [office, org.user('national', 'admin')])
      await api(user, 'POST', '/tokens', { name: PAYLOAD });
    // A source's title and last error come from the source's site; its address from the office.
    const now = new Date();
    await ctx.db.insert(sources).values([
      {
        unitId: org.units.officeA1.id,
        createdBy: office.id,
        kind: 'rss',
        url: `https://example.com/feed?"><img src=x onerror="window.__xss='feed'">`,
        title: PAYLOAD,
        tags: ['<b>tebal</b>"><img src=x onerror=alert(1)>'],
        since: now,
        nextPollAt: now,
        failures: 1,
        lastError: PAYLOAD,
      },
      {
        unitId: org.units.officeA1.id,
        createdBy: office.id,
        kind: 'mastodon',
        url: HOSTILE_URL,
        since: now,
        nextPollAt: now,
      },
    ]);
    // Names the API refuses (markup is not a name) may still come from older data: they are shown escaped.
    await ctx.db
      .update(units)
      .set({ name: `Kantor ${PAYLOAD}` })
      .where(eq(units.id, org.units.officeA1.id));
    await ctx.db
      .update(units)
      .set({ name: `Pusat ${PAYLOAD}` })
      .where(eq(units.id, org.units.national.id));
    for (const user of [office, reviewer])
      await ctx.db
        .update(users)
        .set({ name: `Orang ${PAYLOAD}` })
        .where(eq(users.id, user.id));

    browser = await launchBrowser();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await gaung?.close();
  });

  async function visitor(email: string | null): Promise<Page> {
    const context = await newContext(browser, { bypassCSP: true });
    contexts.push(context);
    const page = await context.newPage();
    page.on('dialog', async (dialog) => {
      dialogs.push(`${page.url()}: ${dialog.message()}`);
      await dialog.dismiss();
    });
    if (email) await signIn(page, gaung.url, email);
    return page;
  }

  /** Nothing ran, nothing was injected, and (where the page shows the payload) it is there as text. */
  async function assertInert(page: Page, path: string, shows: boolean) {
    const response = await page.goto(`${gaung.url}${path}`, { waitUntil: 'networkidle' });
    expect(response?.status(), path).toBeLessThan(400);
    const found = await page.evaluate(() => ({
      flag: (window as unknown as { __xss?: string }).__xss ?? null,
      injected: document.querySelectorAll('img[src="x"], svg[onload], main script').length,
      inlineScripts: Array.from(document.scripts).filter((s) => !s.src.includes('/assets/')).length,
      handlers: Array.from(document.querySelectorAll('*')).flatMap((el) =>
        Array.from(el.attributes)
          .filter((a) => a.name.startsWith('on'))
          .map((a) => `${el.tagName} ${a.name}`),
      ),
      scriptLinks: Array.from(document.querySelectorAll('a[href]')).filter((a) =>
        a.getAttribute('href')!.trim().toLowerCase().startsWith('javascript:'),
      ).length,
      text: document.body.textContent ?? '',
    }));
    expect(found.flag, `${path} ran the payload`).toBeNull();
    expect(found.injected, `${path} has injected elements`).toBe(0);
    expect(found.inlineScripts, `${path} has inline scripts`).toBe(0);
    expect(found.handlers, `${path} has inline event handlers`).toEqual([]);
    expect(found.scriptLinks, `${path} links to javascript:`).toBe(0);
    if (shows)
      expect(found.text, `${path} should show the payload as text`).toContain(
        '<script>window.__xss=1</script>',
      );
  }

  it('office pages', async () => {
    const page = await visitor(gaung.org.user('officeA1', 'contributor').email);
    const pages: [string, boolean][] = [
      ['/posts', true],
      [`/posts/${ids.changes}`, true],
      [`/posts/${ids.approved}`, true],
      [`/posts/${ids.rejected}`, true],
      [`/posts/${ids.withdrawn}`, true],
      [`/posts/${ids.published}`, true],
      [`/posts/${ids.changes}/edit`, true],
      ['/posts/new', true],
      ['/notifications', true],
      ['/admin/tokens', true],
      ['/account', true],
      ['/sources', true],
    ];
    for (const [path, shows] of pages) await assertInert(page, path, shows);
    // The editor's live preview puts the server's rendering into the page with the same care.
    await page.goto(`${gaung.url}/posts/${ids.changes}/edit`);
    await page.locator('#body').fill(`Baru ${PAYLOAD}`);
    await expect
      .poll(() => page.locator('li.preview [data-text]').first().textContent(), POLL)
      .toContain(`Baru ${PAYLOAD}`);
    expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss ?? null)).toBeNull();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    await screenshot(page, 'escaping-editor');
  });

  it('review pages', async () => {
    const page = await visitor(gaung.org.user('national', 'reviewer').email);
    const pages: [string, boolean][] = [
      ['/inbox', true],
      [`/review/${ids.waiting}`, true],
      [`/posts/${ids.approved}`, true],
      [`/posts/${ids.published}/retract`, true],
      [`/posts/${ids.retracted}/retraction`, true],
      ['/deliveries', true],
      ['/calendar', true],
      ['/calendar?view=month', true],
      ['/sources', true],
      ['/notifications', false],
    ];
    for (const [path, shows] of pages) await assertInert(page, path, shows);
    // A refused approval shows the form again with the reviewer's text in it.
    await page.goto(`${gaung.url}/review/${ids.waiting}`);
    const target = page.locator(`li.target[data-channel="${ids.channel}"]`);
    await target.locator('input[data-target-toggle]').check();
    await target.locator('details summary').click();
    await target.locator('textarea').fill(PAYLOAD);
    await target.locator('input[type="radio"][value="time"]').check();
    await target.locator('input[type="datetime-local"]').fill('2001-01-01T09:00');
    await Promise.all([
      page.waitForURL(/\/review\/.*\/approve$/),
      page.getByRole('button', { name: /^Setujui/ }).click(),
    ]);
    expect(await target.locator('textarea').inputValue()).toBe(PAYLOAD);
    expect(await target.locator('.issue-error').count()).toBeGreaterThan(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss ?? null)).toBeNull();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    await screenshot(page, 'escaping-review');
  });

  it('the review page of an approved post, with a channel to add', async () => {
    const second = await insertChannel(gaung.t.ctx, gaung.org.units.national, 'sandbox', {
      name: `Kanal kedua ${PAYLOAD}`,
      creditTemplate: `{text}\n\n📍 {unit} ${PAYLOAD}`,
    });
    const page = await visitor(gaung.org.user('national', 'reviewer').email);
    await assertInert(page, `/review/${ids.approved}`, true);
    // A refused addition shows the form again with the reviewer's text in it.
    const card = page.locator(`#add-targets li.target[data-channel="${second}"]`);
    await card.locator('input[data-target-toggle]').check();
    await card.locator('details summary').click();
    await card.locator('textarea').fill(PAYLOAD);
    await card.locator('input[type="radio"][value="time"]').check();
    await card.locator('input[type="datetime-local"]').fill('2001-01-01T09:00');
    await Promise.all([
      page.waitForURL(/\/review\/.*\/targets$/),
      page.getByRole('button', { name: /^Tambahkan/ }).click(),
    ]);
    expect(await card.locator('textarea').inputValue()).toBe(PAYLOAD);
    expect(await card.locator('.issue-error').count()).toBeGreaterThan(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss ?? null)).toBeNull();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    await screenshot(page, 'escaping-review-add-targets');
  });

  it('admin pages', async () => {
    const page = await visitor(gaung.org.user('national', 'admin').email);
    const pages: [string, boolean][] = [
      ['/admin/channels', true],
      [`/admin/channels/${ids.channel}`, true],
      ['/admin/units', true],
      ['/admin/users', true],
      ['/admin/tokens', true],
      ['/admin/audit', true],
    ];
    for (const [path, shows] of pages) await assertInert(page, path, shows);
  });

  it('the press room, its feeds and the sign-in page', async () => {
    const page = await visitor(null);
    await assertInert(page, '/press', true);
    await assertInert(page, '/login', false);
    const rss = await page.request.get(`${gaung.url}/press/feed.xml`);
    const xml = await rss.text();
    expect(xml).not.toContain('<script>');
    expect(xml).toContain('&lt;script&gt;');
    expect(xml).not.toContain('javascript:');
    const json = await (await page.request.get(`${gaung.url}/press/feed.json`)).json();
    expect(json.items[0].content_text).toBe(PAYLOAD);
    const retracted = json.items.find((item: { id: string }) => item.id === `gaung:post:${ids.retracted}`);
    expect(retracted.content_text).toContain(PAYLOAD);
    expect(JSON.stringify(json)).not.toContain('javascript:');
    // Both feeds are data, never HTML a browser would run.
    expect(rss.headers()['content-type']).toMatch(/^application\/rss\+xml/);
  });

  it('opened no dialog anywhere', () => {
    expect(dialogs).toEqual([]);
  });
});
