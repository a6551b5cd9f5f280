import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPlatform, type Platform, type SourceKind } from '../../src/domain/vocabulary';
import { type RunningWorkers, startWorkers } from '../../workers/index';
import { createFeedSite, type FeedSite } from '../fakes/feed-site';
import { createFakeMastodon, type FakeMastodon } from '../fakes/mastodon';
import { createGraphFake, type GraphFake } from '../fakes/meta/facebook-instagram';
import { createThreadsFake, type ThreadsFake } from '../fakes/meta/threads';
import { testImage } from '../fakes/platform-context';
import { createTelegramFake, type TelegramFake } from '../fakes/telegram';
import { createFakeTiktok, type FakeTiktok } from '../fakes/tiktok';
import { createFakeX, type FakeX } from '../fakes/x';
import { createFakeYoutube, type FakeYoutube } from '../fakes/youtube';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { eventually, setChannelCredentials } from '../helpers/engine';
import { createTestUnit, createTestUser, type TestUser } from '../helpers/org';
import { startTestPds, type TestPds } from '../helpers/pds';
import { insertChannel } from '../helpers/posts';

const X_CLIENT = 'gaung-journey-client';
const TIKTOK = { clientKey: 'gaungjourneykey', clientSecret: 'rahasia-tiktok' };

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

/** What the office posted on its own account, as the platform knows it. */
interface Original {
  nativeId: string;
  url: string;
  text: string;
}

/**
 * From an office's own account to a national channel, on every platform Gaung reads: the office
 * posts on its account (a fake that answers as the platform does, or a real Bluesky PDS), the ingest
 * worker reads the source as production runs it (the `ingest` queue, the maintenance sweep), the post
 * reaches the national reviewer's inbox with its media and origin, the reviewer approves it to a
 * national channel — a native repost where the platform has one, a copy with credit elsewhere — and
 * the publish worker publishes it exactly once. Other files cover both database drivers; these
 * journeys run on one (PostgreSQL where it answers), with one set of fakes and workers for all.
 */
