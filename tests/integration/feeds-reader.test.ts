import { lookup } from 'node:dns/promises';
import os from 'node:os';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  FEED_MAX_BYTES,
  FEED_MAX_ITEMS,
  FEED_MAX_MEDIA,
  type FeedAddress,
  FeedError,
  fetchFeedMedia,
  readFeed,
  resolveFeed,
} from '../../src/platforms/feeds';
import { isInternalAddress } from '../../src/platforms/http';
import { createFeedSite, type FeedSite } from '../fakes/feed-site';
import { createFakeMastodon, type FakeMastodon, type FakeMastodonAccount } from '../fakes/mastodon';
import { testImage } from '../fakes/platform-context';

const any = { reach: 'any' } as const;
const rss = (url: string): FeedAddress => ({ kind: 'rss', url, accountId: null });

/** The start of an MP4 file: enough for content sniffing, which is all the reader's path needs. */
const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.alloc(64, 1)]);

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The FeedError a read fails with (the test fails when it succeeds or fails otherwise). */
async function feedError(promise: Promise<unknown>): Promise<FeedError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FeedError);
  return error as FeedError;
}

describe('reading RSS and Atom feeds', () => {
  let site: FeedSite;
  let png: Buffer;
  let jpeg: Buffer;

  beforeAll(async () => {
    site = createFeedSite();
    await site.start();
    [png, jpeg] = await Promise.all([testImage(), testImage({ format: 'jpeg', hue: 30 })]);
  });
  afterAll(() => site.stop());
  beforeEach(() => site.server.clearFaults());

  it('reads RSS items: keys, absolute links, dates, the summary as plain text, and media with alt text', async () => {
    const feed = site.feed('/feed/', { format: 'rss', title: 'Kantor Imigrasi Pontianak & Humas' });
    const older = feed.add({
      title: 'Layanan paspor hari Sabtu',
      id: 'https://kanim-pontianak.example/?p=101',
      link: '/berita/layanan-paspor-sabtu/',
      published: new Date('2024-10-05T01:30:00Z'),
      summary:
        '<p>Kantor Imigrasi <strong>Pontianak</strong> membuka layanan &amp; konsultasi&nbsp;pada hari Sabtu.</p>' +
        '<p>Datang pukul 08.00&#8211;12.00 WIB.<br/>Bawa KTP asli.</p><script>track("x")</script>',
      media: [{ bytes: png, as: 'enclosure' }],
    });
    const newer = feed.add({
      title: 'Sosialisasi "Paspor Elektronik" & M-Paspor',
      published: new Date('2024-10-07T03:00:00Z'),
      summary: '<p>Ringkasan: <a href="/m-paspor">M-Paspor</a> kini bisa dipakai di Kalbar […]</p>',
      content: '<p>Artikel lengkap yang tetap di situs.</p>',
      media: [
        { bytes: jpeg, description: 'Petugas <b>melayani</b> pemohon & keluarga', as: 'media:content' },
        { bytes: mp4, as: 'media:group', description: 'Video sosialisasi' },
      ],
    });

    const snapshot = await readFeed(rss(feed.url), any);

    expect(snapshot).toEqual({
      title: 'Kantor Imigrasi Pontianak & Humas',
      items: [
        {
          key: newer.link,
          url: newer.link,
          publishedAt: new Date('2024-10-07T03:00:00Z'),
          text: 'Sosialisasi "Paspor Elektronik" & M-Paspor\n\nRingkasan: M-Paspor kini bisa dipakai di Kalbar […]',
          media: [
            { url: newer.media[0], kind: 'image', altText: 'Petugas melayani pemohon & keluarga' },
            { url: newer.media[1], kind: 'video', altText: 'Video sosialisasi' },
          ],
        },
        {
          key: 'https://kanim-pontianak.example/?p=101',
          url: `${site.url}/berita/layanan-paspor-sabtu/`,
          publishedAt: new Date('2024-10-05T01:30:00Z'),
          text:
            'Layanan paspor hari Sabtu\n\n' +
            'Kantor Imigrasi Pontianak membuka layanan & konsultasi pada hari Sabtu.\n\n' +
            'Datang pukul 08.00–12.00 WIB.\nBawa KTP asli.',
          media: [{ url: older.media[0], kind: 'image', altText: '' }],
        },
      ],
    });
  });

  it('reads Atom entries: id, alternate link, published date, summary, enclosures and media groups', async () => {
    const feed = site.feed('/feeds/posts/default', { format: 'atom', title: 'Humas <Imigrasi> Kalbar' });
    const entry = feed.add({
      title: 'Pelayanan di Mal Pelayanan Publik',
      id: 'tag:blogger.com,1999:blog-1.post-7',
      link: `${site.url}/2024/10/mpp.html`,
      published: new Date('2024-10-08T02:15:00Z'),
      summary: '<div>Mulai &lt;Senin&gt;, layanan&nbsp;<em>paspor</em> hadir di MPP.</div>',
      media: [
        { bytes: mp4, as: 'media:group', description: 'Cuplikan layanan' },
        { bytes: png, as: 'enclosure' },
      ],
    });
    const untitled = feed.add({
      id: 'tag:blogger.com,1999:blog-1.post-8',
      updated: new Date('2024-10-09T00:00:00Z'),
      summary: '<p>Tanpa judul.</p>',
    });

    const snapshot = await readFeed(rss(feed.url), any);

    expect(snapshot.title).toBe('Humas Kalbar');
    expect(snapshot.items).toEqual([
      {
        key: 'tag:blogger.com,1999:blog-1.post-8',
        url: untitled.link,
        // Without a published date, the entry's updated date stands in.
        publishedAt: new Date('2024-10-09T00:00:00Z'),
        text: 'Tanpa judul.',
        media: [],
      },
      {
        key: 'tag:blogger.com,1999:blog-1.post-7',
        url: entry.link,
        publishedAt: new Date('2024-10-08T02:15:00Z'),
        text: 'Pelayanan di Mal Pelayanan Publik\n\nMulai <Senin>, layanan paspor hadir di MPP.',
        media: [
          { url: entry.media[0], kind: 'video', altText: 'Cuplikan layanan' },
          { url: entry.media[1], kind: 'image', altText: '' },
        ],
      },
    ]);
  });

  it(`reads at most ${FEED_MAX_ITEMS} items, newest first, and at most ${FEED_MAX_MEDIA} media per item`, async () => {
    const feed = site.feed('/banyak.xml', { format: 'rss', title: 'Banyak' });
    for (let i = 0; i < FEED_MAX_ITEMS + 5; i++) feed.add({ title: `Berita ${i}`, id: `berita-${i}` });
    const crowded = feed.add({
      title: 'Galeri',
      id: 'galeri',
      media: Array.from({ length: 6 }, (_, i) => ({ bytes: i % 2 ? png : jpeg })),
    });
    const { items } = await readFeed(rss(feed.url), any);
    expect(items).toHaveLength(FEED_MAX_ITEMS);
    expect(items.slice(0, 2).map((i) => i.key)).toEqual(['galeri', `berita-${FEED_MAX_ITEMS + 4}`]);
    expect(items[0]!.media.map((m) => m.url)).toEqual(crowded.media.slice(0, FEED_MAX_MEDIA));
  });

  it('resolves an RSS feed to its title, and streams an item’s media', async () => {
    const feed = site.feed('/rss.xml', { format: 'rss', title: 'Berita Kanim' });
    const { media } = feed.add({ title: 'Foto', media: [{ bytes: png }] });
    await expect(resolveFeed('rss', feed.url, any)).resolves.toEqual({
      title: 'Berita Kanim',
      accountId: null,
    });
    const stream = await fetchFeedMedia(media[0]!, { ...any, maxBytes: 1024 * 1024 });
    expect((await bytesOf(stream)).equals(png)).toBe(true);
  });

  it('fails the media stream when a file is larger than the caller allows', async () => {
    const feed = site.feed('/foto-besar.xml', { format: 'rss', title: 'Foto' });
    const { media } = feed.add({ title: 'Foto', media: [{ bytes: png }] });
    const stream = await fetchFeedMedia(media[0]!, { ...any, maxBytes: png.length - 1 });
    await expect(bytesOf(stream)).rejects.toThrow(/maxContentLength/);
  });

  it('gives back the connection of a media answer left unread, a redirect or an error', async () => {
    // More such answers than the shared agent keeps sockets for one host (64): a socket kept busy
    // by each would leave the next request to the site waiting.
    const feed = site.feed('/galeri.xml', { format: 'rss', title: 'Galeri' });
    const { media } = feed.add({ title: 'Foto', id: 'foto', media: [{ bytes: png }] });
    site.redirect('/foto-lama.png', media[0]!);
    const options = { ...any, maxBytes: 1024 * 1024, signal: AbortSignal.timeout(10_000) };
    for (let i = 0; i < 70; i++) {
      (await fetchFeedMedia(media[0]!, options)).destroy();
      expect((await bytesOf(await fetchFeedMedia(`${site.url}/foto-lama.png`, options))).length).toBe(
        png.length,
      );
      await expect(fetchFeedMedia(`${site.url}/hilang.png`, options)).rejects.toMatchObject({
        retryable: false,
      });
    }
    await expect(readFeed(rss(feed.url), options)).resolves.toMatchObject({ items: [{ key: 'foto' }] });
  });

  describe('redirects', () => {
    let elsewhere: FeedSite;
    let feedUrl: string;
    beforeAll(async () => {
      elsewhere = createFeedSite();
      await elsewhere.start();
      const feed = site.feed('/feed-baru.xml', { format: 'rss', title: 'Pindahan' });
      feed.add({ title: 'Sudah pindah', id: 'pindah-1' });
      feedUrl = feed.url;
      site.redirect('/r3', '/feed-baru.xml', 308);
      site.redirect('/r2', `${site.url}/r3`, 302);
      site.redirect('/r1', '/r2');
      site.redirect('/r0', '/r1');
      site.redirect('/ke-ftp', 'ftp://kanim-pontianak.example/feed.xml');
      elsewhere.redirect('/feed', feedUrl);
    });
    afterAll(() => elsewhere.stop());

    it('follows up to three, relative or absolute, also to another site', async () => {
      const { items } = await readFeed(rss(`${site.url}/r1`), any);
      expect(items.map((i) => i.key)).toEqual(['pindah-1']);
      await expect(resolveFeed('rss', `${elsewhere.url}/feed`, any)).resolves.toMatchObject({
        title: 'Pindahan',
      });
    });

    it('refuses a fourth, and a redirect away from HTTP', async () => {
      const before = site.server.received.length;
      const tooMany = await feedError(readFeed(rss(`${site.url}/r0`), any));
      expect(tooMany).toMatchObject({
        retryable: false,
        message: expect.stringMatching(/redirects more than 3 times/),
      });
      expect(site.server.received.slice(before).map((r) => r.url)).toEqual(['/r0', '/r1', '/r2', '/r3']);
      const ftp = await feedError(readFeed(rss(`${site.url}/ke-ftp`), any));
      expect(ftp).toMatchObject({ retryable: false, message: expect.stringMatching(/non-HTTP/) });
    });
  });

  describe('what cannot be read', () => {
    it('refuses loopback addresses and this machine’s own names when only public addresses may be read', async () => {
      const feed = site.feed('/lokal.xml', { format: 'rss', title: 'Lokal' });
      const { media } = feed.add({ title: 'Lokal', media: [{ bytes: png }] });
      const port = new URL(site.url).port;
      const { address } = await lookup(os.hostname());
      const urls = [feed.url, `http://localhost:${port}/lokal.xml`, `http://[::1]:${port}/lokal.xml`];
      // The machine's name is refused after DNS; it resolves to an internal address on most hosts.
      if (isInternalAddress(address)) urls.push(`http://${os.hostname()}:${port}/lokal.xml`);
      const before = site.server.received.length;
      for (const url of urls) {
        const error = await feedError(readFeed(rss(url), { reach: 'public' }));
        expect(error.retryable, url).toBe(false);
        expect(error.message, url).toMatch(/internal|this machine/);
      }
      await expect(resolveFeed('rss', feed.url, { reach: 'public' })).rejects.toMatchObject({
        retryable: false,
      });
      await expect(
        fetchFeedMedia(media[0]!, { reach: 'public', maxBytes: 1024 * 1024 }),
      ).rejects.toMatchObject({ retryable: false });
      expect(site.server.received.length).toBe(before);
    });

    it('refuses a web page, a missing feed and a file that is not XML, for good', async () => {
      site.serve(
        '/beranda',
        '<!DOCTYPE html><html><head><title>Kanim</title></head><body><p>Selamat datang<br></p></body></html>',
        'text/html; charset=utf-8',
      );
      site.serve('/data.json', '{"items":[]}', 'application/json');
      for (const path of ['/beranda', '/tidak-ada.xml', '/data.json']) {
        const error = await feedError(readFeed(rss(`${site.url}${path}`), any));
        expect(error.retryable, path).toBe(false);
      }
      await expect(resolveFeed('rss', `${site.url}/beranda`, any)).rejects.toThrow(
        /not an RSS or Atom feed|not valid XML/,
      );
    });

    it(`refuses a feed larger than ${FEED_MAX_BYTES / 1024 / 1024} MB`, async () => {
      const item = `<item><title>Arsip</title><description>${'x'.repeat(1024)}</description></item>\n`;
      const body = `<?xml version="1.0"?><rss version="2.0"><channel><title>Arsip</title>${item.repeat(
        Math.ceil(FEED_MAX_BYTES / item.length) + 1,
      )}</channel></rss>`;
      site.serve('/arsip.xml', body, 'application/rss+xml');
      const error = await feedError(readFeed(rss(`${site.url}/arsip.xml`), any));
      expect(error).toMatchObject({ retryable: false, message: expect.stringMatching(/larger than 5 MB/) });
    });

    it('reports server errors, rate limits, slow answers and dropped connections as worth retrying', async () => {
      const feed = site.feed('/goyah.xml', { format: 'rss', title: 'Goyah' });
      feed.add({ title: 'Tetap ada', id: 'tetap' });
      const onFeed = { match: (r: { url: string }) => r.url === '/goyah.xml' };
      const faults = [
        { kind: 'respond', status: 500, body: '<h1>Internal Server Error</h1>' },
        { kind: 'respond', status: 503, headers: { 'retry-after': '30' }, body: '' },
        site.tooManyRequests(120),
        { kind: 'drop-before' },
      ] as const;
      for (const fault of faults) {
        site.server.inject(fault, onFeed);
        const error = await feedError(readFeed(rss(feed.url), any));
        expect(error.retryable, JSON.stringify(fault)).toBe(true);
      }
      site.server.inject({ kind: 'slow', ms: 2_000 }, onFeed);
      const slow = await feedError(readFeed(rss(feed.url), { ...any, signal: AbortSignal.timeout(200) }));
      expect(slow.retryable).toBe(true);
      // The feed itself is fine once the faults pass.
      await expect(readFeed(rss(feed.url), any)).resolves.toMatchObject({ items: [{ key: 'tetap' }] });
    });

    it('answers an unreachable site as worth retrying', async () => {
      const gone = createFeedSite();
      await gone.start();
      const url = `${gone.url}/feed.xml`;
      await gone.stop();
      const error = await feedError(readFeed(rss(url), any));
      expect(error.retryable).toBe(true);
    });
  });
});

