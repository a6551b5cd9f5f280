import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channels, posts, sources } from '../../src/db/schema';
import { SOURCE_KINDS } from '../../src/domain/vocabulary';
import { pollSource } from '../../src/services/sources';
import { id as msg } from '../../src/web/i18n/id';
import { createFakeBluesky, type FakeBluesky } from '../fakes/bluesky';
import { createGraphFake, type GraphFake } from '../fakes/meta/facebook-instagram';
import { createThreadsFake, type ThreadsFake } from '../fakes/meta/threads';
import { testImage } from '../fakes/platform-context';
import { createFakePlc, type FakePlc } from '../fakes/plc';
import { createTelegramFake, type TelegramFake } from '../fakes/telegram';
import { createFakeX, type FakeX } from '../fakes/x';
import { createFakeYoutube, type FakeYoutube } from '../fakes/youtube';
import { createTestApp, type TestApp } from '../helpers/context';
import { seedTestOrg, TEST_PASSWORD, type TestOrg } from '../helpers/org';
import { signIn, submitForm, type TestSession } from '../helpers/session';

const CLIENT_ID = 'gaung-source-web-client';

/**
 * Connecting an office's own accounts as sources in the web app: every kind Gaung reads is offered
 * with its own fields; X connects on X's consent page (state and PKCE, the tokens encrypted and bound
 * to the new source), Threads through its authorization window; Facebook and Instagram through a Meta sign-in; Telegram through the source bot;
 * an account that is also a channel of the office is read with that channel. Admins above the
 * office may pause or remove its source; reviewers above may not.
 */
