import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sources } from '../../src/db/schema';
import { id as msg } from '../../src/web/i18n/id';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, TEST_PASSWORD, type TestOrg } from '../helpers/org';
import { signIn, submitForm, type TestSession } from '../helpers/session';

/**
 * The sources page: an office lists its sources, adds one (read once first), sees why an address was
 * refused next to the field, pauses, resumes, reads now, switches auto-submit and removes it. People
 * of other units cannot touch the source: another office does not even see it.
 */

const RSS = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>Kantor Imigrasi Pontianak</title>
<link>https://kanim-pontianak.example/</link>
<description>Berita</description>
<item><title>Layanan paspor</title><link>https://kanim-pontianak.example/berita/1</link>
<pubDate>Sat, 05 Oct 2024 08:30:00 +0700</pubDate><description>Layanan paspor hari Sabtu.</description></item>
</channel></rss>`;

/** An office website: its source at /source.xml, a plain HTML page everywhere else. */
function startSite(): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer((request, response) => {
    if (request.url === '/source.xml') {
      response.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8' });
      response.end(RSS);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!DOCTYPE html><title>Beranda</title><p>Selamat datang</p>');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }),
    ),
  );
}

/** The text of the element with this id (its first text run is enough for field errors). */
const textOf = (html: string, elementId: string) =>
  new RegExp(`id="${elementId}"[^>]*>([^<]*)<`).exec(html)?.[1] ?? null;

describe.each(testDrivers())('the sources page on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let site: { url: string; server: http.Server };
  let office: TestSession;
  let sourceId = '';

  const page = (session: TestSession, url = '/sources') => t.app.inject({ url, headers: session.cookie });

  const form = (session: TestSession, url: string, fields: Record<string, string>, csrf?: string) =>
    submitForm(t.app, session, url, fields, csrf);

  const row = async () => (await t.ctx.db.select().from(sources).where(eq(sources.id, sourceId)))[0];

  beforeAll(async () => {
    t = await createTestApp(driver);
    org = await seedTestOrg(t.ctx);
    site = await startSite();
    office = await signIn(t.app, org.user('officeA1', 'contributor').email, TEST_PASSWORD);
  });

  afterAll(async () => {
    site?.server.close();
    await t?.close();
  });

  it('lists no sources at first and offers the form to add one', async () => {
    const response = await page(office);
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain(msg.sources.empty);
    expect(response.body).toContain('action="/sources"');
    expect(response.body).toContain('name="_csrf"');
    expect(response.body).toContain('<a href="/sources" aria-current="page">');
  });

  it('adds a source after reading it, and shows it with a notice', async () => {
    const added = await form(office, '/sources', {
      kind: 'rss',
      url: `${site.url}/source.xml`,
      autoSubmit: '1',
      tags: 'Paspor, #Imigrasi',
    });
    expect(added.statusCode).toBe(303);
    expect(added.headers.location).toBe('/sources?ok=sourceCreated');

    const [created] = await t.ctx.db.select().from(sources).where(eq(sources.unitId, org.units.officeA1.id));
    sourceId = created!.id;
    expect(created).toMatchObject({
      kind: 'rss',
      url: `${site.url}/source.xml`,
      title: 'Kantor Imigrasi Pontianak',
      autoSubmit: true,
      tags: ['Paspor', 'Imigrasi'],
      createdBy: org.user('officeA1', 'contributor').id,
      pausedAt: null,
    });

    const shown = await page(office, '/sources?ok=sourceCreated');
    expect(shown.body).toContain(msg.notices.sourceCreated);
    expect(shown.body).toContain(`data-source="${sourceId}"`);
    expect(shown.body).toContain('Kantor Imigrasi Pontianak');
    expect(shown.body).toContain('#Paspor #Imigrasi');
    expect(shown.body).toContain(msg.sources.toReview);
    expect(shown.body).toContain(msg.sources.imported(0));
    for (const action of ['poll', 'pause', 'auto-submit', 'delete'])
      expect(shown.body).toContain(`action="/sources/${sourceId}/${action}"`);
  });

  it('shows why an address was refused next to the field, keeping what was typed', async () => {
    const notASource = await form(office, '/sources', {
      kind: 'rss',
      url: `${site.url}/beranda`,
      tags: 'Kabar',
    });
    expect(notASource.statusCode).toBe(422);
    expect(notASource.body).toContain(msg.problems.source_unreadable);
    expect(textOf(notASource.body, 'rss-url-error')).toContain('is not an RSS or Atom feed');
    expect(notASource.body).toMatch(/<input[^>]*id="rss-url"[^>]*aria-invalid="true"/);
    expect(notASource.body).toContain(`value="${site.url}/beranda"`);
    expect(notASource.body).toContain('value="Kabar"');

    const again = await form(office, '/sources', { kind: 'rss', url: `${site.url}/source.xml` });
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain(msg.problems.source_exists);
    expect(textOf(again.body, 'rss-url-error')).toBe(msg.fieldProblems.source_exists);

    const notHttp = await form(office, '/sources', {
      kind: 'mastodon',
      url: 'ftp://mastodon.example/@kantor',
    });
    expect(notHttp.statusCode).toBe(400);
    expect(textOf(notHttp.body, 'mastodon-url-error')).toBe(msg.fieldProblems.invalid_format);
    expect(notHttp.body).toMatch(/<details[^>]*data-kind="mastodon"[^>]*open/);

    expect(await t.ctx.db.select().from(sources)).toHaveLength(1);
  });

  it("refuses a form that does not carry the session's CSRF token", async () => {
    const other = await signIn(t.app, org.user('officeA1', 'reviewer').email, TEST_PASSWORD);
    const response = await form(office, `/sources/${sourceId}/pause`, { paused: 'true' }, other.csrfToken);
    expect(response.statusCode).toBe(403);
    expect(response.body).toContain(msg.problems.csrf_failed);
    expect((await row())!.pausedAt).toBeNull();
  });

  it('pauses and resumes the source, reads it now and switches auto-submit', async () => {
    const paused = await form(office, `/sources/${sourceId}/pause`, { paused: 'true' });
    expect(paused.headers.location).toBe('/sources?ok=sourcePaused');
    expect((await row())!.pausedAt).not.toBeNull();
    const pausedPage = (await page(office, '/sources?ok=sourcePaused')).body;
    expect(pausedPage).toContain(msg.notices.sourcePaused);
    expect(pausedPage).toContain(msg.sources.resume);
    expect(pausedPage).not.toContain(`action="/sources/${sourceId}/poll"`);

    // A paused source is read only after it is resumed.
    const pollPaused = await form(office, `/sources/${sourceId}/poll`, {});
    expect(pollPaused.statusCode).toBe(409);
    expect(pollPaused.body).toContain(msg.problems.source_paused);

    const resumed = await form(office, `/sources/${sourceId}/pause`, { paused: 'false' });
    expect(resumed.headers.location).toBe('/sources?ok=sourceResumed');
    expect((await row())!.pausedAt).toBeNull();

    const polled = await form(office, `/sources/${sourceId}/poll`, {});
    expect(polled.statusCode).toBe(303);
    expect(polled.headers.location).toBe('/sources?ok=sourcePolled');

    const tagged = await form(office, `/sources/${sourceId}/tags`, { tags: '#Imigrasi, Paspor Medan' });
    expect(tagged.headers.location).toBe('/sources?ok=saved');
    expect((await row())!.tags).toEqual(['Imigrasi', 'Paspor', 'Medan']);
    const tooLong = await form(office, `/sources/${sourceId}/tags`, { tags: 'x'.repeat(101) });
    expect(tooLong.statusCode).toBe(400);
    expect((await row())!.tags).toEqual(['Imigrasi', 'Paspor', 'Medan']);

    const drafts = await form(office, `/sources/${sourceId}/auto-submit`, { autoSubmit: 'false' });
    expect(drafts.headers.location).toBe('/sources?ok=sourceToDrafts');
    expect((await row())!.autoSubmit).toBe(false);
    expect((await page(office)).body).toContain(msg.sources.toDrafts);
  });

  it('shows the last error of a failing source', async () => {
    await t.ctx.db
      .update(sources)
      .set({ failures: 3, lastError: 'The source answered HTTP 503', lastPolledAt: new Date() })
      .where(eq(sources.id, sourceId));
    const body = (await page(office)).body;
    expect(body).toContain(msg.sources.failing(3));
    expect(body).toContain('The source answered HTTP 503');
  });

  it('lets no one outside the office change the source: another office gets 404, the region 403', async () => {
    const other = await signIn(t.app, org.user('officeA2', 'contributor').email, TEST_PASSWORD);
    expect((await page(other)).body).not.toContain(`data-source="${sourceId}"`);
    const region = await signIn(t.app, org.user('regionA', 'reviewer').email, TEST_PASSWORD);
    const regionPage = (await page(region)).body;
    expect(regionPage).toContain(`data-source="${sourceId}"`);
    expect(regionPage).not.toContain(`action="/sources/${sourceId}/`);

    const actions: [string, Record<string, string>][] = [
      ['pause', { paused: 'true' }],
      ['auto-submit', { autoSubmit: 'true' }],
      ['poll', {}],
      ['tags', { tags: 'bukan' }],
      ['delete', {}],
    ];
    for (const [action, fields] of actions) {
      expect((await form(other, `/sources/${sourceId}/${action}`, fields)).statusCode, action).toBe(404);
      expect((await form(region, `/sources/${sourceId}/${action}`, fields)).statusCode, action).toBe(403);
    }
    expect(await row()).toMatchObject({ pausedAt: null, autoSubmit: false });
  });

  it('removes the source', async () => {
    const removed = await form(office, `/sources/${sourceId}/delete`, {});
    expect(removed.statusCode).toBe(303);
    expect(removed.headers.location).toBe('/sources?ok=sourceDeleted');
    expect(await row()).toBeUndefined();
    const body = (await page(office, '/sources?ok=sourceDeleted')).body;
    expect(body).toContain(msg.notices.sourceDeleted);
    expect(body).toContain(msg.sources.empty);
    expect((await form(office, `/sources/${sourceId}/delete`, {})).statusCode).toBe(404);
  });
});
