import { randomBytes, randomUUID } from 'node:crypto';
import axios from 'axios';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { takeCallSlot } from '../../../src/infra/rate-limiter';
import {
  buildTiktokAuthorizeUrl,
  createTiktokAdapter,
  exchangeTiktokCode,
  TIKTOK_MIN_CHUNK,
  TIKTOK_SCOPES,
  tiktokChunking,
  tiktokCodeChallenge,
} from '../../../src/platforms/tiktok';
import { PlatformError, type PublishRequest } from '../../../src/platforms/types';
import { createMediaHost, type MediaHost } from '../../fakes/media-host';
import {
  createCredentialStore,
  createPlatformContext,
  mediaFromBuffer,
  publishRequest,
  retractRequest,
  testImage,
} from '../../fakes/platform-context';
import { createFakeTiktok, type FakeTiktok } from '../../fakes/tiktok';
import { deleteKeys, testRedisTarget } from '../../helpers/context';

const CLIENT = { clientKey: 'gaung-tiktok-client', clientSecret: 'tiktok-secret' };
const MB = 1024 * 1024;
const adapter = createTiktokAdapter({
  chunkBytes: TIKTOK_MIN_CHUNK,
  pollIntervalMs: 5,
  pollTimeoutMs: 20_000,
  resumeDelayMs: 5,
  maxResumes: 2,
});

/** A checkpoint kept in memory, as the engine keeps it in the delivery row. */
function memoryCheckpoint(): NonNullable<PublishRequest['checkpoint']> & { saves: number } {
  const checkpoint = {
    saved: null as Record<string, unknown> | null,
    saves: 0,
    async save(state: Record<string, unknown>) {
      checkpoint.saved = structuredClone(state);
      checkpoint.saves += 1;
    },
  };
  return checkpoint;
}