// Connect flows talk to the platforms only; one database driver is enough here.
describe('connecting sources on the sources page', () => {
  let t: TestApp;
  let org: TestOrg;
  let x: FakeX;
  let graph: GraphFake;
  let telegram: TelegramFake;
  let threads: ThreadsFake;
  let youtube: FakeYoutube;
  let pds: FakeBluesky;
  let plc: FakePlc;
  let office: TestSession;

  beforeAll(async () => {
    x = createFakeX();
    graph = createGraphFake();
    telegram = createTelegramFake();
    threads = createThreadsFake();
    youtube = createFakeYoutube();
    pds = createFakeBluesky();
    plc = createFakePlc();
    await Promise.all([
      x.start(),
      graph.start(),
      telegram.start(),
      threads.start(),
      youtube.start(),
      pds.start(),
      plc.start(),
    ]);
    x.registerClient(CLIENT_ID);
    t = await createTestApp('pglite', {
      env: {
        GAUNG_X_API_URL: x.url,
        GAUNG_X_UPLOAD_URL: x.url,
        GAUNG_X_CLIENT_ID: CLIENT_ID,
        GAUNG_GRAPH_API_URL: graph.url,
        GAUNG_META_APP_ID: graph.app.appId,
        GAUNG_META_APP_SECRET: graph.app.appSecret,
        GAUNG_TELEGRAM_API_URL: telegram.url,
        GAUNG_TELEGRAM_SOURCE_BOT_TOKEN: telegram.bot.token,
        GAUNG_THREADS_API_URL: threads.url,
        GAUNG_THREADS_AUTH_URL: threads.authorizeUrl,
        GAUNG_THREADS_APP_ID: threads.app.appId,
        GAUNG_THREADS_APP_SECRET: threads.app.appSecret,
        GAUNG_YOUTUBE_API_URL: youtube.url,
        GAUNG_YOUTUBE_FEEDS_URL: youtube.url,
        GAUNG_PLC_DIRECTORY_URL: plc.url,
      },
    });
    org = await seedTestOrg(t.ctx);
    office = await signIn(t.app, org.user('officeA1', 'contributor').email, TEST_PASSWORD);
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([
      x?.stop(),
      graph?.stop(),
      telegram?.stop(),
      threads?.stop(),
      youtube?.stop(),
      pds?.stop(),
      plc?.stop(),
    ]);
  });

  const form = (session: TestSession, url: string, fields: Record<string, string>) =>
    submitForm(t.app, session, url, fields);
  const sourceOf = async (kind: string) =>
    (
      await t.ctx.db
        .select()
        .from(sources)
        .where(and(eq(sources.unitId, org.units.officeA1.id), eq(sources.kind, kind as 'x')))
    ).at(-1);

  it('offers every kind Gaung reads, each with its own fields', async () => {
    const body = (await t.app.inject({ url: '/sources', headers: office.cookie })).body;
    for (const kind of SOURCE_KINDS) expect(body, kind).toContain(`data-kind="${kind}"`);
    expect(body).toMatch(/id="bluesky-handle"/);
    expect(body).toMatch(/id="telegram-handle"/);
    expect(body).toMatch(/id="youtube-youtubeChannelId"/);
    expect(body).toMatch(/id="facebook-userAccessToken"[^>]*type="password"/);
    expect(body).toContain('action="/sources/connect/x"');
    expect(body).toContain('action="/sources/connect/threads"');
    // TikTok registers only https return addresses; this Gaung is on http.
    expect(body).not.toContain('action="/sources/connect/tiktok"');
    expect(body).toContain(msg.sources.connectNeedsHttps);
  });

  it("connects an X source on X's consent page: single-use state, PKCE, tokens kept encrypted on the source", async () => {
    const account = x.addUser({ username: 'kanim_sambas' });
    const start = await form(office, '/sources/connect/x', { autoSubmit: '1', tags: 'Sambas' });
    expect(start.statusCode).toBe(303);
    const consent = new URL(start.headers.location as string);
    expect(consent.searchParams.get('code_challenge_method')).toMatch(/^s256$/i);
    expect(consent.searchParams.get('redirect_uri')).toBe(`${t.config.publicUrl}/api/v1/oauth/x/callback`);
    const state = consent.searchParams.get('state')!;
    const code = x.authorize({
      clientId: consent.searchParams.get('client_id')!,
      userId: account.id,
      redirectUri: consent.searchParams.get('redirect_uri')!,
      codeChallenge: consent.searchParams.get('code_challenge')!,
      scope: consent.searchParams.get('scope')!,
    });

    // The state belongs to the person who started: another one's session is refused and changes nothing.
    const stranger = await signIn(t.app, org.user('officeA2', 'contributor').email, TEST_PASSWORD);
    const stolen = await t.app.inject({
      url: `/api/v1/oauth/x/callback?code=${code}&state=${state}`,
      headers: stranger.cookie,
    });
    expect(stolen.statusCode).toBe(400);
    expect(stolen.json().errors[0]).toMatchObject({ field: 'state', code: 'oauth_state' });
    expect(await sourceOf('x')).toBeUndefined();

    // Single use: the refused attempt spent it, so the office starts again.
    const again = await form(office, '/sources/connect/x', { autoSubmit: '1', tags: 'Sambas' });
    const retry = new URL(again.headers.location as string);
    const code2 = x.authorize({
      clientId: retry.searchParams.get('client_id')!,
      userId: account.id,
      redirectUri: retry.searchParams.get('redirect_uri')!,
      codeChallenge: retry.searchParams.get('code_challenge')!,
      scope: retry.searchParams.get('scope')!,
    });
    const back = await t.app.inject({
      url: `/api/v1/oauth/x/callback?code=${code2}&state=${retry.searchParams.get('state')}`,
      headers: office.cookie,
    });
    expect(back.statusCode, back.body).toBe(302);
    expect(back.headers.location).toBe('/sources?ok=sourceCreated');
    const source = await sourceOf('x');
    expect(source).toMatchObject({
      handle: 'kanim_sambas',
      url: 'https://x.com/kanim_sambas',
      autoSubmit: true,
      tags: ['Sambas'],
      channelId: null,
      createdBy: org.user('officeA1', 'contributor').id,
    });
    expect(source!.credentialsExpiresAt).not.toBeNull();
    const credentials = t.ctx.keys.decrypt<{ accessToken: string; refreshToken: string }>(
      source!.credentials!,
      source!.id,
    );
    expect(credentials.refreshToken).toBeTruthy();
    expect(source!.credentials).not.toContain(credentials.accessToken);
    // Bound to the source: the ciphertext does not open under another id.
    expect(() => t.ctx.keys.decrypt(source!.credentials!, source!.createdBy)).toThrow();
    // X's reads are few and paid: the page says how often this source is read.
    const listing = await t.app.inject({ url: '/sources', headers: office.cookie });
    expect(listing.body).toContain(
      msg.sources.xReads(Math.round(t.ctx.config.GAUNG_SOURCE_POLL_SECONDS_X / 60)),
    );

    const denied = await form(office, '/sources/connect/x', {});
    const deniedState = new URL(denied.headers.location as string).searchParams.get('state');
    const cancel = await t.app.inject({
      url: `/api/v1/oauth/x/callback?error=access_denied&state=${deniedState}`,
      headers: office.cookie,
    });
    expect(cancel.headers.location).toBe('/sources?connect=denied');
  });

  it('reads with a channel of the office when the account is also one of its channels', async () => {
    const account = x.addUser({ username: 'kanim_singkawang' });
    const tokens = x.issueTokens(account.id, { clientId: CLIENT_ID });
    const [channel] = await t.ctx.db
      .insert(channels)
      .values({
        unitId: org.units.officeA1.id,
        platform: 'x',
        name: 'X Kanim Singkawang',
        settings: { userId: account.id, username: account.username },
        credentials: 'pending',
        timeZone: 'Asia/Pontianak',
      })
      .returning();
    await t.ctx.db
      .update(channels)
      .set({
        credentials: t.ctx.keys.encrypt(
          {
            accessToken: tokens.accessToken,
            refreshToken: tokens.refreshToken,
            expiresAt: tokens.expiresAt.toISOString(),
          },
          channel!.id,
        ),
      })
      .where(eq(channels.id, channel!.id));
    const body = (await t.app.inject({ url: '/sources', headers: office.cookie })).body;
    expect(body).toContain(`<option value="${channel!.id}"`);
    expect(body).toContain(msg.sources.useChannel);

    const added = await form(office, '/sources', { kind: 'x', channelId: channel!.id });
    expect(added.statusCode, added.body).toBe(303);
    const [source] = await t.ctx.db.select().from(sources).where(eq(sources.channelId, channel!.id));
    expect(source).toMatchObject({ kind: 'x', handle: 'kanim_singkawang', credentials: null });

    // Another office cannot read with it.
    const other = await signIn(t.app, org.user('officeA2', 'contributor').email, TEST_PASSWORD);
    const refused = await form(other, '/sources', { kind: 'x', channelId: channel!.id });
    expect(refused.statusCode).toBe(400);
    expect(
      await t.ctx.db.select().from(sources).where(eq(sources.unitId, org.units.officeA2.id)),
    ).toHaveLength(0);
  });

  it('connects a Facebook Page through a Meta sign-in, asking which Page when there are several', async () => {
    const first = graph.createPage('Kanim Pontianak');
    const second = graph.createPage('Kanim Pontianak (arsip)');
    const user = graph.createUser('Petugas Kanim', [first.pageId, second.pageId]);
    const choose = await form(office, '/sources', {
      kind: 'facebook',
      userAccessToken: user.shortLivedToken,
    });
    expect(choose.statusCode).toBe(422);
    expect(choose.body).toMatch(/<details[^>]*data-kind="facebook"[^>]*open/);
    expect(choose.body).toContain(`<option value="${second.pageId}">`);
    expect(choose.body).not.toContain(user.shortLivedToken);

    const added = await form(office, '/sources', {
      kind: 'facebook',
      userAccessToken: user.shortLivedToken,
      pageId: first.pageId,
    });
    expect(added.statusCode, added.body).toBe(303);
    const source = await sourceOf('facebook');
    expect(source!.settings).toMatchObject({ pageId: first.pageId });
    expect(t.ctx.keys.decrypt(source!.credentials!, source!.id)).toEqual({
      pageAccessToken: first.pageToken,
    });

    const refused = await form(office, '/sources', { kind: 'facebook', userAccessToken: 'EAAB-bukan-token' });
    expect(refused.statusCode).toBe(422);
    expect(refused.body).not.toContain('EAAB-bukan-token');
  });

  /** The source's first read: what the office posted comes in as a post with its origin. */
  async function firstRead(sourceId: string) {
    await t.ctx.db
      .update(sources)
      .set({ nextPollAt: new Date(Date.now() - 1_000) })
      .where(eq(sources.id, sourceId));
    expect(await pollSource(t.ctx, sourceId)).toMatchObject({ outcome: 'polled', imported: 1 });
    const [post] = await t.ctx.db.select().from(posts).where(eq(posts.sourceId, sourceId));
    return post!;
  }

  it('adds an Instagram account through a Meta sign-in: the Page with the linked account', async () => {
    const page = graph.createPage('Kanim Sanggau');
    const { igUserId } = graph.linkInstagram(page.pageId, 'kanim_sanggau');
    const other = graph.createPage('Kanim Sanggau (tanpa Instagram)');
    const user = graph.createUser('Petugas Sanggau', [page.pageId, other.pageId]);

    const missing = await form(office, '/sources', { kind: 'instagram' });
    expect(missing.statusCode).toBe(400);
    expect(missing.body).toContain('id="instagram-userAccessToken-error"');
    expect(missing.body).toMatch(/<details[^>]*data-kind="instagram"[^>]*open/);

    // Only one of the Pages has an Instagram account linked: it is taken without asking.
    const added = await form(office, '/sources', {
      kind: 'instagram',
      userAccessToken: user.shortLivedToken,
      tags: 'Sanggau',
    });
    expect(added.statusCode, added.body).toBe(303);
    expect(added.headers.location).toBe('/sources?ok=sourceCreated');
    const source = await sourceOf('instagram');
    expect(source).toMatchObject({ settings: { igUserId }, tags: ['Sanggau'], autoSubmit: false });
    expect(t.ctx.keys.decrypt(source!.credentials!, source!.id)).toEqual({ accessToken: page.pageToken });
    expect(source!.credentials).not.toContain(page.pageToken);

    const media = graph.postIgMedia(igUserId, { caption: 'Pelayanan paspor di Sanggau', media: [] });
    const post = await firstRead(source!.id);
    expect(post).toMatchObject({ status: 'draft', body: 'Pelayanan paspor di Sanggau' });
    expect(post.origin).toMatchObject({ platform: 'instagram', nativeId: media.id });

    const refused = await form(office, '/sources', { kind: 'instagram', userAccessToken: 'EAAB-palsu' });
    expect(refused.statusCode).toBe(422);
    expect(refused.body).not.toContain('EAAB-palsu');
  });

  it("connects a Threads source through Threads' authorization window: a long-lived token kept with its expiry", async () => {
    const account = threads.createUser('kanim_ketapang');
    const start = await form(office, '/sources/connect/threads', { autoSubmit: '1', tags: 'Ketapang' });
    expect(start.statusCode).toBe(303);
    const window = new URL(start.headers.location as string);
    expect(`${window.origin}${window.pathname}`).toBe(threads.authorizeUrl);
    expect(window.searchParams.get('scope')!.split(',')).toEqual(
      expect.arrayContaining(['threads_basic', 'threads_content_publish', 'threads_delete']),
    );
    expect(window.searchParams.get('redirect_uri')).toBe(
      `${t.config.publicUrl}/api/v1/oauth/threads/callback`,
    );
    const { code, state } = threads.consent(window.toString(), account.userId);

    const back = await t.app.inject({
      url: `/api/v1/oauth/threads/callback?code=${code}&state=${state}`,
      headers: office.cookie,
    });
    expect(back.statusCode, back.body).toBe(302);
    expect(back.headers.location).toBe('/sources?ok=sourceCreated');
    const source = await sourceOf('threads');
    expect(source).toMatchObject({
      handle: 'kanim_ketapang',
      url: 'https://www.threads.net/@kanim_ketapang',
      settings: { userId: account.userId },
      autoSubmit: true,
      tags: ['Ketapang'],
      channelId: null,
    });
    const credentials = t.ctx.keys.decrypt<{ accessToken: string; expiresAt: string }>(
      source!.credentials!,
      source!.id,
    );
    expect(threads.tokenValid(credentials.accessToken)).toBe(true);
    expect(source!.credentials).not.toContain(credentials.accessToken);
    // Long-lived: about 60 days, and the refresher knows when.
    expect(source!.credentialsExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 59 * 86_400_000);
    expect(new Date(credentials.expiresAt).getTime()).toBe(source!.credentialsExpiresAt!.getTime());

    const thread = threads.postThread(account.userId, { text: 'Sosialisasi keimigrasian di Ketapang' });
    const post = await firstRead(source!.id);
    expect(post).toMatchObject({ status: 'submitted', body: 'Sosialisasi keimigrasian di Ketapang' });
    expect(post.origin).toMatchObject({ platform: 'threads', nativeId: thread.id });

    // A code Threads does not know (or one already used) connects nothing.
    const retry = new URL((await form(office, '/sources/connect/threads', {})).headers.location as string);
    const used = await t.app.inject({
      url: `/api/v1/oauth/threads/callback?code=${code}&state=${retry.searchParams.get('state')}`,
      headers: office.cookie,
    });
    expect(used.statusCode).toBe(422);
    expect(used.json()).toMatchObject({ code: 'connect_failed' });
    expect((await t.ctx.db.select().from(sources).where(eq(sources.kind, 'threads'))).length).toBe(1);
  });

  it("adds a public Bluesky account by its handle and its own PDS, read from the account's repository", async () => {
    const handle = 'kanim-sintang.bsky.test';
    const account = pds.addAccount({ handle, appPassword: 'tidak-dipakai' });
    plc.register(account.did, { handle, pds: pds.url });

    const missing = await form(office, '/sources', { kind: 'bluesky', pdsUrl: pds.url });
    expect(missing.statusCode).toBe(400);
    expect(missing.body).toContain('id="bluesky-handle-error"');
    const badPds = await form(office, '/sources', { kind: 'bluesky', handle, pdsUrl: 'ftp://pds.example' });
    expect(badPds.statusCode).toBe(400);
    expect(badPds.body).toContain('id="bluesky-pdsUrl-error"');
    expect(badPds.body).toContain(`value="${handle}"`);
    expect(await sourceOf('bluesky')).toBeUndefined();

    const added = await form(office, '/sources', { kind: 'bluesky', handle: `@${handle}`, pdsUrl: pds.url });
    expect(added.statusCode, added.body).toBe(303);
    const source = await sourceOf('bluesky');
    expect(source).toMatchObject({
      handle,
      url: `https://bsky.app/profile/${handle}`,
      settings: { pdsUrl: pds.url },
      credentials: null,
    });

    const record = pds.addPost(account.did, 'Layanan keliling di Sintang');
    const post = await firstRead(source!.id);
    expect(post.body).toBe('Layanan keliling di Sintang');
    expect(post.origin).toMatchObject({
      platform: 'bluesky',
      nativeId: record.uri,
      ref: { uri: record.uri, cid: record.cid },
    });
  });

  it('adds a YouTube channel by its id: new videos come in as copies with their link and thumbnail', async () => {
    const channel = youtube.addChannel({ title: 'Kanim Putussibau' });

    const missing = await form(office, '/sources', { kind: 'youtube' });
    expect(missing.statusCode).toBe(400);
    expect(missing.body).toContain('id="youtube-youtubeChannelId-error"');

    const added = await form(office, '/sources', { kind: 'youtube', youtubeChannelId: channel.id });
    expect(added.statusCode, added.body).toBe(303);
    const source = await sourceOf('youtube');
    expect(source).toMatchObject({
      url: `https://www.youtube.com/channel/${channel.id}`,
      settings: { channelId: channel.id },
      credentials: null,
    });

    const video = youtube.uploadOnYoutube(channel.id, {
      title: 'Layanan paspor Sabtu',
      description: 'Jadwal layanan',
      durationSeconds: 95,
      still: await testImage({ hue: 20, format: 'jpeg' }),
      publishedAt: new Date(Date.now() - 60_000),
    });
    const post = await firstRead(source!.id);
    expect(post.body).toContain('Layanan paspor Sabtu');
    expect(post.body).toContain(video.id);
    expect(post.origin).toMatchObject({ platform: 'youtube', nativeId: video.id });
  });

  it('adds a Telegram channel the source bot administers, by its handle', async () => {
    const chat = telegram.createChat({ title: 'Kanim Entikong', username: 'kanim_entikong' });
    const added = await form(office, '/sources', { kind: 'telegram', handle: '@kanim_entikong' });
    expect(added.statusCode, added.body).toBe(303);
    expect(await sourceOf('telegram')).toMatchObject({ accountId: String(chat.id), title: 'Kanim Entikong' });
    const unnamed = await form(office, '/sources', { kind: 'telegram' });
    expect(unnamed.statusCode).toBe(400);
    expect(unnamed.body).toContain('id="telegram-handle-error"');
  });

  it('lets the admins above the office pause and remove its source, and no reviewer above', async () => {
    const source = await sourceOf('telegram');
    const reviewer = await signIn(t.app, org.user('regionA', 'reviewer').email, TEST_PASSWORD);
    expect((await form(reviewer, `/sources/${source!.id}/pause`, { paused: 'true' })).statusCode).toBe(403);
    const admin = await signIn(t.app, org.user('regionA', 'admin').email, TEST_PASSWORD);
    const page = (await t.app.inject({ url: '/sources', headers: admin.cookie })).body;
    expect(page).toContain(`action="/sources/${source!.id}/pause"`);
    expect(page).not.toContain(`action="/sources/${source!.id}/poll"`);
    expect((await form(admin, `/sources/${source!.id}/poll`, {})).statusCode).toBe(403);
    expect((await form(admin, `/sources/${source!.id}/pause`, { paused: 'true' })).headers.location).toBe(
      '/sources?ok=sourcePaused',
    );
    expect((await form(admin, `/sources/${source!.id}/delete`, {})).statusCode).toBe(303);
    expect(await t.ctx.db.select().from(sources).where(eq(sources.id, source!.id))).toHaveLength(0);
  });
});