describe('reading a public Mastodon account', () => {
  let fake: FakeMastodon;
  let office: FakeMastodonAccount;
  let citizen: FakeMastodonAccount;
  let png: Buffer;
  const profile = () => `${fake.url}/@${office.username}`;
  const address = (): FeedAddress => ({ kind: 'mastodon', url: profile(), accountId: office.id });

  beforeAll(async () => {
    fake = createFakeMastodon();
    await fake.start();
    office = fake.addAccount({ username: 'kanim_pontianak', displayName: 'Kanim Pontianak' });
    citizen = fake.addAccount({ username: 'warga' });
    png = await testImage();
  });
  afterAll(() => fake.stop());
  beforeEach(() => fake.server.clearFaults());

  it('resolves a profile address to the account id and its display name, without a token', async () => {
    await expect(resolveFeed('mastodon', profile(), any)).resolves.toEqual({
      title: 'Kanim Pontianak',
      accountId: office.id,
    });
    await expect(
      resolveFeed('mastodon', `${fake.url}/users/${office.username}/`, any),
    ).resolves.toMatchObject({
      accountId: office.id,
    });
    const unnamed = fake.addAccount({ username: 'kanim_singkawang', displayName: '' });
    await expect(resolveFeed('mastodon', `${fake.url}/@kanim_singkawang`, any)).resolves.toEqual({
      title: 'kanim_singkawang',
      accountId: unnamed.id,
    });
    const lookups = fake.server.received.filter((r) => r.url.startsWith('/api/v1/accounts/lookup'));
    expect(lookups.length).toBeGreaterThan(0);
    expect(lookups.every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('refuses an unknown account and an address that is not a profile', async () => {
    const unknown = await feedError(resolveFeed('mastodon', `${fake.url}/@tidak_ada`, any));
    expect(unknown).toMatchObject({
      retryable: false,
      message: expect.stringContaining('no account @tidak_ada'),
    });
    const notProfile = await feedError(resolveFeed('mastodon', `${fake.url}/explore`, any));
    expect(notProfile.retryable).toBe(false);
  });

  it('reads public and unlisted statuses with content warnings first, skipping replies, reblogs and private ones', async () => {
    const at = (minutes: number) => new Date(Date.parse('2024-10-09T01:00:00Z') + minutes * 60_000);
    const opening = fake.addStatus(
      office.id,
      'Layanan paspor Sabtu #Imigrasi\n\nInfo: https://imigrasi.go.id/layanan',
      {
        createdAt: at(0),
      },
    );
    const thread = fake.addStatus(office.id, 'Lanjutan: bawa KTP', {
      createdAt: at(1),
      inReplyTo: opening.id,
    });
    const question = fake.addStatus(citizen.id, 'Sampai jam berapa?', {
      createdAt: at(2),
      inReplyTo: opening.id,
    });
    fake.addStatus(office.id, 'Pukul 12.00 WIB', { createdAt: at(3), inReplyTo: question.id });
    fake.addStatus(office.id, 'Rapat internal', { createdAt: at(4), visibility: 'private' });
    fake.addStatus(office.id, 'Pesan langsung', { createdAt: at(5), visibility: 'direct' });
    const unlisted = fake.addStatus(office.id, 'Jadwal <piket> & "apel"', {
      createdAt: at(6),
      visibility: 'unlisted',
    });
    const warned = fake.addStatus(office.id, 'Kantor tutup pukul 10.00.', {
      createdAt: at(7),
      spoilerText: 'Pemadaman listrik',
    });
    const announcement = fake.addStatus(citizen.id, 'Pengumuman warga', { createdAt: at(8) });
    const token = fake.issueToken(office.id);
    const reblog = await fetch(`${fake.url}/api/v1/statuses/${announcement.id}/reblog`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(reblog.status).toBe(200);

    const snapshot = await readFeed(address(), any);

    expect(snapshot.title).toBeNull();
    expect(snapshot.items).toEqual([
      {
        key: warned.id,
        url: fake.statusUrl(warned),
        publishedAt: at(7),
        text: 'Pemadaman listrik\n\nKantor tutup pukul 10.00.',
        media: [],
      },
      {
        key: unlisted.id,
        url: fake.statusUrl(unlisted),
        publishedAt: at(6),
        text: 'Jadwal <piket> & "apel"',
        media: [],
      },
      {
        key: opening.id,
        url: fake.statusUrl(opening),
        publishedAt: at(0),
        text: 'Layanan paspor Sabtu #Imigrasi\n\nInfo: https://imigrasi.go.id/layanan',
        media: [],
      },
    ]);
    // The instance itself hides private statuses from an anonymous reader and keeps the thread
    // (a reply to the account's own status); the reader drops that reply.
    const request = fake.server.received
      .filter((r) => r.url.startsWith(`/api/v1/accounts/${office.id}/statuses`))
      .at(-1)!;
    expect(request.headers.authorization).toBeUndefined();
    expect(request.url).toContain('exclude_replies=true');
    const served = (await (await fetch(`${fake.url}${request.url}`)).json()) as { id: string }[];
    expect(served.map((s) => s.id)).toEqual([warned.id, unlisted.id, thread.id, opening.id]);
  });

  it('takes media with alt text, an animated GIF as a video, and streams the files', async () => {
    const status = fake.addStatus(office.id, 'Foto dan animasi pelayanan', {
      media: [
        { bytes: png, kind: 'image', description: 'Antrean pemohon paspor' },
        { bytes: mp4, kind: 'gifv' },
        { bytes: mp4, kind: 'video', description: 'Video tutorial' },
      ],
    });
    const { items } = await readFeed(address(), any);
    const item = items.find((i) => i.key === status.id)!;
    const files = status.mediaIds.map((id) => `${fake.url}/system/media_attachments/${id}/original`);
    expect(item.media).toEqual([
      { url: files[0], kind: 'image', altText: 'Antrean pemohon paspor' },
      { url: files[1], kind: 'video', altText: '' },
      { url: files[2], kind: 'video', altText: 'Video tutorial' },
    ]);
    const image = await fetchFeedMedia(files[0]!, { ...any, maxBytes: 1024 * 1024 });
    expect((await bytesOf(image)).equals(png)).toBe(true);
    const response = await fetch(files[1]!);
    expect(response.headers.get('content-type')).toBe('video/mp4');
  });

  it('still checks a token sent to the routes anonymous callers may use', async () => {
    const response = await fetch(`${fake.url}/api/v1/accounts/${office.id}/statuses`, {
      headers: { authorization: 'Bearer salah' },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: 'The access token is invalid' });
    const owner = await fetch(`${fake.url}/api/v1/accounts/${office.id}/statuses?limit=40`, {
      headers: { authorization: `Bearer ${fake.issueToken(office.id)}` },
    });
    const visibilities = ((await owner.json()) as { visibility: string }[]).map((s) => s.visibility);
    expect(visibilities).toEqual(expect.arrayContaining(['private', 'direct']));
  });

  it('reports an instance error or rate limit as worth retrying, and a missing account id as not', async () => {
    fake.server.inject(fake.rateLimitFault(new Date(Date.now() + 60_000)));
    expect((await feedError(readFeed(address(), any))).retryable).toBe(true);
    fake.server.inject({ kind: 'respond', status: 502, body: '<h1>Bad Gateway</h1>' });
    expect((await feedError(readFeed(address(), any))).retryable).toBe(true);
    const error = await feedError(readFeed({ ...address(), accountId: null }, any));
    expect(error.retryable).toBe(false);
    await expect(readFeed(address(), { reach: 'public' })).rejects.toMatchObject({ retryable: false });
  });
});
