import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Actor } from '../../src/domain/permissions';
import { createPost, submitPost } from '../../src/services/posts';
import { createFakeMastodon, type FakeMastodon } from '../fakes/mastodon';
import { createTelegramFake, type TelegramChat, type TelegramFake } from '../fakes/telegram';
import { createFakeX, type FakeX, type FakeXUser } from '../fakes/x';
import type { TestUnit, TestUser } from '../helpers/org';
import {
  ARTIFACTS,
  attributeOf,
  classOf,
  countOf,
  describeInBrowser,
  inputValueOf,
  isFocused,
  launchBrowser,
  newContext,
  POLL,
  type RunningGaung,
  screenshot,
  signIn,
  startGaung,
  textOf,
  urlOf,
  watchPage,
} from './support';

const X_CLIENT_ID = 'gaung-e2e-client';

/** About 290 weighted characters of office news: past X's 280 once the credit line is added. */
const LONG_TEXT =
  'Kantor Imigrasi Kelas I membuka layanan paspor pada hari Sabtu selama bulan ini untuk warga yang bekerja pada hari kerja. ' +
  'Silakan datang membawa KTP asli, kartu keluarga dan akta kelahiran. Antrean dibuka pukul 08.00 sampai 12.00 WIB dan dapat ' +
  'didaftarkan melalui aplikasi resmi. Terima kasih atas kerja samanya.';
const SHORT_TEXT =
  'Layanan paspor hari Sabtu dibuka pukul 08.00–12.00 WIB sepanjang bulan ini. Bawa KTP asli dan kartu keluarga. 🛂';

const actorOf = (user: TestUser, unit: TestUnit): Actor => ({
  userId: user.id,
  role: user.role,
  unitId: unit.id,
  unitPath: unit.path,
});

