import { sql } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client';
import { id as msg } from '../../src/web/i18n/id';
import {
  countOf,
  describeInBrowser,
  launchBrowser,
  newContext,
  POLL,
  type RunningGaung,
  signIn,
  startGaung,
  watchPage,
} from './support';

/**
 * Photos in the post editor on a phone: with scripts blocked the file goes with the form and
 * "attach" brings the editor back for its alt text; with scripts the file uploads as soon as it is
 * chosen and saving the form does not send it a second time.
 */

describeInBrowser('attaching photos in the post editor, with and without JavaScript', () => {
  let gaung: RunningGaung;
  let browser: Browser;

  beforeAll(async () => {
    gaung = await startGaung();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await gaung?.close();
  });

  const photo = (blue: number) =>
    sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 20, g: 110, b: blue } } })
      .jpeg()
      .toBuffer();
  const mediaRows = async () =>
    Number((await queryRows<{ n: number }>(gaung.t.ctx.db, sql`select count(*)::int as n from media`))[0]!.n);

  it('without JavaScript: attach, write the alt text, save', async () => {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      locale: 'id-ID',
      javaScriptEnabled: false,
    });
    const page = await context.newPage();
    await signIn(page, gaung.url, gaung.org.user('officeA1', 'contributor').email);
    await page.goto(`${gaung.url}/posts/new`);
    await page.locator('#body').fill('Layanan paspor hari Sabtu.');
    await page
      .locator('#upload')
      .setInputFiles({ name: 'loket.jpg', mimeType: 'image/jpeg', buffer: await photo(180) });
    await Promise.all([
      page.waitForURL(/\/posts\/[0-9a-f-]{36}\/edit#media-title$/),
      page.getByRole('button', { name: msg.editor.attach }).click(),
    ]);
    const medium = page.locator('#media-list .medium');
    expect(await medium.count()).toBe(1);
    expect(await page.locator('#body').inputValue()).toBe('Layanan paspor hari Sabtu.');
    await medium.getByLabel(msg.editor.altText).fill('Petugas di loket paspor');
    // Enter in a field saves (the form's first button is Save, not attach).
    await Promise.all([
      page.waitForURL(/\/posts\/[0-9a-f-]{36}\?ok=saved$/),
      medium.getByLabel(msg.editor.altText).press('Enter'),
    ]);
    expect(await page.locator('.thumbs img').getAttribute('alt')).toBe('Petugas di loket paspor');
    await context.close();
  });

  it('with JavaScript: the chosen photo uploads once, and saving does not send it again', async () => {
    const context = await newContext(browser, { mobile: true });
    const page = await context.newPage();
    const { errors } = watchPage(page);
    await signIn(page, gaung.url, gaung.org.user('officeA1', 'contributor').email);
    await page.goto(`${gaung.url}/posts/new`);
    // The script uploads on its own: no attach button.
    expect(await page.getByRole('button', { name: msg.editor.attach }).count()).toBe(0);
    const before = await mediaRows();
    const sent: Buffer[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname === '/posts')
        sent.push(request.postDataBuffer() ?? Buffer.alloc(0));
    });
    await page
      .locator('#upload')
      .setInputFiles({ name: 'antrean.jpg', mimeType: 'image/jpeg', buffer: await photo(60) });
    const medium = page.locator('#media-list .medium');
    await medium.locator('img').waitFor({ state: 'visible', timeout: 30_000 });
    await expect.poll(countOf(medium.locator('progress')), POLL).toBe(0);
    await page.locator('#body').fill('Antrean paspor.');
    await Promise.all([
      page.waitForURL(/\/posts\/[0-9a-f-]{36}\?ok=saved$/),
      page.getByRole('button', { name: msg.editor.save }).click(),
    ]);
    expect(await page.locator('.thumbs img').count()).toBe(1);
    expect(await mediaRows()).toBe(before + 1);
    // The form went with an empty file input: the photo travelled once, to the media API.
    expect(sent).toHaveLength(1);
    expect(sent[0]!.toString('latin1')).toContain('name="file"; filename=""');
    expect(sent[0]!.toString('latin1')).not.toContain('antrean.jpg');
    expect(errors).toEqual([]);
    await context.close();
  });
});