describe('an office post, from its own account to a national channel', () => {
  const driver = testDrivers().at(-1)!;
  let t: TestApp;
  let workers: RunningWorkers;
  let x: FakeX;
  let mastodon: FakeMastodon;
  let graph: GraphFake;
  let threads: ThreadsFake;
  let telegram: TelegramFake;
  let youtube: FakeYoutube;
  let site: FeedSite;
  let tiktok: FakeTiktok;
  let pds: TestPds;
  let office: TestUser;
  let reviewer: TestUser;
  let nationalId: string;
  let counter = 0;

  beforeAll(async () => {
    x = createFakeX();
    x.registerClient(X_CLIENT);
    mastodon = createFakeMastodon();
    // Media containers are ready at the first status check: the publish worker need not wait between checks.
    graph = createGraphFake({ pollsUntilFinished: 0 });
    threads = createThreadsFake({ pollsUntilFinished: 0 });
    telegram = createTelegramFake();
    youtube = createFakeYoutube();
    site = createFeedSite();
    tiktok = createFakeTiktok();
    tiktok.registerClient(TIKTOK.clientKey, TIKTOK.clientSecret);
    const [started] = await Promise.all([
      startTestPds(),
      x.start(),
      mastodon.start(),
      graph.start(),
      threads.start(),
      telegram.start(),
      youtube.start(),
      site.start(),
      tiktok.start(),
    ]);
    pds = started;
    // Instagram and Threads fetch the media from Gaung's signed URLs: the app listens where it says it is.
    const port = await freePort();
    t = await createTestApp(driver, {
      env: {
        GAUNG_PUBLIC_URL: `http://127.0.0.1:${port}`,
        GAUNG_X_API_URL: x.url,
        GAUNG_X_UPLOAD_URL: x.url,
        GAUNG_X_CLIENT_ID: X_CLIENT,
        GAUNG_GRAPH_API_URL: graph.url,
        GAUNG_THREADS_API_URL: threads.url,
        GAUNG_TELEGRAM_API_URL: telegram.url,
        GAUNG_TELEGRAM_SOURCE_BOT_TOKEN: telegram.bot.token,
        GAUNG_YOUTUBE_API_URL: youtube.url,
        GAUNG_YOUTUBE_FEEDS_URL: youtube.url,
        GAUNG_PLC_DIRECTORY_URL: pds.plc.url,
        GAUNG_TIKTOK_API_URL: tiktok.url,
        GAUNG_TIKTOK_CLIENT_KEY: TIKTOK.clientKey,
        GAUNG_TIKTOK_CLIENT_SECRET: TIKTOK.clientSecret,
        GAUNG_SWEEP_EVERY_MS: '500',
        GAUNG_HORIZON_SECONDS: '5',
        GAUNG_RECONCILE_DELAY_MS: '0',
      },
    });
    await t.app.listen({ host: '127.0.0.1', port });
    // The office has no reviewers of its own: what it submits waits in the national inbox.
    const national = await createTestUnit(t.ctx, { name: 'Ditjen Imigrasi', kind: 'national' });
    const kanim = await createTestUnit(t.ctx, {
      name: 'Kanim Pontianak',
      kind: 'office',
      parent: national,
      timeZone: 'Asia/Pontianak',
    });
    nationalId = national.id;
    office = await createTestUser(t.ctx, { unit: kanim, role: 'contributor' });
    reviewer = await createTestUser(t.ctx, { unit: national, role: 'reviewer' });
    workers = await startWorkers(t.ctx);
  }, 180_000);

  afterAll(async () => {
    await workers?.close();
    await t?.close();
    await Promise.all([
      pds?.stop(),
      x?.stop(),
      mastodon?.stop(),
      graph?.stop(),
      threads?.stop(),
      telegram?.stop(),
      youtube?.stop(),
      site?.stop(),
      tiktok?.stop(),
    ]);
  });

  /** A national channel on the platform, connected with the given account's credentials. */
  async function nationalChannel(
    platform: Platform,
    settings: Record<string, unknown>,
    credentials: Record<string, unknown>,
  ): Promise<string> {
    const id = await insertChannel(
      t.ctx,
      { id: nationalId, path: '', name: 'Ditjen Imigrasi', kind: 'national' },
      platform,
      { name: `${platform} nasional`, settings },
    );
    await setChannelCredentials(t.ctx.db, t.ctx.keys, id, credentials);
    return id;
  }

  const api = (method: 'GET' | 'POST', url: string, who: TestUser, payload?: Record<string, unknown>) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: who.headers, ...(payload ? { payload } : {}) });

  /**
   * The whole journey, through the API and the workers: the office connects its account as an
   * auto-submitting source and the first read finishes; it posts; the source is read again; the post
   * reaches the national inbox with its media and origin; the reviewer approves it to the channel now;
   * the delivery is published. Returns the post as the API shows it at the end.
   */
  async function journey(input: {
    source: Record<string, unknown>;
    post: () => Promise<Original>;
    platform: SourceKind;
    mediaKinds: string[];
    authorHandle: string | null;
    channelId: string;
    mode: 'repost' | 'quote' | 'copy';
  }) {
    const created = await api('POST', '/sources', office, { ...input.source, autoSubmit: true });
    expect(created.statusCode, created.body).toBe(201);
    const sourceId: string = created.json().id;
    if (input.source.kind !== 'telegram')
      expect(
        await eventually(
          async () => (await api('GET', `/sources/${sourceId}`, office)).json().lastPolledAt !== null,
          20_000,
        ),
      ).toBe(true);

    const original = await input.post();
    expect((await api('POST', `/sources/${sourceId}/poll`, office)).statusCode).toBe(202);

    type InboxItem = {
      id: string;
      version: number;
      body: string;
      sourceUrl: string | null;
      sourcePlatform: string | null;
      thumbnailMediaId: string | null;
    };
    let item: InboxItem | undefined;
    const arrived = await eventually(async () => {
      const inbox = (await api('GET', '/reviews?limit=100', reviewer)).json() as { items: InboxItem[] };
      item = inbox.items.find((candidate) => candidate.sourceUrl === original.url);
      return item !== undefined;
    }, 30_000);
    // When nothing arrives, the source's last error says why.
    expect(arrived, (await api('GET', `/sources/${sourceId}`, office)).body).toBe(true);
    expect(item!.body).toContain(original.text);
    expect(item!.sourcePlatform).toBe(isPlatform(input.platform) ? input.platform : null);

    const view = (await api('GET', `/posts/${item!.id}`, reviewer)).json();
    expect(view).toMatchObject({
      status: 'submitted',
      origin: {
        platform: input.platform,
        nativeId: original.nativeId,
        url: original.url,
        authorHandle: input.authorHandle,
      },
    });
    expect(view.media.map((m: { kind: string }) => m.kind)).toEqual(input.mediaKinds);
    if (input.mediaKinds.length > 0) expect(item!.thumbnailMediaId).toBe(view.media[0].id);

    const approved = await api('POST', `/posts/${item!.id}/approve`, reviewer, {
      version: item!.version,
      targets: [{ channelId: input.channelId, mode: input.mode, at: 'now' }],
    });
    expect(approved.statusCode, approved.body).toBe(200);

    type Delivery = {
      channelId: string;
      status: string;
      mode: string;
      renderedText: string;
      attempts: number;
    };
    let delivery: Delivery | undefined;
    expect(
      await eventually(async () => {
        const current = (await api('GET', `/posts/${item!.id}`, reviewer)).json();
        delivery = current.deliveries.find((d: Delivery) => d.channelId === input.channelId);
        return delivery?.status === 'published' || delivery?.status === 'failed';
      }, 30_000),
    ).toBe(true);
    expect(delivery).toMatchObject({ status: 'published', mode: input.mode, attempts: 1 });
    return { original, delivery: delivery! };
  }

  const unique = (text: string) => `${text} ${++counter}`;

  it('X: a post with a photo, read with the office tokens, retweeted by the national account', async () => {
    const account = (username: string) => {
      const user = x.addUser({ username });
      const tokens = x.issueTokens(user.id, { clientId: X_CLIENT });
      return {
        user,
        credentials: {
          accessToken: tokens.accessToken,
          refreshToken: tokens.refreshToken,
          expiresAt: tokens.expiresAt.toISOString(),
        },
      };
    };
    const kanim = account('kanim_pontianak');
    const centre = account('ditjen_imigrasi');
    const channelId = await nationalChannel(
      'x',
      { userId: centre.user.id, username: centre.user.username },
      centre.credentials,
    );
    const image = await testImage({ hue: 30, format: 'jpeg' });
    const { original } = await journey({
      source: { kind: 'x', credentials: kanim.credentials },
      async post() {
        const text = unique('Layanan paspor hari Sabtu');
        const tweet = x.addPost(kanim.user.id, text, undefined, {
          media: [{ type: 'photo', bytes: image, altText: 'Loket paspor' }],
        });
        return { nativeId: tweet.id, url: `https://x.com/${kanim.user.username}/status/${tweet.id}`, text };
      },
      platform: 'x',
      mediaKinds: ['image'],
      authorHandle: '@kanim_pontianak',
      channelId,
      mode: 'repost',
    });
    const made = x.posts.filter((p) => p.authorId === centre.user.id);
    expect(made).toHaveLength(1);
    expect(made[0]!.retweetOf).toBe(original.nativeId);
  });

  it('Bluesky (a real PDS): a post with an image, read from the office repository, reposted by strong ref', async () => {
    const kanim = await pds.createAccount('kanim-pontianak.test');
    const centre = await pds.createAccount('ditjen-imigrasi.test');
    const channelId = await nationalChannel(
      'bluesky',
      { pdsUrl: pds.url },
      { identifier: centre.handle, appPassword: pds.password },
    );
    const agent = await pds.login(kanim.handle);
    let cid = '';
    const { original } = await journey({
      source: { kind: 'bluesky', handle: kanim.handle, settings: { pdsUrl: pds.url } },
      async post() {
        const text = unique('Pelayanan paspor Sabtu');
        const blob = await agent.uploadBlob(await testImage({ hue: 70, format: 'jpeg' }), {
          encoding: 'image/jpeg',
        });
        const posted = await agent.post({
          text,
          embed: { $type: 'app.bsky.embed.images', images: [{ image: blob.data.blob, alt: 'Loket' }] },
          createdAt: new Date().toISOString(),
        });
        cid = posted.cid;
        const rkey = posted.uri.split('/').at(-1)!;
        return {
          nativeId: posted.uri,
          url: `https://bsky.app/profile/${kanim.handle}/post/${rkey}`,
          text,
        };
      },
      platform: 'bluesky',
      mediaKinds: ['image'],
      authorHandle: `@${kanim.handle}`,
      channelId,
      mode: 'repost',
    });
    const reposts = await agent.com.atproto.repo.listRecords({
      repo: centre.did,
      collection: 'app.bsky.feed.repost',
    });
    expect(reposts.data.records).toHaveLength(1);
    expect(reposts.data.records[0]!.value).toMatchObject({ subject: { uri: original.nativeId, cid } });
    const posts = await agent.com.atproto.repo.listRecords({
      repo: centre.did,
      collection: 'app.bsky.feed.post',
    });
    expect(posts.data.records).toHaveLength(0);
  });

  it('Mastodon: a status with an image, read from the public account, reblogged through a resolved search', async () => {
    const kanim = mastodon.addAccount({ username: 'kanim_pontianak' });
    const centre = mastodon.addAccount({ username: 'ditjen_imigrasi' });
    const channelId = await nationalChannel(
      'mastodon',
      { instanceUrl: mastodon.url, accountId: centre.id },
      { accessToken: mastodon.issueToken(centre.id) },
    );
    const image = await testImage({ hue: 110, format: 'jpeg' });
    const { original } = await journey({
      source: { kind: 'mastodon', url: `${mastodon.url}/@kanim_pontianak` },
      async post() {
        const text = unique('Antrean paspor tertib');
        const status = mastodon.addStatus(kanim.id, text, {
          media: [{ bytes: image, kind: 'image', description: 'Antrean' }],
        });
        return { nativeId: status.id, url: `${mastodon.url}/@kanim_pontianak/${status.id}`, text };
      },
      platform: 'mastodon',
      mediaKinds: ['image'],
      authorHandle: `@kanim_pontianak@${new URL(mastodon.url).host}`,
      channelId,
      mode: 'repost',
    });
    const made = mastodon.statuses.filter((s) => s.accountId === centre.id);
    expect(made).toHaveLength(1);
    expect(made[0]!.reblogOf).toBe(original.nativeId);
  });

  it('Telegram: a channel photo read by the source bot, forwarded to the national channel', async () => {
    const kanim = telegram.createChat({ title: 'Kanim Pontianak', username: 'kanim_pontianak' });
    const centre = telegram.createChat({ title: 'Ditjen Imigrasi', username: 'ditjen_imigrasi' });
    const channelId = await nationalChannel(
      'telegram',
      { chatId: String(centre.id) },
      { botToken: telegram.bot.token },
    );
    const image = await testImage({ hue: 150, format: 'jpeg' });
    const { original } = await journey({
      source: { kind: 'telegram', handle: '@kanim_pontianak' },
      async post() {
        const text = unique('Layanan Sabtu');
        const [message] = telegram.postInChannel(kanim.id, {
          text,
          media: [{ kind: 'photo', bytes: image }],
        });
        return {
          nativeId: String(message!.messageId),
          url: `https://t.me/kanim_pontianak/${message!.messageId}`,
          text,
        };
      },
      platform: 'telegram',
      mediaKinds: ['image'],
      authorHandle: '@kanim_pontianak',
      channelId,
      mode: 'repost',
    });
    const made = telegram.messages(centre.id);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({
      kind: 'forward',
      forwardedFrom: { chatId: kanim.id, messageId: Number(original.nativeId) },
    });
  });

  it('Threads: a thread with an image, read with the office token, reposted by its media id', async () => {
    const kanim = threads.createUser('kanim_pontianak');
    const centre = threads.createUser('ditjen_imigrasi');
    const channelId = await nationalChannel(
      'threads',
      { userId: centre.userId },
      { accessToken: centre.token },
    );
    const image = await testImage({ hue: 190, format: 'jpeg' });
    const { original } = await journey({
      source: {
        kind: 'threads',
        settings: { userId: kanim.userId },
        credentials: { accessToken: kanim.token },
      },
      async post() {
        const text = unique('Layanan paspor keliling');
        const thread = threads.postThread(kanim.userId, { text, media: [{ kind: 'image', bytes: image }] });
        return { nativeId: thread.id, url: thread.permalink, text };
      },
      platform: 'threads',
      mediaKinds: ['image'],
      authorHandle: '@kanim_pontianak',
      channelId,
      mode: 'repost',
    });
    const made = threads.threads(centre.userId);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ mediaType: 'REPOST_FACADE', repostedPost: original.nativeId });
  });

  it('Threads: a text thread, quoted by the national account in a thread of its own', async () => {
    const kanim = threads.createUser('kanim_sambas');
    const centre = threads.createUser('ditjen_imigrasi_kutipan');
    const channelId = await nationalChannel(
      'threads',
      { userId: centre.userId },
      { accessToken: centre.token },
    );
    const { original, delivery } = await journey({
      source: {
        kind: 'threads',
        settings: { userId: kanim.userId },
        credentials: { accessToken: kanim.token },
      },
      async post() {
        const text = unique('Pelayanan paspor di Sambas');
        const thread = threads.postThread(kanim.userId, { text });
        return { nativeId: thread.id, url: thread.permalink, text };
      },
      platform: 'threads',
      mediaKinds: [],
      authorHandle: '@kanim_sambas',
      channelId,
      mode: 'quote',
    });
    const made = threads.threads(centre.userId);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({
      mediaType: 'TEXT_POST',
      text: delivery.renderedText,
      quotedPost: original.nativeId,
    });
  });

  it('Facebook: a Page photo post, copied to the national Page with the credit line and the photo', async () => {
    const kanim = graph.createPage('Kanim Pontianak');
    const centre = graph.createPage('Ditjen Imigrasi');
    const channelId = await nationalChannel(
      'facebook',
      { pageId: centre.pageId },
      { pageAccessToken: centre.pageToken },
    );
    const image = await testImage({ hue: 230, format: 'jpeg' });
    const { original, delivery } = await journey({
      source: {
        kind: 'facebook',
        settings: { pageId: kanim.pageId },
        credentials: { pageAccessToken: kanim.pageToken },
      },
      async post() {
        const text = unique('Operasi keimigrasian di perbatasan');
        const post = graph.postOnPage(kanim.pageId, {
          message: text,
          media: [{ kind: 'image', bytes: image }],
        });
        return { nativeId: post.id, url: post.permalink, text };
      },
      platform: 'facebook',
      mediaKinds: ['image'],
      authorHandle: 'Kanim Pontianak',
      channelId,
      mode: 'copy',
    });
    expect(delivery.renderedText).toContain('Kanim Pontianak');
    expect(delivery.renderedText).toContain(original.url);
    const made = graph.pagePosts(centre.pageId);
    expect(made).toHaveLength(1);
    expect(made[0]!.message).toBe(delivery.renderedText);
    expect(made[0]!.photoIds).toHaveLength(1);
  });

  it('Instagram: a feed image, copied to the national account with the credit line and the image', async () => {
    const kanimPage = graph.createPage('Kanim Pontianak IG');
    const { igUserId } = graph.linkInstagram(kanimPage.pageId, 'kanim_pontianak');
    const centrePage = graph.createPage('Ditjen Imigrasi IG');
    const centre = graph.linkInstagram(centrePage.pageId, 'ditjen_imigrasi');
    const channelId = await nationalChannel(
      'instagram',
      { igUserId: centre.igUserId },
      { accessToken: centrePage.pageToken },
    );
    const image = await testImage({ hue: 270, format: 'jpeg' });
    const { original, delivery } = await journey({
      source: {
        kind: 'instagram',
        settings: { igUserId },
        credentials: { accessToken: kanimPage.pageToken },
      },
      async post() {
        const text = unique('Pelayanan paspor hari Sabtu #imigrasi');
        const media = graph.postIgMedia(igUserId, {
          caption: text,
          media: [{ kind: 'image', bytes: image }],
        });
        return { nativeId: media.id, url: media.permalink, text };
      },
      platform: 'instagram',
      mediaKinds: ['image'],
      authorHandle: '@kanim_pontianak',
      channelId,
      mode: 'copy',
    });
    expect(delivery.renderedText).toContain(original.url);
    const made = graph.igMedia(centre.igUserId).filter((m) => m.viaApi);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ mediaType: 'IMAGE', caption: delivery.renderedText });
  });

  it('YouTube: a new video from the channel feed, a copy with its link and thumbnail on the national Page', async () => {
    // The video file cannot be fetched through any API: the item is text with the link and the thumbnail,
    // which a YouTube channel cannot take, so it goes to a Page (a video needs the office to re-upload it).
    const kanim = youtube.addChannel({ title: 'Kanim Pontianak' });
    const centre = graph.createPage('Ditjen Imigrasi (YouTube)');
    const channelId = await nationalChannel(
      'facebook',
      { pageId: centre.pageId },
      { pageAccessToken: centre.pageToken },
    );
    const still = await testImage({ hue: 300, format: 'jpeg' });
    const { original, delivery } = await journey({
      source: { kind: 'youtube', settings: { channelId: kanim.id } },
      async post() {
        const title = unique('Layanan paspor Sabtu');
        const video = youtube.uploadOnYoutube(kanim.id, {
          title,
          description: 'Jadwal dan lokasi',
          durationSeconds: 95,
          still,
        });
        return { nativeId: video.id, url: `https://www.youtube.com/watch?v=${video.id}`, text: title };
      },
      platform: 'youtube',
      mediaKinds: ['image'],
      authorHandle: 'Kanim Pontianak',
      channelId,
      mode: 'copy',
    });
    expect(delivery.renderedText).toContain(original.url);
    const made = graph.pagePosts(centre.pageId);
    expect(made).toHaveLength(1);
    expect(made[0]!.message).toContain(original.url);
    expect(made[0]!.photoIds).toHaveLength(1);
  });

  it('TikTok: a new video of the office account, a copy with its share link and cover on the national Page', async () => {
    // TikTok gives no video file either: the item is the share link and the cover image.
    const kanim = tiktok.addAccount({ dailyCap: 100 });
    const tokens = tiktok.issueTokens(kanim.openId, { clientKey: TIKTOK.clientKey });
    const centre = graph.createPage('Ditjen Imigrasi (TikTok)');
    const channelId = await nationalChannel(
      'facebook',
      { pageId: centre.pageId },
      { pageAccessToken: centre.pageToken },
    );
    const cover = await testImage({ hue: 15, format: 'jpeg' });
    site.serve('/tiktok/cover.jpeg', cover, 'image/jpeg');
    const { original, delivery } = await journey({
      source: {
        kind: 'tiktok',
        settings: { openId: kanim.openId, username: kanim.username },
        credentials: {
          accessToken: tokens.accessToken,
          refreshToken: tokens.refreshToken,
          expiresAt: tokens.expiresAt.toISOString(),
        },
      },
      async post() {
        const title = unique('Profil pos lintas batas');
        const id = tiktok.addListedVideo(kanim.openId, {
          title,
          createTime: new Date(),
          cover: `${site.url}/tiktok/cover.jpeg`,
        });
        return { nativeId: id, url: `https://www.tiktok.com/@${kanim.username}/video/${id}`, text: title };
      },
      platform: 'tiktok',
      mediaKinds: ['image'],
      authorHandle: `@${kanim.username}`,
      channelId,
      mode: 'copy',
    });
    expect(delivery.renderedText).toContain(original.url);
    const made = graph.pagePosts(centre.pageId);
    expect(made).toHaveLength(1);
    expect(made[0]!.message).toBe(delivery.renderedText);
    expect(made[0]!.photoIds).toHaveLength(1);
  });

  it('RSS: an article of the office website with its picture, a copy with credit on the national Page', async () => {
    const feed = site.feed('/berita/rss.xml', { format: 'rss', title: 'Kanim Pontianak' });
    const centre = graph.createPage('Ditjen Imigrasi (RSS)');
    const channelId = await nationalChannel(
      'facebook',
      { pageId: centre.pageId },
      { pageAccessToken: centre.pageToken },
    );
    const picture = await testImage({ hue: 330, format: 'jpeg' });
    const { original, delivery } = await journey({
      source: { kind: 'rss', url: feed.url },
      async post() {
        const title = unique('Sosialisasi keimigrasian di SMA Negeri 1');
        const added = feed.add({
          title,
          summary: '<p>Petugas menjelaskan layanan paspor.</p>',
          media: [{ bytes: picture, description: 'Petugas di depan kelas' }],
        });
        return { nativeId: added.link, url: added.link, text: title };
      },
      platform: 'rss',
      mediaKinds: ['image'],
      authorHandle: null,
      channelId,
      mode: 'copy',
    });
    expect(delivery.renderedText).toContain(original.url);
    const made = graph.pagePosts(centre.pageId);
    expect(made).toHaveLength(1);
    expect(made[0]!.message).toBe(delivery.renderedText);
    expect(made[0]!.photoIds).toHaveLength(1);
  });
});
