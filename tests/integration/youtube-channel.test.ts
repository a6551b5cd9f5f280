import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { channels, deliveries } from '../../src/db/schema';
import { nextMidnight } from '../../src/domain/rate-limits';
import { reservePublishSlot } from '../../src/infra/rate-limiter';
import { createYoutubeAdapter } from '../../src/platforms/youtube';
import { quotaOverridesOf } from '../../src/services/channels';
import { advanceDelivery } from '../../src/services/publishing';
import { createFakeYoutube, type FakeYoutube } from '../fakes/youtube';
import { createTestApp, type TestApp } from '../helpers/context';
import { describeWithFfmpeg } from '../helpers/ffmpeg';
import { solidImage, uploadMedia } from '../helpers/media';
import { seedTestOrg, type TestOrg } from '../helpers/org';
import { createPostVia } from '../helpers/posts';
import { videoChannelHelpers } from '../helpers/video-channel';

const CLIENT = { clientId: 'gaung-google', clientSecret: 'rahasia-google' };

/**
 * A YouTube channel through Gaung itself: connected by Google's consent flow or with tokens given
 * to the API, set up on its page, checked in the preview, and published by the engine once, also
 * when an answer is lost on the way and the delivery has to be reconciled.
 */
describeWithFfmpeg('a YouTube channel in Gaung', () => {
  let t: TestApp;
  let org: TestOrg;
  let fake: FakeYoutube;
  let youtubeChannel: string;

  beforeAll(async () => {
    fake = createFakeYoutube();
    fake.registerClient(CLIENT.clientId, CLIENT.clientSecret);
    await fake.start();
    youtubeChannel = fake.addChannel({ title: 'Imigrasi Indonesia', customUrl: '@imigrasi' }).id;
    t = await createTestApp('pglite', {
      env: {
        GAUNG_YOUTUBE_API_URL: fake.url,
        GAUNG_GOOGLE_AUTH_URL: fake.authUrl,
        GAUNG_GOOGLE_TOKEN_URL: fake.tokenUrl,
        GAUNG_GOOGLE_CLIENT_ID: CLIENT.clientId,
        GAUNG_GOOGLE_CLIENT_SECRET: CLIENT.clientSecret,
        GAUNG_RECONCILE_DELAY_MS: '0',
      },
      adapters: () => [createYoutubeAdapter({ resumeDelayMs: 5, maxResumes: 2 })],
    });
    org = await seedTestOrg(t.ctx);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });

  const {
    api,
    channelWithTokens,
    videoPost: video,
  } = videoChannelHelpers(
    () => t,
    () => org,
  );

  it('connects through Google with PKCE and offline access, and names the channel', async () => {
    const created = await api('POST', '/channels', {
      unitId: org.units.national.id,
      platform: 'youtube',
      name: 'YouTube Imigrasi',
    });
    expect(created.statusCode, created.body).toBe(201);
    const channel = created.json();
    const start = await api('GET', `/channels/${channel.id}/connect/youtube`);
    expect(start.statusCode, start.body).toBe(200);
    const consent = fake.consent(start.json().authorizeUrl, youtubeChannel);
    expect(consent.redirectUri).toBe(`${t.config.publicUrl}/api/v1/oauth/youtube/callback`);
    const callback = await api(
      'GET',
      `/oauth/youtube/callback?code=${encodeURIComponent(consent.code)}&state=${consent.state}`,
    );
    expect(callback.statusCode, callback.body).toBe(302);
    expect(callback.headers.location).toBe(`/admin/channels/${channel.id}?connected=1`);
    const [row] = await t.ctx.db.select().from(channels).where(eq(channels.id, channel.id));
    expect(row).toMatchObject({ status: 'active', handle: '@imigrasi' });
    expect(row!.settings).toEqual({
      channelId: youtubeChannel,
      uploadsPlaylistId: `UU${youtubeChannel.slice(2)}`,
    });
    const secret = t.ctx.keys.decrypt<{ refreshToken: string }>(row!.credentials!, channel.id);
    expect(secret.refreshToken).toMatch(/^1\/\//);
    // An X consent flow is not started for a YouTube channel.
    expect((await api('GET', `/channels/${channel.id}/connect/x`)).statusCode).toBe(422);
  });

  async function tokenChannel(settings: Record<string, unknown> = { madeForKids: false }) {
    return channelWithTokens(
      { platform: 'youtube', name: 'YouTube token', settings },
      fake.issueTokens(youtubeChannel, { clientId: CLIENT.clientId }),
    );
  }

  it('takes tokens through the API, and refuses settings YouTube would not take', async () => {
    const channel = await tokenChannel();
    expect(channel.status).toBe('active');
    expect(channel.settings).toMatchObject({ madeForKids: false, channelId: youtubeChannel });
    const wrong = await api('PATCH', `/channels/${channel.id}`, { settings: { privacyStatus: 'secret' } });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().errors[0].field).toBe('settings.privacyStatus');
  });

  /** A video post with two tags and, when asked, a cover image after the video. */
  async function videoPost(options: { seconds: number; width?: number; height?: number; cover?: boolean }) {
    const { cover, ...shape } = options;
    const media: { id: string }[] = [];
    if (cover) {
      const uploaded = await uploadMedia(t.app, org.user('officeA1', 'contributor'), {
        filename: 'sampul.png',
        data: await solidImage(1280, 720).png().toBuffer(),
      });
      expect([200, 201], uploaded.body).toContain(uploaded.statusCode);
      media.push({ id: uploaded.json().id });
    }
    return video(shape, { media, tags: ['imigrasi', 'perbatasan'] });
  }

  it('previews a YouTube target with what YouTube asks', async () => {
    const unset = await tokenChannel({});
    const post = await videoPost({ seconds: 1 });
    const reviewer = org.user('national', 'reviewer');
    const preview = await api('POST', `/posts/${post.id}/preview`, { channelIds: [unset.id] }, reviewer);
    expect(preview.statusCode, preview.body).toBe(200);
    const codes = preview.json().channels[0].issues.map((issue: { code: string }) => issue.code);
    expect(codes).toContain('made_for_kids_unset');
    const photoOnly = await createPostVia(t.app, org.user('officeA1', 'contributor'), {
      body: 'Tanpa video <b>',
    });
    const refused = await api('POST', `/posts/${photoOnly.id}/preview`, { channelIds: [unset.id] }, reviewer);
    const more = refused.json().channels[0].issues.map((issue: { code: string }) => issue.code);
    expect(more).toEqual(expect.arrayContaining(['media_required', 'video_required', 'angle_brackets']));
  });

  async function approve(postId: string, version: number, channelId: string) {
    const approved = await api(
      'POST',
      `/posts/${postId}/approve`,
      { version, targets: [{ channelId, mode: 'copy', at: 'now' }] },
      org.user('national', 'reviewer'),
    );
    expect(approved.statusCode, approved.body).toBe(200);
    return approved.json().deliveries[0].id as string;
  }

  it('publishes an approved video once, with its cover as the thumbnail', async () => {
    const channel = await tokenChannel();
    const post = await videoPost({ seconds: 2, width: 640, height: 360, cover: true });
    const id = await approve(post.id, post.version, channel.id);
    expect(await advanceDelivery(t.ctx, id)).toEqual({ next: 'done', outcome: 'published' });
    const [delivery] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, id));
    const video = fake.videos(youtubeChannel).find((v) => v.id === delivery!.remoteId)!;
    expect(delivery!.remoteUrl).toBe(`https://www.youtube.com/watch?v=${video.id}`);
    expect(video.snippet.tags).toEqual(['imigrasi', 'perbatasan']);
    expect(video.thumbnail?.mime).toMatch(/^image\/(png|jpeg)$/);
    expect(await advanceDelivery(t.ctx, id)).toEqual({ next: 'done', outcome: 'published' });
    expect(
      fake.videos(youtubeChannel).filter((v) => v.snippet.description === video.snippet.description),
    ).toHaveLength(1);
  });

  it('reconciles an upload whose outcome was lost and finds the video instead of uploading it again', async () => {
    const channel = await tokenChannel();
    const post = await videoPost({ seconds: 1, width: 360, height: 640 });
    const id = await approve(post.id, post.version, channel.id);
    // Every answer to the upload is lost, status checks included: the attempt's outcome is unknown.
    fake.server.inject({ kind: 'drop-after' }, { times: 10, match: (r) => r.method === 'PUT' });
    const first = await advanceDelivery(t.ctx, id);
    expect(first).toMatchObject({ next: 'wait' });
    const [unsure] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, id));
    expect(unsure!.status).toBe('unknown');
    fake.server.clearFaults();
    expect(await advanceDelivery(t.ctx, id)).toEqual({
      next: 'done',
      outcome: 'published (found by reconciliation)',
    });
    const [found] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, id));
    const copies = fake.videos(youtubeChannel).filter((v) => v.id === found!.remoteId);
    expect(copies).toHaveLength(1);
    expect(found!.remoteUrl).toBe(`https://www.youtube.com/shorts/${found!.remoteId}`);
  });

  it('waits before calling YouTube once the day’s upload quota is spent', async () => {
    const channel = await tokenChannel();
    const quotas = quotaOverridesOf(t.ctx.config);
    // Other channels of the same Cloud project spend the rest of today's uploads.
    for (let n = 0; ; n++) {
      const taken = await reservePublishSlot(
        t.ctx,
        { platform: 'youtube', channelId: `other-${n}` },
        `filler-${n}#0`,
        quotas,
      );
      if (!taken.granted) break;
    }
    const before = fake.usage().uploads;
    const post = await videoPost({ seconds: 1 });
    const preview = await api(
      'POST',
      `/posts/${post.id}/preview`,
      { channelIds: [channel.id] },
      org.user('national', 'reviewer'),
    );
    expect(preview.json().channels[0].issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 'quota_exhausted', severity: 'warning' })]),
    );
    const id = await approve(post.id, post.version, channel.id);
    const step = await advanceDelivery(t.ctx, id);
    expect(step).toMatchObject({ next: 'wait', reason: 'rate limited' });
    expect(fake.usage().uploads).toBe(before);
    const [waiting] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, id));
    expect(waiting!.lastError).toMatch(/daily (uploads|units) quota/);
    expect(waiting!.dueAt.getTime()).toBe(nextMidnight('America/Los_Angeles', new Date()).getTime());
  });
});
