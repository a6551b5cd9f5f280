import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { eq } from 'drizzle-orm';
import Parser from 'rss-parser';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { posts, units } from '../../src/db/schema';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { solidImage, uploadMedia } from '../helpers/media';
import { seedTestOrg, type TestOrg, type UnitKey } from '../helpers/org';
import { insertChannel } from '../helpers/posts';
import { type HistoryDelivery, insertReportedPost } from '../helpers/reports';

/**
 * The press room per unit: the national one lists everything, a region's its offices, an office's its
 * own posts; feeds that real parsers accept; media downloads at the original size without camera and
 * location data; a search by words, office and days, page by page.
 */

const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as typeof addFormatsModule;
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
addFormats(ajv);
const validJsonFeed = ajv.compile(
  JSON.parse(readFileSync(new URL('../fakes/specs/jsonfeed-1.1.schema.json', import.meta.url), 'utf8')),
);

const at = (iso: string) => new Date(iso);
const itemIds = (html: string) => [...html.matchAll(/id="post-([0-9a-f-]{36})"/g)].map((match) => match[1]!);

describe.each(testDrivers())('the press room on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  const slug = {} as Record<UnitKey, string>;
  const post = {} as Record<'a1' | 'a2' | 'b1' | 'sandboxOnly' | 'failedOnly' | 'draft', string>;
  let photoWidth: number;

  /** A post of an office's contributor; with deliveries, approved 30 minutes after it was submitted. */
  const officePost = async (
    unit: UnitKey,
    body: string,
    submittedAt: string,
    published?: { deliveries: HistoryDelivery[]; mediaId?: string },
  ) =>
    (
      await insertReportedPost(t.ctx, {
        unit: org.units[unit],
        author: org.user(unit, 'contributor'),
        body,
        submittedAt: at(submittedAt),
        ...(published ? { decision: { after: 30, to: 'approved' as const }, ...published } : {}),
      })
    ).postId;

  beforeAll(async () => {
    t = await createTestApp(driver, { now: () => new Date('2031-03-20T00:00:00Z') });
    org = await seedTestOrg(t.ctx);
    for (const [key, unit] of Object.entries(org.units) as [UnitKey, { id: string }][]) {
      const [row] = await t.ctx.db.select({ slug: units.slug }).from(units).where(eq(units.id, unit.id));
      slug[key] = row!.slug;
    }
    const natX = await insertChannel(t.ctx, org.units.national, 'x', { name: 'X Nasional' });
    const natTg = await insertChannel(t.ctx, org.units.national, 'telegram', { name: 'Telegram Nasional' });
    const regMa = await insertChannel(t.ctx, org.units.regionB, 'mastodon', { name: 'Mastodon Wilayah B' });
    const sandbox = await insertChannel(t.ctx, org.units.national, 'sandbox', { name: 'Sandbox' });
    const webhook = await insertChannel(t.ctx, org.units.national, 'webhook', { name: 'Webhook' });

    // A phone photo with the camera and the place it was taken.
    const photo = await solidImage(1600, 1200)
      .withExif({
        IFD0: { Make: 'Kamera Kantor', Model: 'Ponsel Petugas' },
        IFD3: {
          GPSLatitudeRef: 'S',
          GPSLatitude: '6/1 12/1 0/1',
          GPSLongitudeRef: 'E',
          GPSLongitude: '106/1 49/1 0/1',
        },
      })
      .jpeg()
      .toBuffer();
    photoWidth = 1600;
    const uploaded = await uploadMedia(t.app, org.user('officeA1', 'contributor'), {
      filename: 'IMG_2031.jpg',
      data: photo,
      contentType: 'image/jpeg',
    });
    expect(uploaded.statusCode, uploaded.body).toBe(201);

    const mediaId = uploaded.json().id;
    post.a1 = await officePost(
      'officeA1',
      'Pelayanan paspor simpatik di Kantor A1 hari ini',
      '2031-03-03T01:00:00Z',
      {
        mediaId,
        deliveries: [
          { channelId: natTg, publishedAt: at('2031-03-03T05:00:00Z') },
          { channelId: natX, publishedAt: at('2031-03-03T06:00:00Z') },
          { channelId: sandbox, publishedAt: at('2031-03-03T04:00:00Z') },
        ],
      },
    );
    post.a2 = await officePost(
      'officeA2',
      'Operasi gabungan pengawasan orang asing di Kantor A2',
      '2031-03-05T01:00:00Z',
      {
        deliveries: [{ channelId: natX, publishedAt: at('2031-03-05T09:00:00Z') }],
      },
    );
    post.b1 = await officePost('officeB1', 'Layanan paspor keliling di Kantor B1', '2031-03-10T01:00:00Z', {
      deliveries: [{ channelId: regMa, publishedAt: at('2031-03-10T03:00:00Z') }],
    });
    post.sandboxOnly = await officePost(
      'officeA1',
      'Hanya uji coba di sandbox dan webhook',
      '2031-03-11T01:00:00Z',
      {
        mediaId,
        deliveries: [
          { channelId: sandbox, publishedAt: at('2031-03-11T03:00:00Z') },
          { channelId: webhook, publishedAt: at('2031-03-11T03:00:00Z') },
        ],
      },
    );
    post.failedOnly = await officePost('officeA1', 'Gagal terbit di X', '2031-03-12T01:00:00Z', {
      deliveries: [{ channelId: natX, publishedAt: at('2031-03-12T03:00:00Z'), status: 'failed' }],
    });
    post.draft = await officePost('officeA1', 'Masih menunggu keputusan', '2031-03-12T01:00:00Z');
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists what went out, newest first, in the press room of its office, its region and the nation', async () => {
    const national = await t.app.inject({ url: '/press' });
    expect(national.statusCode).toBe(200);
    expect(itemIds(national.body)).toEqual([post.b1, post.a2, post.a1]);
    // The national unit's slug is the same press room.
    expect(itemIds((await t.app.inject({ url: `/press/${slug.national}` })).body)).toEqual([
      post.b1,
      post.a2,
      post.a1,
    ]);
    expect(itemIds((await t.app.inject({ url: `/press/${slug.regionA}` })).body)).toEqual([post.a2, post.a1]);
    expect(itemIds((await t.app.inject({ url: `/press/${slug.regionB}` })).body)).toEqual([post.b1]);
    expect(itemIds((await t.app.inject({ url: `/press/${slug.officeA1}` })).body)).toEqual([post.a1]);
    const empty = await t.app.inject({ url: `/press/${slug.officeB2}` });
    expect(empty.statusCode).toBe(200);
    expect(itemIds(empty.body)).toEqual([]);
    expect((await t.app.inject({ url: '/press/no-such-unit' })).statusCode).toBe(404);
    expect((await t.app.inject({ url: '/press/no-such-unit/feed.json' })).statusCode).toBe(404);
  });

  it('shows each item with its text, office, links on the public platforms, time, downloads and a credit line', async () => {
    const page = (await t.app.inject({ url: `/press/${slug.officeA1}` })).body;
    const item = page.slice(
      page.indexOf(`id="post-${post.a1}"`),
      page.indexOf('</li>', page.lastIndexOf('credit-')),
    );
    expect(item).toContain('Pelayanan paspor simpatik di Kantor A1 hari ini');
    expect(item).toContain('Kantor A1');
    expect(item).toContain('Telegram Nasional');
    expect(item).toContain('X Nasional');
    expect(item).not.toContain('Sandbox');
    // First publication on a public channel: 05:00 UTC is 12.00 WIB.
    expect(item).toContain('datetime="2031-03-03T05:00:00.000Z"');
    expect(item).toContain(`href="/press/media/${post.a1}/0"`);
    expect(item).toContain(`${slug.officeA1}-2031-03-03-pelayanan-paspor-simpatik-di-kantor-a1.jpg`);
    expect(item).toMatch(/value="Sumber: Kantor A1, Kanwil A \([^)]*2031\)"/);
  });

  it('serves RSS 2.0 per unit that rss-parser reads, with the photo as an enclosure', async () => {
    const response = await t.app.inject({ url: `/press/${slug.regionA}/feed.xml` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('application/rss+xml');
    const feed = await new Parser().parseString(response.body);
    expect(feed.title).toBe('Gaung — Ruang pers Kanwil A');
    expect(feed.link).toBe(`${t.ctx.config.publicUrl}/press/${slug.regionA}`);
    expect(feed.items.map((entry) => entry.guid)).toEqual([`gaung:post:${post.a2}`, `gaung:post:${post.a1}`]);
    const photoItem = feed.items[1]!;
    expect(photoItem.categories).toEqual(['Kantor A1']);
    expect(new Date(photoItem.isoDate!).toISOString()).toBe('2031-03-03T05:00:00.000Z');
    expect(photoItem.enclosure?.url).toBe(`${t.ctx.config.publicUrl}/press/media/${post.a1}/0`);
    expect(photoItem.enclosure?.type).toBe('image/jpeg');
    expect(Number(photoItem.enclosure?.length)).toBeGreaterThan(0);
    expect(feed.items[0]!.enclosure).toBeUndefined();
  });

  it('serves a JSON Feed per unit that validates against JSON Feed 1.1, media as attachments', async () => {
    for (const path of [
      '/press/feed.json',
      `/press/${slug.officeA1}/feed.json`,
      `/press/${slug.officeB2}/feed.json`,
    ]) {
      const response = await t.app.inject({ url: path });
      expect(response.statusCode, path).toBe(200);
      expect(response.headers['content-type']).toContain('application/feed+json');
      const feed = response.json();
      expect(validJsonFeed(feed), `${path}: ${ajv.errorsText(validJsonFeed.errors)}`).toBe(true);
    }
    const feed = (await t.app.inject({ url: `/press/${slug.officeA1}/feed.json` })).json();
    expect(feed.feed_url).toBe(`${t.ctx.config.publicUrl}/press/${slug.officeA1}/feed.json`);
    expect(feed.items).toHaveLength(1);
    expect(feed.items[0].attachments).toEqual([
      expect.objectContaining({
        url: `${t.ctx.config.publicUrl}/press/media/${post.a1}/0`,
        mime_type: 'image/jpeg',
        title: `${slug.officeA1}-2031-03-03-pelayanan-paspor-simpatik-di-kantor-a1.jpg`,
      }),
    ]);
    expect(feed.items[0]._gaung.links.map((link: { channel: string }) => link.channel)).toEqual([
      'Telegram Nasional',
      'X Nasional',
    ]);
    // The schema is strict enough to fail: an item without an id, or an attachment without a type.
    const broken = structuredClone(feed);
    delete broken.items[0].id;
    expect(validJsonFeed(broken)).toBe(false);
    const untyped = structuredClone(feed);
    delete untyped.items[0].attachments[0].mime_type;
    expect(validJsonFeed(untyped)).toBe(false);
  });

  it('downloads a photo at its original resolution, without camera and location data, named after the post', async () => {
    const response = await t.app.inject({ url: `/press/media/${post.a1}/0` });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe('image/jpeg');
    expect(response.headers['content-disposition']).toBe(
      `attachment; filename="${slug.officeA1}-2031-03-03-pelayanan-paspor-simpatik-di-kantor-a1.jpg"`,
    );
    const data = response.rawPayload;
    const meta = await sharp(data).metadata();
    expect([meta.width, meta.height]).toEqual([photoWidth, 1200]);
    expect(meta.exif).toBeUndefined();
    expect(data.includes(Buffer.from('Kamera Kantor'))).toBe(false);
    expect(Number(response.headers['content-length'])).toBe(data.length);
  });

  it('gives no download of what the press room does not show', async () => {
    // The same photo, attached to a post that went only to the sandbox and a webhook.
    expect((await t.app.inject({ url: `/press/media/${post.sandboxOnly}/0` })).statusCode).toBe(404);
    expect((await t.app.inject({ url: `/press/media/${post.a1}/1` })).statusCode).toBe(404);
    expect((await t.app.inject({ url: `/press/media/${post.draft}/0` })).statusCode).toBe(404);
    expect((await t.app.inject({ url: '/press/media/not-a-post/0' })).statusCode).toBe(400);
  });

  it('searches by words, office and days in a GET form, and pages through the results', async () => {
    const page = (await t.app.inject({ url: '/press' })).body;
    expect(page).toMatch(/<form method="get" action="\/press"/);
    const ids = async (query: string, base = '/press') => {
      const response = await t.app.inject({ url: `${base}?${query}` });
      expect(response.statusCode, response.body).toBe(200);
      return itemIds(response.body);
    };
    expect(await ids('q=paspor')).toEqual([post.b1, post.a1]);
    expect(await ids('q=paspor+keliling')).toEqual([post.b1]);
    expect(await ids('q=tidakadakatainidimanapun')).toEqual([]);
    expect(await ids(`office=${slug.regionA}`)).toEqual([post.a2, post.a1]);
    expect(await ids(`q=paspor&office=${slug.officeA1}`)).toEqual([post.a1]);
    // An office outside the press room's unit finds nothing there.
    expect(await ids(`office=${slug.officeB1}`, `/press/${slug.regionA}`)).toEqual([]);
    // Days in the press room's zone (WIB): 5 March 09:00 UTC is 16.00 WIB on the 5th.
    expect(await ids('from=2031-03-05&to=2031-03-05')).toEqual([post.a2]);
    expect(await ids('from=2031-03-04')).toEqual([post.b1, post.a2]);
    expect(await ids('to=2031-03-04')).toEqual([post.a1]);
    expect(await ids('from=&to=&q=&office=')).toEqual([post.b1, post.a2, post.a1]);
    expect((await t.app.inject({ url: '/press?from=2031-02-30' })).statusCode).toBe(400);
  });

  it('pages through many posts published at the same instant without losing or repeating one', async () => {
    const author = org.user('officeB2', 'contributor');
    const channel = await insertChannel(t.ctx, org.units.national, 'bluesky', { name: 'Bluesky Nasional' });
    const created = new Set<string>();
    for (let i = 0; i < 35; i++) {
      const { postId } = await insertReportedPost(t.ctx, {
        unit: org.units.officeB2,
        author,
        body: `Kabar serentak nomor ${i}`,
        submittedAt: at('2031-03-14T01:00:00Z'),
        decision: { after: 10, to: 'approved' },
        deliveries: [
          { channelId: channel, publishedAt: at(i < 20 ? '2031-03-14T02:00:00Z' : '2031-03-14T03:00:00Z') },
        ],
      });
      created.add(postId);
    }
    const seen: string[] = [];
    let url: string | null = `/press/${slug.officeB2}?q=serentak`;
    while (url) {
      const response: { statusCode: number; body: string } = await t.app.inject({ url });
      expect(response.statusCode).toBe(200);
      seen.push(...itemIds(response.body));
      const next: string | undefined = /<a href="([^"]+)" rel="next"/.exec(response.body)?.[1];
      url = next ? next.replace(/&amp;/g, '&') : null;
      if (url) expect(url).toContain('q=serentak');
    }
    expect(seen).toHaveLength(35);
    expect(new Set(seen)).toEqual(created);
  });

  it('refuses the press room’s own paths as a slug, and follows a slug an admin changes', async () => {
    const admin = org.user('national', 'admin');
    for (const reserved of ['media', 'feed.xml']) {
      const refused = await t.app.inject({
        method: 'PATCH',
        url: `/api/v1/units/${org.units.officeB2.id}`,
        headers: admin.headers,
        payload: { slug: reserved },
      });
      expect(refused.statusCode, reserved).toBe(400);
      expect(refused.json().errors.map((error: { field: string }) => error.field)).toContain('slug');
    }
    const renamed = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/units/${org.units.officeA2.id}`,
      headers: admin.headers,
      payload: { slug: 'kantor-a2-baru' },
    });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(itemIds((await t.app.inject({ url: '/press/kantor-a2-baru' })).body)).toEqual([post.a2]);
    expect((await t.app.inject({ url: `/press/${slug.officeA2}` })).statusCode).toBe(404);
    const [row] = await t.ctx.db.select({ status: posts.status }).from(posts).where(eq(posts.id, post.a2));
    expect(row!.status).toBe('approved');
  });
});