describe('TikTok adapter against the fake Content Posting API', () => {
  let fake: FakeTiktok;
  let media: MediaHost;
  let openId: string;
  let username: string;
  let clock = Date.now();

  beforeAll(async () => {
    fake = createFakeTiktok({ now: () => clock });
    fake.registerClient(CLIENT.clientKey, CLIENT.clientSecret);
    await fake.start();
    media = await createMediaHost();
    const account = fake.addAccount({ nickname: 'Ditjen Imigrasi', dailyCap: 1000 });
    openId = account.openId;
    username = account.username;
  });
  afterAll(async () => {
    await fake.stop();
    await media.stop();
  });
  beforeEach(() => {
    fake.server.clearFaults();
    fake.setProcessingPolls(1);
    // Each test starts a minute later, so the per-minute windows of the last one are spent.
    clock += 61_000;
  });

  const endpoints = () => ({ tiktok: fake.url, tiktokAuth: `${fake.url}/v2/auth/authorize/` });

  function channel(
    options: {
      settings?: Record<string, unknown>;
      account?: string;
      expiresInSeconds?: number;
      scopes?: string[];
    } = {},
  ) {
    const tokens = fake.issueTokens(options.account ?? openId, {
      clientKey: CLIENT.clientKey,
      expiresInSeconds: options.expiresInSeconds,
      scopes: options.scopes,
    });
    const store = createCredentialStore({
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: tokens.expiresAt.toISOString(),
      scope: (options.scopes ?? TIKTOK_SCOPES).join(','),
    });
    const ctx = createPlatformContext({
      platform: 'tiktok',
      store,
      settings: options.settings ?? { openId, username, privacyLevel: 'PUBLIC_TO_EVERYONE' },
      endpoints: endpoints(),
      apps: { tiktok: CLIENT },
    });
    return { ctx, store, tokens };
  }

  const video = (bytes: number, durationMs = 30_000) =>
    mediaFromBuffer(randomBytes(bytes), {
      kind: 'video',
      mime: 'video/mp4',
      durationMs,
      width: 1080,
      height: 1920,
    });

  const text = () =>
    `Profil Pos Lintas Batas Entikong ${randomUUID().slice(0, 8)}\nPetugas imigrasi melayani pelintas batas.`;

  const rangesOf = (from: number) => fake.chunkRequests().slice(from);

  it('cuts a video as TikTok documents: whole under 5 MB, 5–64 MB chunks, the remainder in the last', () => {
    expect(tiktokChunking(3 * MB, 5 * MB)).toEqual({ chunkSize: 3 * MB, count: 1 });
    expect(tiktokChunking(12 * MB, 5 * MB)).toEqual({ chunkSize: 5 * MB, count: 2 });
    expect(tiktokChunking(200 * MB, 64 * MB)).toEqual({ chunkSize: 64 * MB, count: 3 });
    // A preferred size outside 5–64 MB is brought inside.
    expect(tiktokChunking(300 * MB, 1 * MB).chunkSize).toBe(5 * MB);
  });

  it('publishes a video in ordered chunks with Content-Range, polls until complete and names the post', async () => {
    const { ctx } = channel();
    const clip = video(12 * MB + 4321);
    const checkpoint = memoryCheckpoint();
    const before = fake.chunkRequests().length;
    const body = text();
    const result = await adapter.publish(
      ctx,
      publishRequest({
        deliveryId: randomUUID(),
        text: body,
        media: [clip],
        link: 'https://imigrasi.go.id/x',
        checkpoint,
      }),
    );
    const post = fake.posts(openId).at(-1)!;
    expect(post.status).toBe('PUBLISH_COMPLETE');
    expect(Buffer.concat(post.received).length).toBe(clip.bytes);
    expect(post.postInfo).toEqual({
      title: `${body}\n\nhttps://imigrasi.go.id/x`,
      privacy_level: 'PUBLIC_TO_EVERYONE',
      disable_comment: false,
      disable_duet: false,
      disable_stitch: false,
    });
    expect(rangesOf(before)).toEqual([
      { range: `bytes 0-${5 * MB - 1}/${clip.bytes}`, bytes: 5 * MB, status: 206 },
      { range: `bytes ${5 * MB}-${clip.bytes - 1}/${clip.bytes}`, bytes: clip.bytes - 5 * MB, status: 201 },
    ]);
    // The 19-digit id survives JSON intact (beyond Number.MAX_SAFE_INTEGER).
    expect(result.remoteId).toBe(post.postId);
    expect(result.remoteId).toMatch(/^\d{19}$/);
    expect(result.url).toBe(`https://www.tiktok.com/@${username}/video/${post.postId}`);
    expect(checkpoint.saved).toMatchObject({
      publishId: post.publishId,
      videoBytes: clip.bytes,
      chunkBytes: 5 * MB,
    });
  });

  it('pulls the video from the signed media URL when the media domain is verified, and not otherwise', async () => {
    fake.verifyPrefix(`${media.url}/media/`);
    const clip = media.add(randomBytes(2 * MB), { kind: 'video', mime: 'video/mp4' });
    const { ctx } = channel({
      settings: { openId, username, privacyLevel: 'PUBLIC_TO_EVERYONE', mediaDomainVerified: true },
    });
    const before = fake.chunkRequests().length;
    const result = await adapter.publish(
      ctx,
      publishRequest({ deliveryId: randomUUID(), text: text(), media: [clip] }),
    );
    const post = fake.posts(openId).at(-1)!;
    expect(post.source).toBe('PULL_FROM_URL');
    expect(post.received[0]!.length).toBe(2 * MB);
    expect(result.remoteId).toBe(post.postId);
    expect(fake.chunkRequests().length).toBe(before);

    const stranger = mediaFromBuffer(randomBytes(1000), { kind: 'video', mime: 'video/mp4' });
    const refused = await adapter
      .publish(ctx, publishRequest({ deliveryId: randomUUID(), text: text(), media: [stranger] }))
      .catch((e: unknown) => e);
    expect(adapter.classifyError(refused)).toMatchObject({
      kind: 'invalid',
      httpStatus: 403,
      message: expect.stringMatching(/url_ownership_unverified/),
    });
  });

  it('publishes photos as a carousel pulled by URL, the first line as title within 90 characters', async () => {
    fake.verifyPrefix(`${media.url}/media/`);
    const photos = await Promise.all(
      [10, 80, 160].map(async (hue) =>
        media.add(await testImage({ format: 'jpeg', hue }), { kind: 'image', mime: 'image/jpeg' }),
      ),
    );
    const { ctx } = channel();
    const longLine = `${'Layanan paspor elektronik di seluruh kantor imigrasi '.repeat(3)}`;
    const result = await adapter.publish(
      ctx,
      publishRequest({
        deliveryId: randomUUID(),
        text: `${longLine}\nSyarat lengkap di situs kami.`,
        media: photos,
      }),
    );
    const post = fake.posts(openId).at(-1)!;
    expect(post.kind).toBe('photo');
    expect(post.photos).toBe(3);
    expect(post.received).toHaveLength(3);
    expect((post.postInfo.title as string).length).toBeLessThanOrEqual(90);
    expect(post.postInfo.title).toMatch(/…$/);
    expect(post.postInfo.description).toBe(`${longLine}\nSyarat lengkap di situs kami.`);
    expect(result.remoteId).toBe(post.postId);
  });

  it('resumes a dropped upload from the chunks TikTok holds, never from zero', async () => {
    const { ctx } = channel();
    const clip = video(16 * MB);
    const before = fake.chunkRequests().length;
    const sentBefore = fake.server.received.length;
    // The second chunk's connection breaks before it is stored; the third after it is stored.
    let puts = 0;
    fake.server.inject({ kind: 'drop-before' }, { match: (r) => r.method === 'PUT' && ++puts === 2 });
    fake.server.inject(
      { kind: 'drop-after' },
      {
        match: (r) =>
          r.method === 'PUT' &&
          r.headers['content-range']?.toString().startsWith(`bytes ${10 * MB}-`) === true,
      },
    );
    const result = await adapter.publish(
      ctx,
      publishRequest({ deliveryId: randomUUID(), text: text(), media: [clip] }),
    );
    const post = fake.posts(openId).at(-1)!;
    expect(Buffer.concat(post.received).length).toBe(clip.bytes);
    expect(result.remoteId).toBe(post.postId);
    // Chunk 1 went once; chunk 2 twice (dropped before storing); chunk 3 once (stored, answer lost).
    const ranges = rangesOf(before).map((c) => c.range.split('/')[0]);
    expect(ranges).toEqual([
      `bytes 0-${5 * MB - 1}`,
      `bytes ${5 * MB}-${10 * MB - 1}`,
      `bytes ${10 * MB}-${16 * MB - 1}`,
    ]);
    // Four PUTs left Gaung: the second chunk was sent again after its drop, nothing else was.
    expect(fake.server.received.slice(sentBefore).filter((r) => r.method === 'PUT')).toHaveLength(4);
  });

  it('carries on after a crash mid-upload through the recorded publish_id: one post, upload finished', async () => {
    const { ctx } = channel();
    const clip = video(11 * MB);
    const checkpoint = memoryCheckpoint();
    const request = publishRequest({ deliveryId: randomUUID(), text: text(), media: [clip], checkpoint });
    fake.server.inject(
      { kind: 'drop-before' },
      {
        times: 3,
        match: (r) =>
          r.method === 'PUT' &&
          r.headers['content-range']?.toString().startsWith(`bytes ${5 * MB}-`) === true,
      },
    );
    const broken = await adapter.publish(ctx, request).catch((e: unknown) => e);
    expect(adapter.classifyError(broken).kind).toBe('unknown');
    const posts = fake.posts(openId).length;
    // Reconciliation: still uploading, so certainly not published; the next attempt carries on.
    expect(await adapter.findPublished(ctx, request)).toBeNull();
    const result = await adapter.publish(ctx, request);
    expect(fake.posts(openId).length).toBe(posts);
    const post = fake.posts(openId).find((p) => p.publishId === checkpoint.saved?.publishId)!;
    expect(Buffer.concat(post.received).length).toBe(clip.bytes);
    expect(result.remoteId).toBe(post.postId);
    expect(await adapter.findPublished(ctx, request)).toEqual(result);
  });

  it('an init whose answer was lost has no publish_id: reconciliation cannot tell', async () => {
    const { ctx } = channel();
    const checkpoint = memoryCheckpoint();
    const request = publishRequest({
      deliveryId: randomUUID(),
      text: text(),
      media: [video(1 * MB)],
      checkpoint,
    });
    fake.server.inject(
      { kind: 'drop-after' },
      { match: (r) => r.url.startsWith('/v2/post/publish/video/init/') },
    );
    const lost = await adapter.publish(ctx, request).catch((e: unknown) => e);
    expect(adapter.classifyError(lost).kind).toBe('unknown');
    expect(checkpoint.saved).toBeNull();
    expect(await adapter.findPublished(ctx, request)).toBe('cannot_tell');
  });

  it('a post TikTok fails after init is refused with its fail_reason; reconciliation sees it missing', async () => {
    const { ctx } = channel();
    fake.failNext('frame_rate_check_failed');
    const checkpoint = memoryCheckpoint();
    const request = publishRequest({
      deliveryId: randomUUID(),
      text: text(),
      media: [video(1 * MB)],
      checkpoint,
    });
    const failed = await adapter.publish(ctx, request).catch((e: unknown) => e);
    expect(adapter.classifyError(failed)).toMatchObject({
      kind: 'invalid',
      message: expect.stringMatching(/frame_rate_check_failed/),
    });
    expect(await adapter.findPublished(ctx, request)).toBeNull();
    // A new attempt starts afresh with a new init.
    const posts = fake.posts(openId).length;
    await adapter.publish(ctx, request);
    expect(fake.posts(openId).length).toBe(posts + 1);
  });

  it('offers only what the creator allows: privacy level, interactions, video length; unaudited means SELF_ONLY', async () => {
    const strict = fake.addAccount({
      privacyOptions: ['FOLLOWER_OF_CREATOR', 'SELF_ONLY'],
      commentDisabled: true,
      maxVideoSeconds: 60,
      privateAccount: true,
      dailyCap: 100,
    });
    const { ctx } = channel({ account: strict.openId, settings: { openId: strict.openId } });
    const posts = fake.posts().length;
    // No choice made: TikTok requires one for every post.
    await expect(
      adapter.publish(
        ctx,
        publishRequest({ deliveryId: randomUUID(), text: text(), media: [video(1 * MB)] }),
      ),
    ).rejects.toThrow(/Choose who may see/);
    await expect(
      adapter.publish(
        ctx,
        publishRequest({
          deliveryId: randomUUID(),
          text: text(),
          media: [video(1 * MB)],
          options: { privacyLevel: 'PUBLIC_TO_EVERYONE' },
        }),
      ),
    ).rejects.toThrow(/does not allow the privacy level PUBLIC_TO_EVERYONE/);
    await expect(
      adapter.publish(
        ctx,
        publishRequest({
          deliveryId: randomUUID(),
          text: text(),
          media: [video(1 * MB, 90_000)],
          options: { privacyLevel: 'SELF_ONLY' },
        }),
      ),
    ).rejects.toThrow(/up to 60 seconds/);
    expect(fake.posts().length).toBe(posts);
    await adapter.publish(
      ctx,
      publishRequest({
        deliveryId: randomUUID(),
        text: text(),
        media: [video(1 * MB)],
        options: { privacyLevel: 'FOLLOWER_OF_CREATOR', allowComment: true, allowDuet: false },
      }),
    );
    expect(fake.posts(strict.openId).at(-1)!.postInfo).toMatchObject({
      privacy_level: 'FOLLOWER_OF_CREATOR',
      disable_comment: true,
      disable_duet: true,
      disable_stitch: false,
    });
    const unaudited = channel({
      account: strict.openId,
      settings: { openId: strict.openId, unaudited: true },
    });
    const result = await adapter.publish(
      unaudited.ctx,
      publishRequest({
        deliveryId: randomUUID(),
        text: text(),
        media: [video(1 * MB)],
        options: { privacyLevel: 'FOLLOWER_OF_CREATOR' },
      }),
    );
    expect(fake.posts(strict.openId).at(-1)!.postInfo.privacy_level).toBe('SELF_ONLY');
    // A private post has no public id: the publish_id stands for it.
    expect(result).toEqual({ remoteId: fake.posts(strict.openId).at(-1)!.publishId, url: null });
  });

  it('classifies TikTok error codes with their HTTP statuses', async () => {
    const cases: [Partial<Parameters<FakeTiktok['addAccount']>[0]>, string, number, string][] = [
      [{ dailyCap: 0 }, 'rate_limited', 403, 'spam_risk_too_many_posts'],
      [{ banned: true }, 'invalid', 403, 'spam_risk_user_banned_from_posting'],
    ];
    for (const [account, kind, status, code] of cases) {
      const who = fake.addAccount(account);
      const { ctx } = channel({
        account: who.openId,
        settings: { openId: who.openId, privacyLevel: 'PUBLIC_TO_EVERYONE' },
      });
      const error = await adapter
        .publish(ctx, publishRequest({ deliveryId: randomUUID(), text: text(), media: [video(1000)] }))
        .catch((e: unknown) => e);
      expect(adapter.classifyError(error)).toMatchObject({
        kind,
        httpStatus: status,
        message: expect.stringContaining(code),
      });
    }
    // An unaudited app: a public account is refused; then only five accounts a day may post.
    fake.registerClient('unaudited-client', 'secret', { audited: false });
    const publicAccount = fake.addAccount({ privateAccount: false });
    const unaudited = (who: string) => {
      const tokens = fake.issueTokens(who, { clientKey: 'unaudited-client' });
      return createPlatformContext({
        platform: 'tiktok',
        store: createCredentialStore({
          accessToken: tokens.accessToken,
          refreshToken: tokens.refreshToken,
          expiresAt: tokens.expiresAt.toISOString(),
        }),
        settings: { openId: who, unaudited: true },
        endpoints: endpoints(),
        apps: { tiktok: { clientKey: 'unaudited-client', clientSecret: 'secret' } },
      });
    };
    const refused = await adapter
      .publish(
        unaudited(publicAccount.openId),
        publishRequest({ deliveryId: randomUUID(), text: text(), media: [video(1000)] }),
      )
      .catch((e: unknown) => e);
    expect(adapter.classifyError(refused)).toMatchObject({
      kind: 'invalid',
      httpStatus: 403,
      message: expect.stringContaining('unaudited_client_can_only_post_to_private_accounts'),
    });
    for (let i = 0; i < 5; i++) {
      const who = fake.addAccount({ privateAccount: true, dailyCap: 100 });
      await adapter.publish(
        unaudited(who.openId),
        publishRequest({ deliveryId: randomUUID(), text: text(), media: [video(1000)] }),
      );
    }
    const sixth = fake.addAccount({ privateAccount: true });
    const capped = await adapter
      .publish(
        unaudited(sixth.openId),
        publishRequest({ deliveryId: randomUUID(), text: text(), media: [video(1000)] }),
      )
      .catch((e: unknown) => e);
    expect(adapter.classifyError(capped)).toMatchObject({
      kind: 'rate_limited',
      scope: 'app',
      httpStatus: 403,
      message: expect.stringContaining('reached_active_user_cap'),
    });
    // A grant without the scope: reauthorisation.
    const { ctx } = channel({ scopes: ['user.info.basic'] });
    const scoped = await adapter
      .publish(ctx, publishRequest({ deliveryId: randomUUID(), text: text(), media: [video(1000)] }))
      .catch((e: unknown) => e);
    expect(adapter.classifyError(scoped)).toMatchObject({
      kind: 'auth',
      httpStatus: 401,
      message: expect.stringContaining('scope_not_authorized'),
    });
  });

  it('waits on 429 until Retry-After; with the Redis budget the seventh init waits a minute instead', async () => {
    const { ctx } = channel();
    const redis = new Redis(testRedisTarget().options);
    const prefix = `gaung-test-${randomUUID().slice(0, 8)}`;
    try {
      const waits: number[] = [];
      ctx.callSlot = (budget) =>
        takeCallSlot({ redis, redisPrefix: prefix, now: () => new Date(clock) }, budget, async (ms) => {
          waits.push(ms);
          clock += ms;
        });
      for (let i = 0; i < 7; i++)
        await adapter.publish(
          ctx,
          publishRequest({ deliveryId: randomUUID(), text: text(), media: [video(1000)] }),
        );
      expect(waits).toHaveLength(1);
      expect(waits[0]).toBeGreaterThan(55_000);
      // Without the budget, TikTok's own 429 says how long to wait.
      const bare = channel();
      for (let i = 0; i < 6; i++)
        await adapter.publish(
          bare.ctx,
          publishRequest({ deliveryId: randomUUID(), text: text(), media: [video(1000)] }),
        );
      const limited = await adapter
        .publish(bare.ctx, publishRequest({ deliveryId: randomUUID(), text: text(), media: [video(1000)] }))
        .catch((e: unknown) => e);
      const classified = adapter.classifyError(limited);
      expect(classified).toMatchObject({
        kind: 'rate_limited',
        scope: 'channel',
        httpStatus: 429,
        message: expect.stringContaining('rate_limit_exceeded'),
      });
      expect((classified as { until: Date }).until.getTime()).toBeGreaterThan(Date.now() + 1_000);
    } finally {
      redis.disconnect();
      await deleteKeys(prefix);
    }
  });

  it('refreshes an expiring token, storing the rotated refresh token; a revoked grant needs reauthorisation', async () => {
    const { ctx, store, tokens } = channel({ expiresInSeconds: 60 });
    await adapter.verifyCredentials(ctx);
    expect(store.version).toBe(2);
    expect(store.current.refreshToken).not.toBe(tokens.refreshToken);
    expect(Date.parse(store.current.expiresAt as string)).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    expect(Date.parse(store.current.refreshExpiresAt as string)).toBeGreaterThan(
      Date.now() + 364 * 86_400_000,
    );
    // The used refresh token no longer works (rotation).
    const old = await axios.post(
      `${fake.url}/v2/oauth/token/`,
      new URLSearchParams({
        client_key: CLIENT.clientKey,
        client_secret: CLIENT.clientSecret,
        grant_type: 'refresh_token',
        refresh_token: tokens.refreshToken,
      }).toString(),
      { headers: { 'content-type': 'application/x-www-form-urlencoded' }, validateStatus: () => true },
    );
    expect(old.data.error).toBe('invalid_grant');
    // An access token TikTok stopped accepting is refreshed once, then the call goes through.
    fake.expireAccessTokens();
    await adapter.verifyCredentials(ctx);
    expect(store.version).toBe(3);
    fake.revoke(store.current.refreshToken as string);
    const revoked = await adapter.verifyCredentials(ctx).catch((e: unknown) => e);
    expect(adapter.classifyError(revoked)).toMatchObject({
      kind: 'auth',
      message: expect.stringMatching(/invalid_grant/),
    });
  });

  it('two workers refreshing at once keep one rotated pair', async () => {
    const { store, tokens } = channel({ expiresInSeconds: 60 });
    const make = () =>
      createPlatformContext({
        platform: 'tiktok',
        store,
        settings: { openId },
        endpoints: endpoints(),
        apps: { tiktok: CLIENT },
      });
    const [a, b] = [make(), make()];
    await Promise.all([adapter.refreshCredentials!(a), adapter.refreshCredentials!(b)]);
    expect(store.current.refreshToken).not.toBe(tokens.refreshToken);
    expect(a.credentials.refreshToken).toBe(store.current.refreshToken);
    expect(b.credentials.refreshToken).toBe(store.current.refreshToken);
    await adapter.verifyCredentials(a);
  });

  it('reads views, likes, comments and shares through video query; retraction is left to a person', async () => {
    const { ctx } = channel();
    const published = await adapter.publish(
      ctx,
      publishRequest({ deliveryId: randomUUID(), text: text(), media: [video(1000)] }),
    );
    const metrics = await adapter.fetchMetrics!(ctx, published.remoteId);
    expect(metrics).toMatchObject({ impressions: 1520, likes: 87, replies: 9, reposts: 14 });
    const narrow = channel({ scopes: ['user.info.basic', 'video.publish', 'video.upload'] });
    await expect(adapter.fetchMetrics!(narrow.ctx, published.remoteId)).rejects.toThrow(/video\.list/);
    const retraction = await adapter.retract(
      ctx,
      retractRequest({ deliveryId: randomUUID(), mode: 'copy', sourceUrl: null }, published),
    );
    expect(retraction).toMatchObject({
      outcome: 'needs_person',
      message: expect.stringContaining(published.url!),
    });
    expect(retraction).toMatchObject({ message: expect.stringMatching(/Delete/) });
  });

  it('connects through Login Kit v2 with PKCE (hex challenge) and names the account', async () => {
    const redirectUri = 'https://gaung.example/api/v1/oauth/tiktok/callback';
    const all = {
      xApi: '',
      xUpload: '',
      graph: '',
      threads: '',
      threadsAuth: '',
      telegram: '',
      youtube: '',
      googleAuth: '',
      googleToken: '',
      ...endpoints(),
    };
    const { url, state, codeVerifier } = buildTiktokAuthorizeUrl(all, { tiktok: CLIENT }, redirectUri);
    const params = new URL(url).searchParams;
    expect(params.get('scope')).toBe('user.info.basic,video.publish,video.upload,video.list');
    expect(params.get('code_challenge')).toBe(tiktokCodeChallenge(codeVerifier));
    const consent = fake.consent(url, openId);
    expect(consent.state).toBe(state);
    const result = await exchangeTiktokCode(
      all,
      { tiktok: CLIENT },
      { code: consent.code, codeVerifier, redirectUri },
    );
    expect(result.settings).toEqual({
      openId,
      username,
      privacyLevelOptions: ['PUBLIC_TO_EVERYONE', 'MUTUAL_FOLLOW_FRIENDS', 'SELF_ONLY'],
      commentDisabled: false,
      duetDisabled: false,
      stitchDisabled: false,
      maxVideoSeconds: 600,
    });
    expect(result.account).toMatchObject({
      remoteId: openId,
      handle: `@${username}`,
      name: 'Ditjen Imigrasi',
    });
    expect(Date.parse(result.credentials.expiresAt)).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    const again = await exchangeTiktokCode(
      all,
      { tiktok: CLIENT },
      { code: consent.code, codeVerifier, redirectUri },
    ).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(PlatformError);
    // A wrong verifier is refused.
    const second = fake.consent(buildTiktokAuthorizeUrl(all, { tiktok: CLIENT }, redirectUri).url, openId);
    const wrong = await exchangeTiktokCode(
      all,
      { tiktok: CLIENT },
      { code: second.code, codeVerifier, redirectUri },
    ).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(PlatformError);
    // TikTok's web redirect URIs must be https.
    expect(() =>
      fake.consent(buildTiktokAuthorizeUrl(all, { tiktok: CLIENT }, 'http://gaung.local/cb').url, openId),
    ).toThrow(/https/);
  });

  it("reads the office's own videos as copies with the share link and cover, newest first, once each", async () => {
    const office = fake.addAccount({ dailyCap: 100 });
    const now = Date.now();
    const old = fake.addListedVideo(office.openId, {
      title: 'Lama',
      createTime: new Date(now - 10 * 86_400_000),
    });
    const first = fake.addListedVideo(office.openId, {
      title: 'Pelayanan paspor Sabtu',
      createTime: new Date(now - 3_600_000),
    });
    const second = fake.addListedVideo(office.openId, {
      title: 'Profil pos lintas batas',
      createTime: new Date(now - 60_000),
    });
    const { ctx } = channel({
      account: office.openId,
      settings: { openId: office.openId, username: office.username },
    });
    const read = await adapter.source!.readSource(ctx, {
      cursor: null,
      since: new Date(now - 86_400_000),
      limit: 20,
    });
    expect(read.items.map((item) => item.key)).toEqual([second, first]);
    const [newest] = read.items;
    const share = `https://www.tiktok.com/@${office.username}/video/${second}`;
    expect(newest).toMatchObject({
      url: share,
      text: `Profil pos lintas batas\n\n${share}`,
      media: [{ kind: 'image', url: expect.stringContaining(`cover-${second}`) }],
      origin: { platform: 'tiktok', nativeId: second, url: share, authorHandle: `@${office.username}` },
      kind: 'post',
    });
    expect(read.items.map((item) => item.key)).not.toContain(old);
    // The cursor remembers the newest video: the next read brings only what is newer.
    expect(
      await adapter.source!.readSource(ctx, {
        cursor: read.cursor,
        since: new Date(now - 86_400_000),
        limit: 20,
      }),
    ).toEqual({ items: [], cursor: read.cursor });
    const third = fake.addListedVideo(office.openId, { title: 'Baru', createTime: new Date(now + 1_000) });
    const next = await adapter.source!.readSource(ctx, {
      cursor: read.cursor,
      since: new Date(now - 86_400_000),
      limit: 20,
    });
    expect(next.items.map((item) => item.key)).toEqual([third]);
    // A deleted original is seen as gone.
    expect(await adapter.source!.originExists!(ctx, newest!.origin)).toBe(true);
    fake.removeListedVideo(office.openId, second);
    expect(await adapter.source!.originExists!(ctx, newest!.origin)).toBe(false);
  });

  describe('the fake enforces the documented rules', () => {
    const call = (
      path: string,
      token: string,
      body: unknown,
      contentType = 'application/json; charset=UTF-8',
    ) =>
      axios.post(`${fake.url}${path}`, body, {
        headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
        validateStatus: () => true,
      });

    it('auth, scopes, envelope, content type and unknown fields', async () => {
      const { tokens } = channel();
      const none = await call('/v2/post/publish/creator_info/query/', 'nope', {});
      expect([none.status, none.data.error.code]).toEqual([401, 'access_token_invalid']);
      const ok = await call('/v2/post/publish/creator_info/query/', tokens.accessToken, {});
      expect(ok.data.error).toMatchObject({ code: 'ok', message: '' });
      expect(ok.data.error.log_id).toBeTruthy();
      const list = fake.issueTokens(openId, { clientKey: CLIENT.clientKey, scopes: ['user.info.basic'] });
      const scoped = await call('/v2/post/publish/status/fetch/', list.accessToken, { publish_id: 'x' });
      expect([scoped.status, scoped.data.error.code]).toEqual([401, 'scope_not_authorized']);
      const extra = await call('/v2/post/publish/video/init/', tokens.accessToken, {
        post_info: { title: 'x', privacy_level: 'SELF_ONLY', colour: 'red' },
        source_info: { source: 'FILE_UPLOAD', video_size: 1000, chunk_size: 1000, total_chunk_count: 1 },
      });
      expect([extra.status, extra.data.error.code]).toEqual([400, 'invalid_params']);
      const long = await call('/v2/post/publish/video/init/', tokens.accessToken, {
        post_info: { title: 'a'.repeat(2201), privacy_level: 'SELF_ONLY' },
        source_info: { source: 'FILE_UPLOAD', video_size: 1000, chunk_size: 1000, total_chunk_count: 1 },
      });
      expect(long.data.error.message).toMatch(/2200/);
    });

    it('chunk rules at init and on the upload URL', async () => {
      const { tokens } = channel();
      const init = (source: Record<string, unknown>) =>
        call('/v2/post/publish/video/init/', tokens.accessToken, {
          post_info: { title: 't', privacy_level: 'SELF_ONLY' },
          source_info: { source: 'FILE_UPLOAD', ...source },
        });
      const small = await init({ video_size: 3 * MB, chunk_size: 1 * MB, total_chunk_count: 3 });
      expect(small.data.error.message).toMatch(/under 5 MB/);
      const count = await init({ video_size: 12 * MB, chunk_size: 5 * MB, total_chunk_count: 3 });
      expect(count.data.error.message).toMatch(/floor/);
      const big = await init({ video_size: 70 * MB, chunk_size: 70 * MB, total_chunk_count: 1 });
      expect(big.data.error.message).toMatch(/several chunks|at most 64 MB/);
      clock += 61_000;
      const good = await init({ video_size: 12 * MB, chunk_size: 5 * MB, total_chunk_count: 2 });
      const upload = good.data.data.upload_url as string;
      const put = (range: string, bytes: number, type = 'video/mp4') =>
        axios.put(upload, Buffer.alloc(bytes), {
          headers: { 'content-type': type, 'content-range': range },
          validateStatus: () => true,
        });
      expect((await put(`bytes ${5 * MB}-${12 * MB - 1}/${12 * MB}`, 7 * MB)).status).toBe(416);
      expect((await put(`bytes 0-${5 * MB - 1}/${12 * MB}`, 5 * MB, 'image/png')).status).toBe(400);
      expect((await put(`bytes 0-${5 * MB - 1}/${12 * MB}`, 5 * MB)).status).toBe(206);
      expect((await put(`bytes 0-${5 * MB - 1}/${12 * MB}`, 5 * MB)).status).toBe(416);
      const status = await call('/v2/post/publish/status/fetch/', tokens.accessToken, {
        publish_id: good.data.data.publish_id,
      });
      expect(status.data.data).toMatchObject({ status: 'PROCESSING_UPLOAD', uploaded_bytes: 5 * MB });
      expect((await put(`bytes ${5 * MB}-${12 * MB - 1}/${12 * MB}`, 7 * MB)).status).toBe(201);
      fake.expireUploadUrls();
      expect((await put(`bytes 0-${5 * MB - 1}/${12 * MB}`, 5 * MB)).status).toBe(404);
    });

    it('photo rules and the status rate limit', async () => {
      const { tokens } = channel();
      const photo = (source: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
        call('/v2/post/publish/content/init/', tokens.accessToken, {
          post_info: { title: 't', privacy_level: 'SELF_ONLY' },
          source_info: { source: 'PULL_FROM_URL', photo_cover_index: 0, ...source },
          post_mode: 'DIRECT_POST',
          media_type: 'PHOTO',
          ...extra,
        });
      const tooMany = await photo({
        photo_images: Array.from({ length: 36 }, (_, i) => `${media.url}/media/${i}`),
      });
      expect(tooMany.data.error.message).toMatch(/1 to 35/);
      const cover = await photo({ photo_images: [`${media.url}/media/a`], photo_cover_index: 1 });
      expect(cover.data.error.message).toMatch(/photo_cover_index/);
      const unverified = await photo({ photo_images: ['https://elsewhere.example/a.jpg'] });
      expect([unverified.status, unverified.data.error.code]).toEqual([403, 'url_ownership_unverified']);
      const answers = [];
      for (let i = 0; i < 31; i++)
        answers.push(
          (await call('/v2/post/publish/status/fetch/', tokens.accessToken, { publish_id: 'none' })).status,
        );
      expect(answers.filter((s) => s === 429)).toHaveLength(1);
      expect(answers.at(-1)).toBe(429);
    });
  });
});
