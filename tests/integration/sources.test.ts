import { readdir } from 'node:fs/promises';
import { Worker } from 'bullmq';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditEvents,
  media,
  notifications,
  postEvents,
  postMedia,
  posts,
  sources,
  users,
} from '../../src/db/schema';
import { workerConnection } from '../../src/queues/redis';
import { sweep } from '../../src/services/maintenance';
import { AUTHOR_GONE, pollSource } from '../../src/services/sources';
import { processIngest } from '../../workers/ingest';
import { createFeedSite, type FeedSite } from '../fakes/feed-site';
import { createFakeMastodon, type FakeMastodon } from '../fakes/mastodon';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { solidImage, uploadMedia } from '../helpers/media';
import { seedTestOrg, type TestOrg } from '../helpers/org';

/**
 * Ingest end to end: an office adds its own source through the API, polls bring new items in as its
 * posts (text, media with alt text, the item as source URL), once each, and failures are kept on the
 * source with a growing wait. Fakes: an office website (RSS, Atom) and a Mastodon instance.
 */
describe.each(testDrivers())('office sources on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let site: FeedSite;
  let mastodon: FakeMastodon;
  const hour = 3_600_000;

  beforeAll(async () => {
    site = createFeedSite();
    mastodon = createFakeMastodon();
    await Promise.all([site.start(), mastodon.start()]);
    t = await createTestApp(driver, { env: { GAUNG_SOURCE_POLL_SECONDS: '300' } });
    org = await seedTestOrg(t.ctx);
  });

  afterAll(async () => {
    await t?.close();
    await site?.stop();
    await mastodon?.stop();
  });

  const office = () => org.user('officeA1', 'contributor');

  async function addSource(body: Record<string, unknown>, who = office()) {
    return t.app.inject({ method: 'POST', url: '/api/v1/sources', headers: who.headers, payload: body });
  }

  /** Makes the source due and polls it, as the worker would. */
  async function pollNow(sourceId: string) {
    await t.ctx.db
      .update(sources)
      .set({ nextPollAt: new Date(Date.now() - 1_000) })
      .where(eq(sources.id, sourceId));
    return pollSource(t.ctx, sourceId);
  }

  const postsOf = (sourceId: string) =>
    t.ctx.db.select().from(posts).where(eq(posts.sourceId, sourceId)).orderBy(asc(posts.createdAt));

  it('brings new items of an RSS source in as drafts of the office, each once, with their pictures', async () => {
    const source = site.feed('/berita/source', { format: 'rss', title: 'Kantor Imigrasi Kelas I Medan' });
    source.add({
      title: 'Arsip lama',
      summary: '<p>Sebelum source ditambahkan</p>',
      published: new Date(Date.now() - 48 * hour),
    });
    const created = await addSource({
      kind: 'rss',
      url: source.url,
      tags: ['#Imigrasi', 'Medan'],
      since: new Date(Date.now() - 24 * hour).toISOString(),
    });
    expect(created.statusCode, created.body).toBe(201);
    const view = created.json() as { id: string; title: string; autoSubmit: boolean; tags: string[] };
    expect(view).toMatchObject({
      title: 'Kantor Imigrasi Kelas I Medan',
      autoSubmit: false,
      tags: ['Imigrasi', 'Medan'],
    });

    const picture = await solidImage(640, 480).jpeg().toBuffer();
    const first = source.add({
      title: 'Layanan paspor di akhir pekan',
      summary: '<p>Kantor kami membuka layanan <b>paspor</b> pada hari Sabtu &amp; Minggu.</p>',
      published: new Date(Date.now() - 2 * hour),
      media: [{ bytes: picture, description: 'Petugas melayani pemohon paspor', as: 'media:content' }],
    });
    source.add({
      title: 'Sosialisasi keimigrasian',
      summary: 'Di SMA Negeri 1',
      published: new Date(Date.now() - hour),
    });

    expect(await pollNow(view.id)).toMatchObject({ outcome: 'polled', imported: 2 });
    const brought = await postsOf(view.id);
    expect(brought.map((p) => p.body)).toEqual([
      'Layanan paspor di akhir pekan\n\nKantor kami membuka layanan paspor pada hari Sabtu & Minggu.',
      'Sosialisasi keimigrasian\n\nDi SMA Negeri 1',
    ]);
    const [withPicture] = brought;
    expect(withPicture).toMatchObject({
      status: 'draft',
      unitId: org.units.officeA1.id,
      authorId: office().id,
      sourceUrl: first.link,
      tags: ['Imigrasi', 'Medan'],
    });
    const attached = await t.ctx.db
      .select({ altText: media.altText, mime: media.mime, width: media.width })
      .from(postMedia)
      .innerJoin(media, eq(media.id, postMedia.mediaId))
      .where(eq(postMedia.postId, withPicture!.id));
    expect(attached).toEqual([
      { altText: 'Petugas melayani pemohon paspor', mime: 'image/jpeg', width: 640 },
    ]);
    const [event] = await t.ctx.db.select().from(postEvents).where(eq(postEvents.postId, withPicture!.id));
    expect(event).toMatchObject({ kind: 'edit', toStatus: 'draft', actorId: office().id });
    expect(event!.data).toMatchObject({
      created: true,
      source: { id: view.id, kind: 'rss', item: first.link },
    });

    // Read again: nothing new, nothing twice.
    expect(await pollNow(view.id)).toMatchObject({ outcome: 'polled', imported: 0 });
    expect(await postsOf(view.id)).toHaveLength(2);

    // The office sees the drafts in its list of posts, through the API.
    const listed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/posts?status=draft',
      headers: office().headers,
    });
    const ids = (listed.json() as { items: { id: string }[] }).items.map((p) => p.id);
    expect(ids).toEqual(expect.arrayContaining(brought.map((p) => p.id)));

    const [stored] = await t.ctx.db.select().from(sources).where(eq(sources.id, view.id));
    expect(stored).toMatchObject({ failures: 0, lastError: null, itemsImported: 2 });
    expect(stored!.nextPollAt.getTime() - stored!.lastPolledAt!.getTime()).toBe(300_000);
  });

  it('sends items straight to review when the source submits automatically', async () => {
    const source = site.feed('/otomatis.atom', { format: 'atom', title: 'Kanim Bandung' });
    const created = (await addSource({ kind: 'rss', url: source.url, autoSubmit: true })).json() as {
      id: string;
    };
    source.add({
      title: 'Pelayanan ramah disabilitas',
      summary: 'Kursi roda tersedia',
      published: new Date(),
    });
    expect(await pollNow(created.id)).toMatchObject({ imported: 1 });
    const [post] = await postsOf(created.id);
    expect(post).toMatchObject({ status: 'submitted' });
    expect(post!.submittedAt).not.toBeNull();
    const inbox = await t.app.inject({
      method: 'GET',
      url: '/api/v1/reviews',
      headers: org.user('regionA', 'reviewer').headers,
    });
    expect(JSON.stringify(inbox.json())).toContain(post!.id);
  });

  it('reads a public Mastodon account: public statuses only, content warning first, media with alt text', async () => {
    const account = mastodon.addAccount({ username: 'kanim_medan', displayName: 'Kanim Medan' });
    const created = await addSource({
      kind: 'mastodon',
      url: `${mastodon.url}/@kanim_medan`,
      autoSubmit: false,
    });
    expect(created.statusCode, created.body).toBe(201);
    const source = created.json() as { id: string; title: string };
    expect(source.title).toBe('Kanim Medan');

    const picture = await solidImage(800, 600).png().toBuffer();
    const shown = mastodon.addStatus(
      account.id,
      'Antrean online dibuka #paspor https://imigrasi.go.id/antrean',
      {
        spoilerText: 'Pengumuman',
        media: [{ bytes: picture, kind: 'image', description: 'Tangkapan layar aplikasi' }],
      },
    );
    const reply = mastodon.addStatus(account.id, 'Terima kasih!', { inReplyTo: shown.id });
    mastodon.addStatus(account.id, 'Hanya pengikut', { visibility: 'private' });
    expect(reply.inReplyTo).toBe(shown.id);

    expect(await pollNow(source.id)).toMatchObject({ outcome: 'polled', imported: 1 });
    const [post] = await postsOf(source.id);
    expect(post!.body).toBe('Pengumuman\n\nAntrean online dibuka #paspor https://imigrasi.go.id/antrean');
    expect(post!.sourceUrl).toBe(mastodon.statusUrl(shown));
    const [attached] = await t.ctx.db
      .select({ altText: media.altText, mime: media.mime })
      .from(postMedia)
      .innerJoin(media, eq(media.id, postMedia.mediaId))
      .where(eq(postMedia.postId, post!.id));
    expect(attached).toEqual({ altText: 'Tangkapan layar aplikasi', mime: 'image/png' });
  });

  it('keeps a failure on the source, waits twice as long each time, and recovers', async () => {
    const source = site.feed('/gangguan.xml', { format: 'rss', title: 'Kanim Surabaya' });
    const created = (await addSource({ kind: 'rss', url: source.url })).json() as { id: string };
    site.server.inject({ kind: 'respond', status: 503, body: 'Service Unavailable' }, { times: 2 });

    expect(await pollNow(created.id)).toMatchObject({ outcome: 'failed' });
    let [row] = await t.ctx.db.select().from(sources).where(eq(sources.id, created.id));
    expect(row).toMatchObject({ failures: 1 });
    expect(row!.lastError).toContain('HTTP 503');
    expect(row!.nextPollAt.getTime() - row!.lastPolledAt!.getTime()).toBe(600_000);

    await pollNow(created.id);
    [row] = await t.ctx.db.select().from(sources).where(eq(sources.id, created.id));
    expect(row!.failures).toBe(2);
    expect(row!.nextPollAt.getTime() - row!.lastPolledAt!.getTime()).toBe(1_200_000);

    const api = await t.app.inject({
      method: 'GET',
      url: `/api/v1/sources/${created.id}`,
      headers: office().headers,
    });
    expect(api.json()).toMatchObject({ failures: 2, lastError: expect.stringContaining('503') });

    // A site that asks for time with Retry-After gets it, even beyond the doubled wait.
    site.server.inject(site.tooManyRequests(7_200), { times: 1 });
    await pollNow(created.id);
    [row] = await t.ctx.db.select().from(sources).where(eq(sources.id, created.id));
    expect(row!.failures).toBe(3);
    expect(row!.nextPollAt.getTime() - row!.lastPolledAt!.getTime()).toBeGreaterThan(7_000_000);

    source.add({ title: 'Kembali normal', published: new Date() });
    expect(await pollNow(created.id)).toMatchObject({ outcome: 'polled', imported: 1 });
    [row] = await t.ctx.db.select().from(sources).where(eq(sources.id, created.id));
    expect(row).toMatchObject({ failures: 0, lastError: null });
  });

  it('still brings an item in when one of its media is not a picture, and says which', async () => {
    const source = site.feed('/rusak.xml', { format: 'rss', title: 'Kanim Makassar' });
    const created = (await addSource({ kind: 'rss', url: source.url })).json() as { id: string };
    const item = source.add({
      title: 'Foto kegiatan',
      published: new Date(),
      media: [{ bytes: Buffer.from('<html>not a picture</html>'), type: 'image/jpeg', as: 'media:content' }],
    });
    expect(await pollNow(created.id)).toMatchObject({ imported: 1 });
    const [post] = await postsOf(created.id);
    expect(await t.ctx.db.select().from(postMedia).where(eq(postMedia.postId, post!.id))).toEqual([]);
    const [event] = await t.ctx.db.select().from(postEvents).where(eq(postEvents.postId, post!.id));
    expect(event!.data).toMatchObject({
      source: { mediaSkipped: [{ url: item.media[0], reason: expect.stringContaining('not a') }] },
    });
  });

  it("takes a read's pictures as media of the office once each: one it has already, one shown twice", async () => {
    const known = await solidImage(320, 180).jpeg().toBuffer();
    const fresh = await solidImage(180, 320).png().toBuffer();
    const uploaded = await uploadMedia(t.app, office(), { filename: 'spanduk.jpg', data: known });
    expect(uploaded.statusCode, uploaded.body).toBe(201);
    const library = uploaded.json() as { id: string };

    const source = site.feed('/galeri.xml', { format: 'rss', title: 'Kanim Pontianak' });
    const created = (await addSource({ kind: 'rss', url: source.url })).json() as { id: string };
    const published = Date.now();
    source.add({
      title: 'Spanduk layanan',
      published: new Date(published - 2_000),
      media: [{ bytes: known, type: 'image/jpeg', description: 'Spanduk' }],
    });
    source.add({
      title: 'Antrean pagi',
      published: new Date(published - 1_000),
      media: [{ bytes: fresh, type: 'image/png', description: 'Antrean' }],
    });
    source.add({
      title: 'Antrean siang',
      published: new Date(published),
      media: [{ bytes: fresh, type: 'image/png', description: 'Antrean siang' }],
    });
    expect(await pollNow(created.id)).toMatchObject({ outcome: 'polled', imported: 3 });

    const attached = await t.ctx.db
      .select({ body: posts.body, mediaId: postMedia.mediaId, altText: postMedia.altText })
      .from(posts)
      .innerJoin(postMedia, eq(postMedia.postId, posts.id))
      .where(eq(posts.sourceId, created.id))
      .orderBy(asc(posts.createdAt));
    expect(attached.map((row) => row.altText)).toEqual(['Spanduk', 'Antrean', 'Antrean siang']);
    // The picture the office had is its existing medium, unchanged; the new one is one medium for both.
    expect(attached[0]!.mediaId).toBe(library.id);
    expect(attached[2]!.mediaId).toBe(attached[1]!.mediaId);
    const [libraryRow] = await t.ctx.db.select().from(media).where(eq(media.id, library.id));
    expect(libraryRow!.altText).toBe('');
    const [freshRow] = await t.ctx.db.select().from(media).where(eq(media.id, attached[1]!.mediaId));
    expect(freshRow).toMatchObject({ altText: 'Antrean', mime: 'image/png', width: 180, height: 320 });
    expect(await t.ctx.storage.exists(freshRow!.sha256)).toBe(true);
    expect(await t.ctx.storage.exists(freshRow!.thumbnailSha256!)).toBe(true);
    expect(await readdir(t.ctx.storage.stagingDir)).toEqual([]);
  });

  it('refuses an address that is not a source, and the same source twice, naming the field', async () => {
    site.serve('/beranda', '<!DOCTYPE html><title>Beranda</title><p>Selamat datang</p>', 'text/html');
    const notSource = await addSource({ kind: 'rss', url: `${site.url}/beranda` });
    expect(notSource.statusCode).toBe(422);
    expect(notSource.json()).toMatchObject({
      code: 'source_unreadable',
      errors: [{ field: 'url', code: 'source_unreadable' }],
    });
    const source = site.feed('/dua-kali.xml', { format: 'rss', title: 'Kanim Batam' });
    expect((await addSource({ kind: 'rss', url: source.url })).statusCode).toBe(201);
    const again = await addSource({ kind: 'rss', url: source.url });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'source_exists' });
    const mastodonTypo = await addSource({ kind: 'mastodon', url: `${mastodon.url}/@tidak_ada` });
    expect(mastodonTypo.json()).toMatchObject({ code: 'source_unreadable', errors: [{ field: 'url' }] });
  });

  it('pauses the source and tells its office when the person who added it has left', async () => {
    const source = site.feed('/pindah.xml', { format: 'rss', title: 'Kanim Denpasar' });
    const author = org.user('officeA1', 'reviewer');
    const colleague = org.user('officeA1', 'contributor');
    const created = (await addSource({ kind: 'rss', url: source.url }, author)).json() as { id: string };
    source.add({ title: 'Berita', published: new Date() });
    await t.ctx.db.update(users).set({ disabledAt: new Date() }).where(eq(users.id, author.id));
    try {
      expect(await pollNow(created.id)).toMatchObject({ outcome: 'failed', imported: 0 });
      expect(await postsOf(created.id)).toEqual([]);
      const [row] = await t.ctx.db.select().from(sources).where(eq(sources.id, created.id));
      expect(row!.pausedAt).not.toBeNull();
      expect(row!.lastError).toBe(AUTHOR_GONE);
      const audit = await t.ctx.db
        .select({ action: auditEvents.action, actorId: auditEvents.actorId })
        .from(auditEvents)
        .where(and(eq(auditEvents.targetId, created.id), eq(auditEvents.action, 'source.paused')));
      expect(audit).toEqual([{ action: 'source.paused', actorId: null }]);
      const told = await t.ctx.db
        .select({ userId: notifications.userId })
        .from(notifications)
        .where(eq(notifications.kind, 'source.author_gone'));
      expect(told.map((n) => n.userId)).toContain(colleague.id);
      expect(told.map((n) => n.userId)).not.toContain(author.id);
      // Paused, it is not read again until someone resumes it or adds it anew.
      expect(await pollNow(created.id)).toMatchObject({ outcome: 'not_due', imported: 0 });
    } finally {
      await t.ctx.db.update(users).set({ disabledAt: null }).where(eq(users.id, author.id));
    }
  });

  it('reads a source now when asked, but never twice at once', async () => {
    const source = site.feed('/sekarang.xml', { format: 'rss', title: 'Kanim Ambon' });
    const created = (await addSource({ kind: 'rss', url: source.url })).json() as { id: string };
    const later = new Date(Date.now() + 3 * hour);
    await t.ctx.db.update(sources).set({ nextPollAt: later }).where(eq(sources.id, created.id));
    expect(await pollSource(t.ctx, created.id)).toMatchObject({ outcome: 'not_due' });

    const asked = await t.app.inject({
      method: 'POST',
      url: `/api/v1/sources/${created.id}/poll`,
      headers: office().headers,
    });
    expect(asked.statusCode).toBe(202);
    expect(new Date((asked.json() as { nextPollAt: string }).nextPollAt).getTime()).toBeLessThanOrEqual(
      Date.now(),
    );

    // A poll that is running holds the source: a second one finds nothing to do until its lease passes.
    await t.ctx.db
      .update(sources)
      .set({ pollingUntil: new Date(Date.now() + 60_000) })
      .where(eq(sources.id, created.id));
    expect(await pollSource(t.ctx, created.id)).toMatchObject({ outcome: 'not_due' });
    await t.ctx.db
      .update(sources)
      .set({ pollingUntil: new Date(Date.now() - 1_000) })
      .where(eq(sources.id, created.id));
    expect(await pollSource(t.ctx, created.id)).toMatchObject({ outcome: 'polled' });
    const [row] = await t.ctx.db.select().from(sources).where(eq(sources.id, created.id));
    expect(row!.pollingUntil).toBeNull();
  });

  it('polls due sources from the maintenance sweep through the ingest queue, and skips paused ones', async () => {
    const source = site.feed('/antrian.xml', { format: 'rss', title: 'Kanim Jayapura' });
    const paused = site.feed('/jeda.xml', { format: 'rss', title: 'Kanim Sorong' });
    const live = (await addSource({ kind: 'rss', url: source.url })).json() as { id: string };
    const stopped = (await addSource({ kind: 'rss', url: paused.url })).json() as { id: string };
    const pause = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/sources/${stopped.id}`,
      headers: office().headers,
      payload: { paused: true },
    });
    expect(pause.json()).toMatchObject({ paused: true, nextPollAt: null });
    source.add({ title: 'Lewat antrean', published: new Date() });
    paused.add({ title: 'Tidak dibaca', published: new Date() });
    // Both sources are due (they were just added); only the live one may be read.
    await t.ctx.db.update(sources).set({ nextPollAt: new Date(Date.now() - 1_000) });

    const worker = new Worker('ingest', (job) => processIngest(t.ctx, job), {
      connection: workerConnection(t.ctx.redisTarget),
      prefix: t.ctx.redisPrefix,
    });
    try {
      expect((await sweep(t.ctx)).sources).toBeGreaterThanOrEqual(1);
      await expect.poll(async () => (await postsOf(live.id)).length, { timeout: 15_000 }).toBe(1);
    } finally {
      await worker.close();
    }
    expect(await postsOf(stopped.id)).toEqual([]);
  });
});