describeInBrowser('offices submit from a phone, humas reviews at a desk', () => {
  let gaung: RunningGaung;
  let browser: Browser;
  let office: BrowserContext;
  let reviewer: BrowserContext;
  let officePage: Page;
  let reviewerPage: Page;
  let x: FakeX;
  let xUser: FakeXUser;
  let telegram: TelegramFake;
  let chat: TelegramChat;
  let mastodon: FakeMastodon;
  let mastodonToken: string;
  let postId = '';
  let watched: { errors: string[] }[] = [];

  beforeAll(async () => {
    x = createFakeX();
    telegram = createTelegramFake();
    mastodon = createFakeMastodon();
    await Promise.all([x.start(), telegram.start(), mastodon.start()]);
    x.registerClient(X_CLIENT_ID);
    xUser = x.addUser({ username: 'humas_nasional', name: 'Humas Nasional' });
    chat = telegram.createChat({
      title: 'Humas Nasional',
      username: 'humasnasional',
      type: 'channel',
      botStatus: 'administrator',
      canPostMessages: true,
    });
    mastodonToken = mastodon.issueToken(mastodon.addAccount({ username: 'humas' }).id);
    gaung = await startGaung({
      workers: true,
      env: {
        GAUNG_X_API_URL: x.url,
        GAUNG_X_UPLOAD_URL: x.url,
        GAUNG_X_CLIENT_ID: X_CLIENT_ID,
        GAUNG_TELEGRAM_API_URL: telegram.url,
        GAUNG_SWEEP_EVERY_MS: '1000',
        GAUNG_RECONCILE_DELAY_MS: '0',
      },
    });
    // Other offices' submissions, so the inbox is measured with a realistic page of work.
    const author = gaung.org.user('officeA2', 'contributor');
    const actor = actorOf(author, gaung.org.units.officeA2);
    for (let i = 0; i < 45; i += 1) {
      const post = await createPost(gaung.t.ctx, actor, {
        body: `Kabar nomor ${i + 1} dari Kantor A2: ${LONG_TEXT} ${LONG_TEXT}`,
        tags: ['Imigrasi', 'Paspor'],
      });
      await submitPost(gaung.t.ctx, actor, post.id, post.version);
    }
    browser = await launchBrowser();
    office = await newContext(browser, { mobile: true });
    reviewer = await newContext(browser);
    officePage = await office.newPage();
    reviewerPage = await reviewer.newPage();
    watched = [watchPage(officePage), watchPage(reviewerPage)];
  });

  afterAll(async () => {
    await office?.close();
    await reviewer?.close();
    await browser?.close();
    await gaung?.close();
    await Promise.all([x?.stop(), telegram?.stop(), mastodon?.stop()]);
  });

  it('an admin connects X (OAuth), Telegram and Mastodon channels and gives Mastodon posting slots', async () => {
    const admin = await newContext(browser);
    const page = await admin.newPage();
    const errors = watchPage(page).errors;
    // X's consent screen, played by the test: Gaung's redirect to X is answered at once with X's
    // redirect back (a route sees only the first URL of a redirect chain, so it wraps Gaung's).
    await page.route(/\/api\/v1\/channels\/[0-9a-f-]{36}\/connect\/x$/, async (route) => {
      const toX = await route.fetch({ maxRedirects: 0 });
      const url = new URL(toX.headers().location!);
      expect(`${url.origin}${url.pathname}`).toBe('https://x.com/i/oauth2/authorize');
      const code = x.authorize({
        clientId: url.searchParams.get('client_id')!,
        userId: xUser.id,
        redirectUri: url.searchParams.get('redirect_uri')!,
        codeChallenge: url.searchParams.get('code_challenge')!,
        scope: url.searchParams.get('scope')!,
      });
      const back = new URL(url.searchParams.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state')!);
      await route.fulfill({ status: 302, headers: { location: back.toString() } });
    });
    await signIn(page, gaung.url, gaung.org.user('national', 'admin').email);

    const create = async (platform: string, name: string) => {
      await page.goto(`${gaung.url}/admin/channels`);
      await page.locator('#unitId').selectOption(gaung.org.units.national.id);
      await page.locator('#platform').selectOption(platform);
      await page.locator('#name').fill(name);
      await Promise.all([
        page.waitForURL(/\/admin\/channels\/[0-9a-f-]{36}\?ok=created/),
        page.getByRole('button', { name: 'Tambah kanal' }).click(),
      ]);
    };

    await create('telegram', 'Telegram Humas');
    await page.locator('#chatId').fill('@humasnasional');
    await page.locator('#botToken').fill(telegram.bot.token);
    await Promise.all([
      page.waitForURL(/ok=connected/),
      page.getByRole('button', { name: 'Simpan dan periksa' }).click(),
    ]);
    await expect
      .poll(attributeOf(page.locator('[data-channel-status]'), 'data-channel-status'), POLL)
      .toBe('active');

    await create('mastodon', 'Mastodon Humas');
    await page.locator('#instanceUrl').fill(mastodon.url);
    await page.locator('#accessToken').fill(mastodonToken);
    await Promise.all([
      page.waitForURL(/ok=connected/),
      page.getByRole('button', { name: 'Simpan dan periksa' }).click(),
    ]);
    await expect
      .poll(attributeOf(page.locator('[data-channel-status]'), 'data-channel-status'), POLL)
      .toBe('active');
    await page.locator('#slots').fill('0 9 * * *\n0 15 * * *');
    await Promise.all([
      page.waitForURL(/ok=saved/),
      page.getByRole('button', { name: 'Simpan', exact: true }).click(),
    ]);
    await expect.poll(inputValueOf(page.locator('#slots')), POLL).toBe('0 9 * * *\n0 15 * * *');

    await create('x', 'X Humas');
    await Promise.all([
      page.waitForURL(/connected=1/),
      page.getByRole('link', { name: 'Hubungkan akun X' }).click(),
    ]);
    await expect
      .poll(attributeOf(page.locator('[data-channel-status]'), 'data-channel-status'), POLL)
      .toBe('active');
    await expect.poll(textOf(page.locator('main')), POLL).toContain('@humas_nasional');
    await screenshot(page, '01-admin-channel-connected');
    await page.goto(`${gaung.url}/admin/channels`);
    await expect.poll(countOf(page.locator('main .list .item')), POLL).toBe(3);
    expect(errors).toEqual([]);
    await admin.close();
  });

  it('an office signs in on a phone, attaches a photo and sees the X counter turn red past 280', async () => {
    const page = officePage;
    await signIn(page, gaung.url, gaung.org.user('officeA1', 'contributor').email);
    await expect.poll(urlOf(page), POLL).toMatch(/\/posts$/);
    await page.getByRole('link', { name: 'Kiriman baru' }).first().click();
    await expect.poll(textOf(page.locator('h1')), POLL).toBe('Kiriman baru');

    const photo = await sharp({
      create: { width: 1200, height: 800, channels: 3, background: { r: 20, g: 110, b: 180 } },
    })
      .jpeg()
      .toBuffer();
    await page
      .locator('#upload')
      .setInputFiles({ name: 'layanan-paspor.jpg', mimeType: 'image/jpeg', buffer: photo });
    const medium = page.locator('#media-list .medium');
    await medium.locator('img').waitFor({ state: 'visible', timeout: 30_000 });
    await expect.poll(countOf(medium.locator('progress')), POLL).toBe(0);
    await medium
      .getByLabel('Teks alternatif (untuk pembaca layar)')
      .fill('Petugas melayani pemohon paspor di loket');

    const xCounter = page.locator('li.preview[data-platform="x"] [data-counter]');
    await page.locator('#body').fill('Layanan paspor hari Sabtu.');
    await expect.poll(classOf(xCounter), POLL).not.toMatch(/over/);
    await page.locator('#body').fill(LONG_TEXT);
    await expect.poll(classOf(xCounter), POLL).toMatch(/over/);
    const used = Number(await xCounter.locator('[data-used]').textContent());
    expect(used).toBeGreaterThan(280);
    await expect.poll(textOf(xCounter.locator('[data-limit]')), POLL).toBe('280');
    // Telegram's caption limit (1,024 with a photo) still fits.
    await expect
      .poll(classOf(page.locator('li.preview[data-platform="telegram"] [data-counter]')), POLL)
      .not.toMatch(/over/);
    await screenshot(page, '02-office-counter-over-280');

    await Promise.all([
      page.waitForURL(/\/posts\/[0-9a-f-]{36}\?ok=submitted/),
      page.getByRole('button', { name: 'Simpan dan kirim untuk ditinjau' }).click(),
    ]);
    postId = new URL(page.url()).pathname.split('/')[2]!;
    await expect.poll(textOf(page.locator('main .badge').first()), POLL).toBe('Menunggu tinjauan');
    await expect
      .poll(attributeOf(page.locator('.thumbs img'), 'alt'), POLL)
      .toBe('Petugas melayani pemohon paspor di loket');
    await screenshot(page, '03-office-submitted');
  });

  it('the inbox page weighs under 100 KB on the wire', async () => {
    await signIn(reviewerPage, gaung.url, gaung.org.user('national', 'reviewer').email);
    // A first visit with an empty cache: the reviewer's session in a new browser context.
    const fresh = await newContext(browser);
    await fresh.addCookies(await reviewer.cookies());
    const weighed = await fresh.newPage();
    let bytes = 0;
    const resources: string[] = [];
    weighed.on('requestfinished', async (request) => {
      const sizes = await request.sizes();
      bytes += sizes.responseBodySize + sizes.responseHeadersSize;
      resources.push(`${request.url()} ${sizes.responseBodySize + sizes.responseHeadersSize}`);
    });
    await weighed.goto(`${gaung.url}/inbox`, { waitUntil: 'networkidle' });
    await expect.poll(countOf(weighed.locator('[data-inbox] li')), POLL).toBe(46);
    await expect.poll(textOf(weighed.locator('.lead')), POLL).toBe('46 kiriman menunggu tinjauan');
    mkdirSync(path.join(ARTIFACTS, 'e2e'), { recursive: true });
    writeFileSync(
      path.join(ARTIFACTS, 'e2e', 'inbox-weight.txt'),
      `inbox page, 46 waiting posts, fresh cache: ${bytes} bytes transferred\n${resources.join('\n')}\n`,
    );
    console.log(`inbox page weight: ${bytes} bytes transferred (${resources.length} responses)`);
    expect(resources.length).toBeGreaterThanOrEqual(3);
    expect(bytes).toBeLessThan(100 * 1024);
    await fresh.close();
  });

  it('the reviewer finds the post with j/k, sees the X issue and requests changes with c', async () => {
    const page = reviewerPage;
    await page.goto(`${gaung.url}/inbox`);
    await screenshot(page, '04-reviewer-inbox');
    await page.keyboard.press('j');
    await expect.poll(isFocused(page.locator('[data-inbox] [data-item]').first()), POLL).toBe(true);
    await page.keyboard.press('j');
    await expect.poll(isFocused(page.locator('[data-inbox] [data-item]').nth(1)), POLL).toBe(true);
    await page.keyboard.press('k');
    await expect.poll(isFocused(page.locator('[data-inbox] [data-item]').first()), POLL).toBe(true);

    await page.locator(`a[href="/review/${postId}"]`).click();
    await expect.poll(textOf(page.locator('h1')), POLL).toBe('Tinjau kiriman');
    const xTarget = page.locator('li.target[data-platform="x"]');
    await expect.poll(classOf(xTarget.locator('.counter')), POLL).toMatch(/over/);
    await expect.poll(textOf(xTarget.locator('.issue-error')), POLL).toContain('Teks terlalu panjang');
    await expect
      .poll(countOf(page.locator('li.target[data-platform="telegram"] .issue-error')), POLL)
      .toBe(0);
    await screenshot(page, '05-reviewer-review-page');

    await page.keyboard.press('c');
    await expect.poll(isFocused(page.locator('#changes-comment')), POLL).toBe(true);
    await page.keyboard.type('Terlalu panjang untuk X; mohon dipersingkat.');
    await Promise.all([
      page.waitForURL(/\/inbox\?ok=changesRequested/),
      page.getByRole('button', { name: /Minta perbaikan/ }).click(),
    ]);
    await expect
      .poll(textOf(page.locator('.alert-ok')), POLL)
      .toBe('Permintaan perbaikan terkirim ke kantor.');
    await expect.poll(countOf(page.locator(`a[href="/review/${postId}"]`)), POLL).toBe(0);
  });

  it('the office reads the request, shortens the text and resubmits', async () => {
    const page = officePage;
    await page.goto(`${gaung.url}/notifications`);
    await expect
      .poll(textOf(page.locator('main .list .item').first()), POLL)
      .toContain('Humas meminta perbaikan kiriman Anda');
    await expect
      .poll(textOf(page.locator('main .list .item').first()), POLL)
      .toContain('Terlalu panjang untuk X; mohon dipersingkat.');
    await page.locator('main .list .item a').first().click();
    await expect.poll(textOf(page.locator('main .badge').first()), POLL).toBe('Perlu perbaikan');
    await page.getByRole('link', { name: 'Ubah' }).click();
    await expect.poll(countOf(page.locator('#media-list .medium')), POLL).toBe(1);
    await page.locator('#body').fill(SHORT_TEXT);
    await expect
      .poll(classOf(page.locator('li.preview[data-platform="x"] [data-counter]')), POLL)
      .not.toMatch(/over/);
    await screenshot(page, '06-office-edited');
    await Promise.all([
      page.waitForURL(/ok=submitted/),
      page.getByRole('button', { name: 'Simpan dan kirim untuk ditinjau' }).click(),
    ]);
    await expect.poll(textOf(page.locator('main .badge').first()), POLL).toBe('Menunggu tinjauan');
    await expect.poll(textOf(page.locator('main .text')), POLL).toBe(SHORT_TEXT);
  });

  it('the reviewer approves to X and Telegram now and to Mastodon at the next slot', async () => {
    const page = reviewerPage;
    await page.goto(`${gaung.url}/review/${postId}`);
    await expect
      .poll(classOf(page.locator('li.target[data-platform="x"] .counter')), POLL)
      .not.toMatch(/over/);
    for (const platform of ['x', 'telegram', 'mastodon'])
      await page.locator(`li.target[data-platform="${platform}"] input[data-target-toggle]`).check();
    await page.locator('li.target[data-platform="mastodon"] input[type="radio"][value="slot"]').check();
    await screenshot(page, '07-reviewer-approving');
    await page.keyboard.press('a');
    await expect.poll(isFocused(page.getByRole('button', { name: /^Setujui/ })), POLL).toBe(true);
    await Promise.all([page.waitForURL(/\/inbox\?ok=approved/), page.keyboard.press('Enter')]);
    await expect.poll(textOf(page.locator('.alert-ok')), POLL).toBe('Kiriman disetujui dan dijadwalkan.');
  });

  it('the deliveries page shows the X and Telegram posts published with their links', async () => {
    const page = reviewerPage;
    const published = (platform: string) =>
      page.locator(`li.delivery-row[data-platform="${platform}"][data-status="published"]`);
    const deadline = Date.now() + 90_000;
    do {
      await page.goto(`${gaung.url}/deliveries`);
      if ((await published('x').count()) === 1 && (await published('telegram').count()) === 1) break;
      await page.waitForTimeout(1_000);
    } while (Date.now() < deadline);
    await expect.poll(countOf(published('x')), POLL).toBe(1);
    await expect.poll(countOf(published('telegram')), POLL).toBe(1);

    const [tweet] = x.timeline(xUser.id);
    expect(tweet?.submittedText).toContain(SHORT_TEXT);
    expect(tweet?.mediaIds).toHaveLength(1);
    await expect
      .poll(attributeOf(published('x').getByRole('link', { name: 'Lihat unggahan' }), 'href'), POLL)
      .toBe(`https://x.com/humas_nasional/status/${tweet!.id}`);

    const messages = telegram.messages(chat.id);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.caption ?? messages[0]!.text).toContain(SHORT_TEXT);
    await expect
      .poll(attributeOf(published('telegram').getByRole('link', { name: 'Lihat unggahan' }), 'href'), POLL)
      .toBe(`https://t.me/humasnasional/${messages[0]!.messageId}`);
    await expect
      .poll(attributeOf(page.locator('li.delivery-row[data-platform="mastodon"]'), 'data-status'), POLL)
      .toBe('scheduled');
    expect(mastodon.statuses).toHaveLength(0);
    await screenshot(page, '08-deliveries-published');

    // The office sees the links on its post too.
    await officePage.goto(`${gaung.url}/posts`);
    await expect.poll(countOf(officePage.locator('main .links a')), POLL).toBe(2);
    await screenshot(officePage, '09-office-published-links');
  });

  it('the calendar shows the Mastodon delivery in its slot', async () => {
    const page = reviewerPage;
    await page.goto(`${gaung.url}/deliveries`);
    await page
      .locator('li.delivery-row[data-platform="mastodon"]')
      .getByRole('link', { name: 'Lihat di kalender' })
      .click();
    await expect.poll(textOf(page.locator('h1')), POLL).toBe('Kalender');
    const row = page.locator('tr[data-platform="mastodon"]');
    const entry = row.locator('li.entry[data-delivery]');
    await expect.poll(countOf(entry), POLL).toBe(1);
    await expect.poll(textOf(entry.locator('.badge')), POLL).toBe('Terjadwal');
    await expect.poll(textOf(entry.locator('.clock')), POLL).toMatch(/^(09|15)\.00$/);
    await screenshot(page, '10-calendar-mastodon-slot');
    expect(watched.flatMap((w) => w.errors)).toEqual([]);
  });

  it('every page fits a 360 px wide phone without sideways scrolling', async () => {
    const phone = await newContext(browser, { mobile: true });
    const page = await phone.newPage();
    await page.setViewportSize({ width: 360, height: 740 });
    const overflowing: string[] = [];
    const visit = async (path: string) => {
      await page.goto(`${gaung.url}${path}`);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      if (width > 360) overflowing.push(`${path}: ${width}px`);
    };
    await phone.addCookies(await office.cookies());
    for (const path of [
      '/posts',
      '/posts/new',
      `/posts/${postId}`,
      `/posts/${postId}/edit`,
      '/notifications',
      '/account',
      '/admin/tokens',
    ])
      await visit(path);
    await phone.clearCookies();
    await phone.addCookies(await reviewer.cookies());
    for (const path of [
      '/inbox',
      `/review/${postId}`,
      '/deliveries',
      '/calendar',
      '/calendar?view=month',
      '/press',
    ])
      await visit(path);
    await screenshot(page, '11-phone-360-press');
    await phone.close();
    expect(overflowing).toEqual([]);
  });
});
