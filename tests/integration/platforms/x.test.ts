import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildXAuthorizeUrl, exchangeXCode, xAdapter } from '../../../src/platforms/x';
import {
  createCredentialStore,
  createPlatformContext,
  mediaFromBuffer,
  publishRequest,
  testImage,
  testVideo,
} from '../../fakes/platform-context';
import { createFakeX, type FakeX, type FakeXUser } from '../../fakes/x';
import { itWithFfmpeg } from '../../helpers/ffmpeg';

const CLIENT_ID = 'gaung-test-client';

describe('X adapter against the fake X API', () => {
  let fake: FakeX;
  let account: FakeXUser;
  let office: FakeXUser;

  beforeAll(async () => {
    fake = createFakeX({ checkAfterSecs: 1, videoProcessingPolls: 2 });
    fake.registerClient(CLIENT_ID);
    fake.registerClient('gaung-confidential', 'client-secret');
    await fake.start();
    account = fake.addUser({ username: 'ditjen_imigrasi', name: 'Ditjen Imigrasi' });
    office = fake.addUser({ username: 'kanim_pontianak' });
  });
  afterAll(() => fake.stop());
  beforeEach(() => fake.server.clearFaults());

  /** A channel whose tokens the fake issued; `expiresAt` is what Gaung believes about the access token. */
  function channel(options: { expiresAt?: Date; settings?: Record<string, unknown> } = {}) {
    const tokens = fake.issueTokens(account.id, { clientId: CLIENT_ID });
    const store = createCredentialStore({
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: (options.expiresAt ?? tokens.expiresAt).toISOString(),
    });
    const context = () =>
      createPlatformContext({
        platform: 'x',
        store,
        settings: options.settings ?? { userId: account.id, username: account.username },
        endpoints: { xApi: fake.url, xUpload: fake.url },
        apps: { x: { clientId: CLIENT_ID } },
      });
    return { store, tokens, ctx: context(), context };
  }

  const postsTo = (path: string) => ({
    match: (r: { method: string; url: string }) => r.method === 'POST' && r.url === path,
  });

  it('publishes text, keeps the link, and reports the rate-limit window', async () => {
    const { ctx } = channel();
    const text = `Layanan paspor Sabtu & Minggu di Pontianak ${randomUUID().slice(0, 8)}`;
    const result = await xAdapter.publish(
      ctx,
      publishRequest({ deliveryId: randomUUID(), text, link: 'https://imigrasi.go.id/berita/123' }),
    );
    const post = fake.timeline(account.id)[0]!;
    expect(result).toEqual({ remoteId: post.id, url: `https://x.com/ditjen_imigrasi/status/${post.id}` });
    expect(post.submittedText).toBe(`${text}\n\nhttps://imigrasi.go.id/berita/123`);
    expect(post.text).toMatch(/&amp;.*https:\/\/t\.co\//s);
    expect(ctx.rateLimits.at(-1)).toMatchObject({ remaining: expect.any(Number), scope: 'channel' });
    expect(ctx.rateLimits.at(-1)!.resetAt.getTime()).toBeGreaterThan(Date.now());
  });

  it('uploads images through initialize/append/finalize with alt text', async () => {
    const { ctx } = channel();
    const images = await Promise.all([testImage({ hue: 10 }), testImage({ format: 'jpeg', hue: 200 })]);
    const result = await xAdapter.publish(
      ctx,
      publishRequest({
        deliveryId: randomUUID(),
        text: `Foto kegiatan ${randomUUID().slice(0, 8)}`,
        media: [
          mediaFromBuffer(images[0]!, {
            kind: 'image',
            mime: 'image/png',
            altText: 'Antrean pemohon paspor',
          }),
          mediaFromBuffer(images[1]!, { kind: 'image', mime: 'image/jpeg' }),
        ],
      }),
    );
    const post = fake.posts.find((p) => p.id === result.remoteId)!;
    expect(post.mediaIds).toHaveLength(2);
    const [first, second] = post.mediaIds.map((id) => fake.media.get(id)!);
    expect(first!.bytes!.equals(images[0]!)).toBe(true);
    expect(first!.altText).toBe('Antrean pemohon paspor');
    expect(second!.mediaType).toBe('image/jpeg');
    expect(second!.altText).toBeNull();
  });

  itWithFfmpeg('uploads a video and waits for X to finish processing it', async () => {
    const { ctx } = channel();
    const video = await testVideo();
    const result = await xAdapter.publish(
      ctx,
      publishRequest({
        deliveryId: randomUUID(),
        text: `Video sosialisasi ${randomUUID().slice(0, 8)}`,
        media: [mediaFromBuffer(video, { kind: 'video', mime: 'video/mp4' })],
      }),
    );
    const uploaded = fake.media.get(fake.posts.find((p) => p.id === result.remoteId)!.mediaIds[0]!)!;
    expect(uploaded.category).toBe('tweet_video');
    expect(uploaded.state).toBe('succeeded');
    expect(uploaded.bytes!.equals(video)).toBe(true);
    const polls = fake.server.received.filter(
      (r) => r.url.startsWith(`/2/media/upload?`) && r.url.includes(uploaded.id),
    );
    expect(polls.length).toBe(2);
  });

  itWithFfmpeg('refuses media X cannot take before uploading anything', async () => {
    const { ctx } = channel();
    const before = fake.server.received.length;
    const video = await testVideo();
    const image = await testImage();
    const error = await xAdapter
      .publish(
        ctx,
        publishRequest({
          deliveryId: randomUUID(),
          media: [
            mediaFromBuffer(video, { kind: 'video', mime: 'video/mp4' }),
            mediaFromBuffer(image, { kind: 'image', mime: 'image/png' }),
          ],
        }),
      )
      .catch((e: unknown) => e);
    expect(xAdapter.classifyError(error)).toMatchObject({ kind: 'invalid' });
    expect(fake.server.received.length).toBe(before);
  });

  it('reposts the office post, and reposting again yields the same repost', async () => {
    const { ctx } = channel();
    const source = fake.addPost(office.id, `Pengumuman kantor ${randomUUID().slice(0, 8)}`);
    const request = publishRequest({
      deliveryId: randomUUID(),
      mode: 'repost',
      sourceUrl: `https://twitter.com/kanim_pontianak/status/${source.id}?s=20`,
    });
    const first = await xAdapter.repost!(ctx, request);
    const again = await xAdapter.repost!(ctx, request);
    expect(again.remoteId).toBe(first.remoteId);
    expect(fake.posts.filter((p) => p.retweetOf === source.id)).toHaveLength(1);
    expect(await xAdapter.findPublished(ctx, request)).toEqual(first);
  });

  it('quotes the office post', async () => {
    const { ctx } = channel();
    const source = fake.addPost(office.id, `Razia izin tinggal ${randomUUID().slice(0, 8)}`);
    const result = await xAdapter.quote!(
      ctx,
      publishRequest({
        deliveryId: randomUUID(),
        mode: 'quote',
        text: `Apresiasi untuk Kanim Pontianak ${randomUUID().slice(0, 8)}`,
        sourceUrl: `https://x.com/kanim_pontianak/status/${source.id}`,
      }),
    );
    expect(fake.posts.find((p) => p.id === result.remoteId)!.quoteOf).toBe(source.id);
    expect(source.metrics.quote_count).toBe(1);
  });

  it('treats a source URL that is not an X post as invalid', async () => {
    const { ctx } = channel();
    const error = await xAdapter.repost!(
      ctx,
      publishRequest({ deliveryId: randomUUID(), mode: 'repost', sourceUrl: 'https://example.com/status/1' }),
    ).catch((e: unknown) => e);
    expect(xAdapter.classifyError(error)).toMatchObject({ kind: 'invalid' });
  });

  it('maps a 429 to rate_limited until the x-rate-limit-reset time', async () => {
    const { ctx } = channel();
    const resetAt = new Date(Math.ceil((Date.now() + 11 * 60_000) / 1000) * 1000);
    fake.server.inject(fake.rateLimitFault(resetAt), postsTo('/2/tweets'));
    const error = await xAdapter
      .publish(ctx, publishRequest({ deliveryId: randomUUID(), text: `Dibatasi ${randomUUID()}` }))
      .catch((e: unknown) => e);
    const classified = xAdapter.classifyError(error);
    expect(classified).toMatchObject({ kind: 'rate_limited', scope: 'channel', httpStatus: 429 });
    expect(classified.kind === 'rate_limited' && classified.until.getTime()).toBe(resetAt.getTime());
    expect(ctx.rateLimits.at(-1)).toMatchObject({ remaining: 0, resetAt });
  });

  it('maps a 503 to retry', async () => {
    const { ctx } = channel();
    fake.server.inject(
      {
        kind: 'respond',
        status: 503,
        body: {
          title: 'Service Unavailable',
          detail: 'Service Unavailable',
          type: 'about:blank',
          status: 503,
        },
      },
      postsTo('/2/tweets'),
    );
    const error = await xAdapter
      .publish(ctx, publishRequest({ deliveryId: randomUUID(), text: `Gangguan ${randomUUID()}` }))
      .catch((e: unknown) => e);
    expect(xAdapter.classifyError(error)).toMatchObject({ kind: 'retry', httpStatus: 503 });
  });

  it('maps text X refuses to invalid', async () => {
    const { ctx } = channel();
    const error = await xAdapter
      .publish(ctx, publishRequest({ deliveryId: randomUUID(), text: 'a'.repeat(281) }))
      .catch((e: unknown) => e);
    expect(xAdapter.classifyError(error)).toMatchObject({ kind: 'invalid', httpStatus: 400 });
  });

  it('refreshes an access token X rejects, stores the rotated pair, and posts', async () => {
    const { ctx, store, tokens } = channel();
    fake.expireAccessToken(tokens.accessToken);
    await xAdapter.publish(
      ctx,
      publishRequest({ deliveryId: randomUUID(), text: `Setelah refresh ${randomUUID()}` }),
    );
    expect(store.version).toBe(2);
    expect(store.current.refreshToken).not.toBe(tokens.refreshToken);
    expect(store.current.accessToken).not.toBe(tokens.accessToken);
    expect(Date.parse(String(store.current.expiresAt))).toBeGreaterThan(Date.now() + 60 * 60_000);
    expect(store.expiresAt?.toISOString()).toBe(store.current.expiresAt);
  });

  it('refreshes before the two-hour expiry without waiting for a 401', async () => {
    const { ctx, store } = channel({ expiresAt: new Date(Date.now() + 60_000) });
    const before = fake.server.received.length;
    await xAdapter.verifyCredentials(ctx);
    const calls = fake.server.received.slice(before).map((r) => `${r.method} ${r.url}`);
    expect(calls).toEqual(['POST /2/oauth2/token', 'GET /2/users/me']);
    expect(store.version).toBe(2);
  });

  it('lets a second worker adopt the tokens another worker rotated first', async () => {
    const { store, context } = channel({ expiresAt: new Date(Date.now() + 60_000) });
    const first = context();
    const second = context();
    await xAdapter.refreshCredentials!(first);
    const rotated = structuredClone(store.current);
    // The second worker still holds the spent refresh token: X refuses it, so it reloads.
    const { expiresAt } = await xAdapter.refreshCredentials!(second);
    expect(second.credentials).toEqual(rotated);
    expect(expiresAt?.toISOString()).toBe(rotated.expiresAt);
    expect(store.version).toBe(2);
    await xAdapter.verifyCredentials(second);
  });

  it('classifies a refused refresh token as auth', async () => {
    const { context, tokens, store } = channel();
    store.current.refreshToken = 'revoked-refresh-token';
    const ctx = context();
    fake.expireAccessToken(tokens.accessToken);
    const error = await xAdapter.verifyCredentials(ctx).catch((e: unknown) => e);
    expect(xAdapter.classifyError(error)).toMatchObject({ kind: 'auth' });
  });

  it('finds a post stored before the connection dropped, matching through t.co and entities', async () => {
    const { ctx } = channel();
    const request = publishRequest({
      deliveryId: randomUUID(),
      text: `Imigrasi <Pontianak> & warga ${randomUUID().slice(0, 8)}\n📍 Kanim Pontianak https://x.com/kanim_pontianak/status/1`,
      link: 'https://imigrasi.go.id/a?b=1&c=2',
      firstAttemptAt: new Date(),
    });
    fake.server.inject({ kind: 'drop-after' }, postsTo('/2/tweets'));
    const error = await xAdapter.publish(ctx, request).catch((e: unknown) => e);
    expect(xAdapter.classifyError(error)).toMatchObject({ kind: 'unknown' });
    const stored = fake.timeline(account.id)[0]!;
    expect(stored.submittedText.startsWith(request.text)).toBe(true);
    expect(await xAdapter.findPublished(ctx, request)).toEqual({
      remoteId: stored.id,
      url: `https://x.com/ditjen_imigrasi/status/${stored.id}`,
    });
    // Retrying blind would be refused as duplicate content, which is again a reason to reconcile.
    const retry = await xAdapter.publish(ctx, request).catch((e: unknown) => e);
    expect(xAdapter.classifyError(retry)).toMatchObject({ kind: 'unknown', httpStatus: 403 });
  });

  it('finds nothing when the post never reached X, nor an older post with the same text', async () => {
    const { ctx } = channel();
    const text = `Jadwal pelayanan ${randomUUID().slice(0, 8)}`;
    fake.addPost(account.id, text, new Date(Date.now() - 60 * 60_000));
    const request = publishRequest({ deliveryId: randomUUID(), text, firstAttemptAt: new Date() });
    fake.server.inject({ kind: 'drop-before' }, postsTo('/2/tweets'));
    const error = await xAdapter.publish(ctx, request).catch((e: unknown) => e);
    expect(xAdapter.classifyError(error)).toMatchObject({ kind: 'unknown' });
    expect(await xAdapter.findPublished(ctx, request)).toBeNull();
  });

  it('finds a repost stored before the connection dropped', async () => {
    const { ctx } = channel();
    const source = fake.addPost(office.id, `Info layanan ${randomUUID().slice(0, 8)}`);
    const request = publishRequest({
      deliveryId: randomUUID(),
      mode: 'repost',
      sourceUrl: `https://x.com/kanim_pontianak/status/${source.id}`,
    });
    expect(await xAdapter.findPublished(ctx, request)).toBeNull();
    fake.server.inject({ kind: 'drop-after' }, postsTo(`/2/users/${account.id}/retweets`));
    await xAdapter.repost!(ctx, request).catch(() => undefined);
    const retweet = fake.posts.find((p) => p.retweetOf === source.id)!;
    expect(await xAdapter.findPublished(ctx, request)).toMatchObject({ remoteId: retweet.id });
  });

  it('reads public metrics', async () => {
    const { ctx } = channel();
    const result = await xAdapter.publish(
      ctx,
      publishRequest({ deliveryId: randomUUID(), text: `Metrik ${randomUUID()}` }),
    );
    const post = fake.posts.find((p) => p.id === result.remoteId)!;
    Object.assign(post.metrics, { like_count: 7, repost_count: 3, impression_count: 120 });
    expect(await xAdapter.fetchMetrics!(ctx, result.remoteId)).toMatchObject({
      impressions: 120,
      likes: 7,
      reposts: 3,
      replies: 0,
      quotes: 0,
      clicks: null,
    });
  });

  it('verifies credentials without stored settings', async () => {
    const { ctx } = channel({ settings: {} });
    expect(await xAdapter.verifyCredentials(ctx)).toEqual({
      remoteId: account.id,
      handle: 'ditjen_imigrasi',
      name: 'Ditjen Imigrasi',
    });
  });

  it('connects a channel with OAuth 2.0 PKCE and a confidential client', async () => {
    const endpoints = {
      xApi: fake.url,
      xUpload: fake.url,
      graph: '',
      threads: '',
      threadsAuth: '',
      telegram: '',
      youtube: '',
      googleAuth: '',
      googleToken: '',
      tiktok: '',
      tiktokAuth: '',
    };
    const apps = { x: { clientId: 'gaung-confidential', clientSecret: 'client-secret' } };
    const redirectUri = 'https://gaung.example/api/v1/channels/x/callback';
    const { url, state, codeVerifier } = buildXAuthorizeUrl(endpoints, apps, redirectUri);
    const authorize = new URL(url);
    expect(authorize.searchParams.get('scope')).toBe(
      'tweet.read tweet.write users.read media.write offline.access',
    );
    expect(authorize.searchParams.get('state')).toBe(state);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('s256');
    const code = fake.authorize({
      clientId: 'gaung-confidential',
      userId: account.id,
      redirectUri,
      codeChallenge: authorize.searchParams.get('code_challenge')!,
      scope: authorize.searchParams.get('scope')!,
    });
    const connected = await exchangeXCode(endpoints, apps, { code, codeVerifier, redirectUri });
    expect(connected.account).toEqual({
      remoteId: account.id,
      handle: 'ditjen_imigrasi',
      name: 'Ditjen Imigrasi',
    });
    expect(connected.settings).toEqual({ userId: account.id, username: 'ditjen_imigrasi' });
    expect(xAdapter.credentialsSchema.parse(connected.credentials)).toEqual(connected.credentials);
    const replay = await exchangeXCode(endpoints, apps, { code, codeVerifier, redirectUri }).catch(
      (e: unknown) => e,
    );
    expect(xAdapter.classifyError(replay)).toMatchObject({ kind: 'invalid', httpStatus: 400 });
  });
});
