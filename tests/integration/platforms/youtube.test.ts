import { randomBytes, randomUUID } from 'node:crypto';
import axios from 'axios';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nextMidnight } from '../../../src/domain/rate-limits';
import { PlatformError } from '../../../src/platforms/types';
import {
  buildGoogleAuthorizeUrl,
  createYoutubeAdapter,
  exchangeGoogleCode,
  YOUTUBE_CHUNK_GRANULE,
  YOUTUBE_SCOPES,
} from '../../../src/platforms/youtube';
import {
  createCredentialStore,
  createPlatformContext,
  mediaFromBuffer,
  publishRequest,
  testImage,
} from '../../fakes/platform-context';
import { createFakeYoutube, type FakeYoutube } from '../../fakes/youtube';

const CLIENT = { clientId: 'gaung-google-client', clientSecret: 'google-secret' };
const adapter = createYoutubeAdapter({ chunkBytes: YOUTUBE_CHUNK_GRANULE, resumeDelayMs: 5 });

describe('YouTube adapter against the fake YouTube Data API', () => {
  let fake: FakeYoutube;
  let channelId: string;
  let playlistId: string;

  beforeAll(async () => {
    fake = createFakeYoutube();
    fake.registerClient(CLIENT.clientId, CLIENT.clientSecret);
    await fake.start();
    channelId = fake.addChannel({ title: 'Ditjen Imigrasi' }).id;
    playlistId = fake.addPlaylist(channelId);
  });
  afterAll(() => fake.stop());
  beforeEach(() => {
    fake.server.clearFaults();
    fake.beforeChunk(null);
    fake.setQuota({ uploads: 100, units: 10_000 });
  });

  const endpoints = () => ({ youtube: fake.url, googleAuth: fake.authUrl, googleToken: fake.tokenUrl });

  function channel(
    options: { settings?: Record<string, unknown>; expiresAt?: Date; expiresInSeconds?: number } = {},
  ) {
    const tokens = fake.issueTokens(channelId, {
      clientId: CLIENT.clientId,
      expiresInSeconds: options.expiresInSeconds,
    });
    const store = createCredentialStore({
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: (options.expiresAt ?? tokens.expiresAt).toISOString(),
    });
    const ctx = createPlatformContext({
      platform: 'youtube',
      store,
      settings: options.settings ?? { channelId, madeForKids: false, playlistId },
      endpoints: endpoints(),
      apps: { google: CLIENT },
    });
    return { ctx, store, tokens };
  }

  /** Bytes standing in for a video: the fake stores them as they come, in 256 KiB chunks. */
  const video = (
    bytes: number,
    shape: { width: number; height: number; durationMs: number } = {
      width: 1920,
      height: 1080,
      durationMs: 95_000,
    },
  ) => mediaFromBuffer(randomBytes(bytes), { kind: 'video', mime: 'video/mp4', ...shape });

  const text = (tag = randomUUID().slice(0, 8)) =>
    `Profil Pos Lintas Batas Entikong ${tag}\nPetugas imigrasi melayani pelintas batas setiap hari.\n\n📍 Kanim Entikong`;

  it('uploads in chunks with the metadata, thumbnail and playlist, and names the video', async () => {
    const { ctx } = channel();
    const clip = video(3 * YOUTUBE_CHUNK_GRANULE + 1000);
    const cover = mediaFromBuffer(await testImage({ format: 'jpeg', width: 128, height: 72 }), {
      kind: 'image',
      mime: 'image/jpeg',
    });
    const body = text();
    const result = await adapter.publish(
      ctx,
      publishRequest({
        deliveryId: randomUUID(),
        text: body,
        media: [clip, cover],
        tags: ['imigrasi', 'pos lintas batas'],
      }),
    );
    const stored = fake.videos(channelId).find((v) => v.id === result.remoteId)!;
    expect(result.url).toBe(`https://www.youtube.com/watch?v=${stored.id}`);
    expect(stored.snippet).toMatchObject({
      title: body.split('\n')[0],
      description: body,
      tags: ['imigrasi', 'pos lintas batas'],
      categoryId: '25',
      defaultLanguage: 'id',
    });
    expect(stored.status).toEqual({ privacyStatus: 'public', selfDeclaredMadeForKids: false });
    expect(stored.bytes.length).toBe(clip.bytes);
    expect(stored.thumbnail).toEqual({ mime: 'image/jpeg', bytes: cover.bytes });
    expect(fake.playlist(channelId, playlistId)[0]).toBe(stored.id);
    const ranges = fake
      .chunkRequests()
      .slice(-4)
      .map((c) => c.range);
    expect(ranges).toEqual([
      `bytes 0-262143/${clip.bytes}`,
      `bytes 262144-524287/${clip.bytes}`,
      `bytes 524288-786431/${clip.bytes}`,
      `bytes 786432-${clip.bytes - 1}/${clip.bytes}`,
    ]);
  });

  it('publishes a vertical video of up to three minutes as a Short', async () => {
    const { ctx } = channel();
    const result = await adapter.publish(
      ctx,
      publishRequest({
        deliveryId: randomUUID(),
        text: text(),
        media: [video(1000, { width: 1080, height: 1920, durationMs: 45_000 })],
      }),
    );
    expect(result.url).toBe(`https://www.youtube.com/shorts/${result.remoteId}`);
    const stored = fake.videos(channelId).find((v) => v.id === result.remoteId)!;
    expect(stored.snippet.description).toMatch(/\n\n#Shorts$/);
  });

  it('resumes after a dropped connection from the range the session holds, never from zero', async () => {
    const { ctx } = channel();
    const clip = video(6 * YOUTUBE_CHUNK_GRANULE);
    const before = fake.chunkRequests().length;
    // The second chunk is stored but its answer never arrives; the fourth is cut off halfway.
    fake.server.inject(
      { kind: 'drop-after' },
      {
        match: (r) => r.method === 'PUT' && String(r.headers['content-range']).startsWith('bytes 262144-'),
      },
    );
    let fourth = false;
    fake.beforeChunk((range) => {
      if (!fourth && range.startsWith('bytes 786432-')) {
        fourth = true;
        fake.dropMidChunk(1);
      }
    });
    const result = await adapter.publish(
      ctx,
      publishRequest({ deliveryId: randomUUID(), text: text(), media: [clip] }),
    );
    const stored = fake.videos(channelId).find((v) => v.id === result.remoteId)!;
    expect(stored.bytes.equals(Buffer.concat([await readAll(clip)]))).toBe(true);
    const sent = fake
      .chunkRequests()
      .slice(before)
      .map((c) => c.range);
    expect(sent.filter((range) => range.startsWith('bytes 0-'))).toHaveLength(1);
    expect(sent).toContain(`bytes 524288-786431/${clip.bytes}`);
    expect(
      fake.videos(channelId).filter((v) => v.snippet.description === stored.snippet.description),
    ).toHaveLength(1);
  });

  it('asks the session after losing the last answer and finds the finished video there', async () => {
    const { ctx } = channel();
    const clip = video(YOUTUBE_CHUNK_GRANULE + 10);
    fake.server.inject(
      { kind: 'drop-after' },
      {
        match: (r) =>
          r.method === 'PUT' &&
          String(r.headers['content-range']).startsWith(`bytes ${YOUTUBE_CHUNK_GRANULE}-`),
      },
    );
    const body = text();
    const result = await adapter.publish(
      ctx,
      publishRequest({ deliveryId: randomUUID(), text: body, media: [clip] }),
    );
    expect(
      fake
        .videos(channelId)
        .filter((v) => v.snippet.description === body)
        .map((v) => v.id),
    ).toEqual([result.remoteId]);
  });

  it('opens a new session when the old one expired', async () => {
    const { ctx } = channel();
    const clip = video(2 * YOUTUBE_CHUNK_GRANULE + 5);
    let expired = false;
    fake.beforeChunk((range) => {
      if (!expired && range.startsWith(`bytes ${YOUTUBE_CHUNK_GRANULE}-`)) {
        expired = true;
        fake.expireSessions();
      }
    });
    const body = text();
    const result = await adapter.publish(
      ctx,
      publishRequest({ deliveryId: randomUUID(), text: body, media: [clip] }),
    );
    expect(
      fake
        .videos(channelId)
        .filter((v) => v.snippet.description === body)
        .map((v) => v.id),
    ).toEqual([result.remoteId]);
  });

  it("waits for midnight Pacific when the project's quota is spent, and for a minute on rateLimitExceeded", async () => {
    const { ctx } = channel();
    fake.setQuota({ uploads: 0 });
    const error = await adapter
      .publish(ctx, publishRequest({ deliveryId: randomUUID(), text: text(), media: [video(100)] }))
      .catch((e: unknown) => e);
    const classified = adapter.classifyError(error);
    expect(classified).toMatchObject({ kind: 'rate_limited', scope: 'app', httpStatus: 403 });
    if (classified.kind !== 'rate_limited') throw new Error('not rate limited');
    expect(classified.until.getTime()).toBe(nextMidnight('America/Los_Angeles', new Date()).getTime());

    fake.setQuota({ uploads: 100 });
    fake.server.inject({
      kind: 'respond',
      status: 403,
      body: {
        error: {
          code: 403,
          message: 'Rate Limit Exceeded',
          errors: [{ reason: 'rateLimitExceeded', domain: 'youtube.quota' }],
        },
      },
    });
    const limited = await adapter
      .publish(ctx, publishRequest({ deliveryId: randomUUID(), text: text(), media: [video(100)] }))
      .catch((e: unknown) => e);
    expect(adapter.classifyError(limited)).toMatchObject({ kind: 'rate_limited', httpStatus: 403 });
  });

  it('refreshes an expired access token and stores it; a revoked grant needs reauthorisation', async () => {
    const { ctx, store, tokens } = channel();
    fake.expireAccessTokens();
    await adapter.verifyCredentials(ctx);
    expect(store.current.accessToken).not.toBe(tokens.accessToken);
    expect(store.current.refreshToken).toBe(tokens.refreshToken);

    const soon = channel({ expiresAt: new Date(Date.now() + 60_000) });
    await adapter.verifyCredentials(soon.ctx);
    expect(soon.store.version).toBe(2);

    fake.revoke(tokens.refreshToken);
    fake.expireAccessTokens();
    const error = await adapter.verifyCredentials(ctx).catch((e: unknown) => e);
    expect(adapter.classifyError(error)).toMatchObject({ kind: 'auth' });
  });

  it('reconciles through the uploads playlist by the description', async () => {
    const { ctx } = channel();
    const request = publishRequest({
      deliveryId: randomUUID(),
      text: text(),
      media: [video(200)],
      firstAttemptAt: new Date(),
    });
    expect(await adapter.findPublished(ctx, request)).toBeNull();
    const published = await adapter.publish(ctx, request);
    expect(await adapter.findPublished(ctx, request)).toEqual(published);
    // Without the playlist id in the settings, the channel names its uploads playlist.
    const bare = channel({ settings: { madeForKids: false } });
    expect(await adapter.findPublished(bare.ctx, request)).toEqual(published);
  });

  it('reads views, likes and comments', async () => {
    const { ctx } = channel();
    const published = await adapter.publish(
      ctx,
      publishRequest({ deliveryId: randomUUID(), text: text(), media: [video(100)] }),
    );
    const stored = fake.videos(channelId).find((v) => v.id === published.remoteId)!;
    Object.assign(stored, { views: 1200, likes: 80, comments: 7 });
    expect(await adapter.fetchMetrics!(ctx, published.remoteId)).toMatchObject({
      impressions: 1200,
      likes: 80,
      replies: 7,
      reposts: null,
    });
  });

  it('retracts with videos.delete; a video already gone counts as withdrawn', async () => {
    const { ctx } = channel();
    const published = await adapter.publish(
      ctx,
      publishRequest({ deliveryId: randomUUID(), text: text(), media: [video(100)] }),
    );
    const request = {
      deliveryId: randomUUID(),
      mode: 'copy' as const,
      remoteId: null,
      remoteIds: [],
      remoteUrl: published.url,
      publishedAt: new Date(),
      sourceUrl: null,
      reason: 'Informasi keliru',
    };
    expect(await adapter.retract(ctx, request)).toEqual({ outcome: 'retracted' });
    expect(fake.videos(channelId).some((v) => v.id === published.remoteId)).toBe(false);
    expect(await adapter.retract(ctx, { ...request, remoteId: published.remoteId })).toEqual({
      outcome: 'retracted',
    });
    expect(await adapter.retract(ctx, { ...request, remoteUrl: 'https://example.com/x' })).toMatchObject({
      outcome: 'needs_person',
    });
  });

  it('refuses what YouTube refuses before uploading anything', async () => {
    const { ctx } = channel();
    const refused = (request: Parameters<typeof adapter.publish>[1], settings?: Record<string, unknown>) =>
      adapter
        .publish(settings ? channel({ settings }).ctx : ctx, request)
        .then(() => null)
        .catch((e: unknown) => (e instanceof PlatformError ? e.classification : e));
    expect(
      await refused(publishRequest({ deliveryId: randomUUID(), text: 'Foto <b>', media: [video(10)] })),
    ).toMatchObject({ kind: 'invalid' });
    expect(
      await refused(publishRequest({ deliveryId: randomUUID(), text: text(), media: [] })),
    ).toMatchObject({ kind: 'invalid' });
    expect(
      await refused(publishRequest({ deliveryId: randomUUID(), text: text(), media: [video(10)] }), {
        channelId,
      }),
    ).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/made for kids/) });
  });

  it('connects a channel through Google OAuth with PKCE and offline access', async () => {
    const redirectUri = 'https://gaung.example/api/v1/oauth/youtube/callback';
    const { url, state, codeVerifier } = buildGoogleAuthorizeUrl(
      {
        ...endpoints(),
        xApi: '',
        xUpload: '',
        graph: '',
        threads: '',
        threadsAuth: '',
        telegram: '',
        tiktok: '',
        tiktokAuth: '',
      },
      { google: CLIENT },
      redirectUri,
    );
    const consent = fake.consent(url, channelId);
    expect(consent.state).toBe(state);
    expect(new URL(url).searchParams.get('scope')).toBe(YOUTUBE_SCOPES.join(' '));
    const result = await exchangeGoogleCode(
      {
        ...endpoints(),
        xApi: '',
        xUpload: '',
        graph: '',
        threads: '',
        threadsAuth: '',
        telegram: '',
        tiktok: '',
        tiktokAuth: '',
      },
      { google: CLIENT },
      { code: consent.code, codeVerifier, redirectUri },
    );
    expect(result.settings).toEqual({ channelId, uploadsPlaylistId: `UU${channelId.slice(2)}` });
    expect(result.account).toMatchObject({ remoteId: channelId, name: 'Ditjen Imigrasi' });
    expect(result.credentials.refreshToken).toMatch(/^1\/\//);
    // A code is single-use, and the verifier must match the challenge.
    const again = await exchangeGoogleCode(
      {
        ...endpoints(),
        xApi: '',
        xUpload: '',
        graph: '',
        threads: '',
        threadsAuth: '',
        telegram: '',
        tiktok: '',
        tiktokAuth: '',
      },
      { google: CLIENT },
      { code: consent.code, codeVerifier, redirectUri },
    ).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(PlatformError);
  });

  it('the fake refuses what the discovery document and the Video reference refuse', async () => {
    const { tokens } = channel();
    const open = (body: unknown, part = 'snippet,status', extra: Record<string, string> = {}) =>
      axios.post(`${fake.url}/upload/youtube/v3/videos`, body, {
        params: { uploadType: 'resumable', part, ...extra },
        headers: {
          authorization: `Bearer ${tokens.accessToken}`,
          'x-upload-content-length': '10',
          'x-upload-content-type': 'video/mp4',
        },
        validateStatus: () => true,
      });
    const good = {
      snippet: { title: 'Judul', categoryId: '25' },
      status: { privacyStatus: 'public', selfDeclaredMadeForKids: false },
    };
    expect((await open(good)).status).toBe(200);
    const reasons = async (body: unknown, part?: string, extra?: Record<string, string>) => {
      const response = await open(body, part, extra);
      return [response.status, response.data.error.errors[0].reason];
    };
    expect(await reasons({ ...good, snippet: { ...good.snippet, colour: 'red' } })).toEqual([
      400,
      'invalidParameter',
    ]);
    expect(await reasons({ ...good, status: { ...good.status, privacyStatus: 'secret' } })).toEqual([
      400,
      'invalidParameter',
    ]);
    expect(await reasons(good, 'snippet,status', { notifySubscribers: 'maybe' })).toEqual([
      400,
      'invalidParameter',
    ]);
    expect(await reasons(good, 'snippet,status', { unknownParameter: '1' })).toEqual([
      400,
      'invalidParameter',
    ]);
    expect(await reasons(good, 'snippet')).toEqual([400, 'unexpectedPart']);
    expect(await reasons({ ...good, snippet: { ...good.snippet, title: 'x'.repeat(101) } })).toEqual([
      400,
      'invalidTitle',
    ]);
    expect(await reasons({ ...good, snippet: { ...good.snippet, description: 'a > b' } })).toEqual([
      400,
      'invalidDescription',
    ]);
    expect(await reasons({ ...good, snippet: { ...good.snippet, tags: ['x'.repeat(501)] } })).toEqual([
      400,
      'invalidTags',
    ]);
    expect(await reasons({ ...good, status: { privacyStatus: 'public' } })).toEqual([
      400,
      'invalidVideoMetadata',
    ]);
    const session = (await open(good)).headers.location as string;
    const put = (range: string, bytes: number) =>
      axios.put(session, Buffer.alloc(bytes), {
        headers: {
          authorization: `Bearer ${tokens.accessToken}`,
          'content-range': range,
          'content-type': 'video/mp4',
        },
        validateStatus: () => true,
      });
    expect((await put('bytes 5-9/10', 5)).status).toBe(400);
    expect((await put('bytes */10', 0)).status).toBe(308);
    expect((await put('bytes 0-9/10', 10)).status).toBe(201);
  });
});

async function readAll(media: { open(): Promise<NodeJS.ReadableStream> }): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const piece of await media.open()) parts.push(Buffer.from(piece as Buffer));
  return Buffer.concat(parts);
}
