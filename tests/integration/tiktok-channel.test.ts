import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { channels, deliveries } from '../../src/db/schema';
import { AppError } from '../../src/domain/errors';
import type { Actor } from '../../src/domain/permissions';
import { createTiktokAdapter } from '../../src/platforms/tiktok';
import { startOAuthConnect } from '../../src/services/channels';
import { advanceDelivery } from '../../src/services/publishing';
import { createFakeTiktok, type FakeTiktok, type FakeTiktokAccount } from '../fakes/tiktok';
import { createTestApp, type TestApp } from '../helpers/context';
import { describeWithFfmpeg } from '../helpers/ffmpeg';
import { solidImage, uploadMedia } from '../helpers/media';
import { seedTestOrg, TEST_PASSWORD, type TestOrg } from '../helpers/org';
import { createPostVia } from '../helpers/posts';
import { signIn, submitForm } from '../helpers/session';
import { videoChannelHelpers } from '../helpers/video-channel';

const CLIENT = { clientKey: 'gaung-tiktok', clientSecret: 'rahasia-tiktok' };

/**
 * A TikTok account through Gaung itself: connected by Login Kit (only with an https address) or
 * with tokens given to the API, set up on its page, checked in the preview, approved with the
 * choices TikTok requires, and published by the engine once, also when an upload breaks off or an
 * init's answer is lost.
 */
describeWithFfmpeg('a TikTok channel in Gaung', () => {
  let t: TestApp;
  let org: TestOrg;
  let fake: FakeTiktok;
  let account: FakeTiktokAccount;

  beforeAll(async () => {
    fake = createFakeTiktok();
    fake.registerClient(CLIENT.clientKey, CLIENT.clientSecret);
    await fake.start();
    account = fake.addAccount({
      nickname: 'Imigrasi Indonesia',
      privacyOptions: ['PUBLIC_TO_EVERYONE', 'FOLLOWER_OF_CREATOR', 'SELF_ONLY'],
      duetDisabled: true,
      maxVideoSeconds: 180,
      dailyCap: 100,
    });
    t = await createTestApp('pglite', {
      env: {
        GAUNG_PUBLIC_URL: 'https://gaung.example',
        GAUNG_TIKTOK_API_URL: fake.url,
        GAUNG_TIKTOK_AUTH_URL: `${fake.url}/v2/auth/authorize/`,
        GAUNG_TIKTOK_CLIENT_KEY: CLIENT.clientKey,
        GAUNG_TIKTOK_CLIENT_SECRET: CLIENT.clientSecret,
        GAUNG_RECONCILE_DELAY_MS: '0',
      },
      adapters: () => [createTiktokAdapter({ pollIntervalMs: 5, resumeDelayMs: 5, maxResumes: 2 })],
    });
    org = await seedTestOrg(t.ctx);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });

  const {
    admin,
    api,
    channelWithTokens,
    videoPost: video,
  } = videoChannelHelpers(
    () => t,
    () => org,
  );

  it('connects through Login Kit with PKCE when Gaung is on https, and says why not otherwise', async () => {
    const created = await api('POST', '/channels', {
      unitId: org.units.national.id,
      platform: 'tiktok',
      name: 'TikTok Imigrasi',
    });
    expect(created.statusCode, created.body).toBe(201);
    const channel = created.json();
    const start = await api('GET', `/channels/${channel.id}/connect/tiktok`);
    expect(start.statusCode, start.body).toBe(200);
    const consent = fake.consent(start.json().authorizeUrl, account.openId);
    expect(consent.redirectUri).toBe('https://gaung.example/api/v1/oauth/tiktok/callback');
    const callback = await api(
      'GET',
      `/oauth/tiktok/callback?code=${encodeURIComponent(consent.code)}&state=${consent.state}`,
    );
    expect(callback.statusCode, callback.body).toBe(302);
    const [row] = await t.ctx.db.select().from(channels).where(eq(channels.id, channel.id));
    expect(row).toMatchObject({ status: 'active', handle: `@${account.username}` });
    expect(row!.settings).toMatchObject({
      openId: account.openId,
      username: account.username,
      privacyLevelOptions: ['PUBLIC_TO_EVERYONE', 'FOLLOWER_OF_CREATOR', 'SELF_ONLY'],
      duetDisabled: true,
      maxVideoSeconds: 180,
    });
    const secret = t.ctx.keys.decrypt<{ refreshToken: string; accessToken: string }>(
      row!.credentials!,
      channel.id,
    );
    expect(secret.refreshToken).toMatch(/^rft\./);
    expect(JSON.stringify(row!.settings)).not.toContain(secret.accessToken);
    // Over plain http TikTok would refuse the return address: Gaung says so before sending anyone there.
    const national = org.units.national;
    const actor: Actor = { userId: admin().id, role: 'admin', unitId: national.id, unitPath: national.path };
    const refused = await startOAuthConnect(
      { ...t.ctx, config: { ...t.ctx.config, publicUrl: 'http://gaung.local' } },
      { actor, ip: null },
      channel.id,
      'tiktok',
    ).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'redirect_not_https', status: 422 });
  });

  async function tokenChannel(settings: Record<string, unknown> = {}, who = account) {
    return channelWithTokens(
      { platform: 'tiktok', name: `TikTok ${Math.random().toString(36).slice(2, 6)}`, settings },
      fake.issueTokens(who.openId, { clientKey: CLIENT.clientKey }),
    );
  }

  it('takes tokens through the API, reads the creator’s options, and refuses settings TikTok would not take', async () => {
    const channel = await tokenChannel();
    expect(channel.status).toBe('active');
    expect(channel.settings).toMatchObject({ openId: account.openId, maxVideoSeconds: 180 });
    const wrong = await api('PATCH', `/channels/${channel.id}`, { settings: { privacyLevel: 'EVERYONE' } });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().errors[0].field).toBe('settings.privacyLevel');
  });

  it('shows the connect button and the TikTok settings on the channel page, and saves them', async () => {
    const channel = await tokenChannel();
    const session = await signIn(t.app, admin().email, TEST_PASSWORD);
    const shown = await t.app.inject({ url: `/admin/channels/${channel.id}`, headers: session.cookie });
    expect(shown.statusCode).toBe(200);
    expect(shown.body).toContain(`href="/api/v1/channels/${channel.id}/connect/tiktok"`);
    expect(shown.body).toContain(`action="/admin/channels/${channel.id}/tiktok"`);
    expect(shown.body).not.toContain('data-tiktok-https');
    const saved = await submitForm(t.app, session, `/admin/channels/${channel.id}/tiktok`, {
      unaudited: 'true',
      privacyLevel: 'FOLLOWER_OF_CREATOR',
    });
    expect(saved.statusCode, saved.body).toBe(303);
    const [row] = await t.ctx.db.select().from(channels).where(eq(channels.id, channel.id));
    expect(row!.settings).toMatchObject({
      unaudited: true,
      mediaDomainVerified: false,
      privacyLevel: 'FOLLOWER_OF_CREATOR',
    });
    const bad = await submitForm(t.app, session, `/admin/channels/${channel.id}/tiktok`, {
      privacyLevel: 'EVERYONE',
    });
    expect(bad.statusCode).toBe(400);
  });

  /** A portrait video post. */
  const videoPost = (seconds = 1) => video({ seconds, width: 360, height: 640 });

  const reviewer = () => org.user('national', 'reviewer');

  it('previews what TikTok asks: a photo title within 90 characters, the creator’s longest video, an unaudited app', async () => {
    const short = fake.addAccount({ maxVideoSeconds: 1, dailyCap: 100 });
    const channel = await tokenChannel({ unaudited: true }, short);
    const post = await videoPost(2);
    const preview = await api('POST', `/posts/${post.id}/preview`, { channelIds: [channel.id] }, reviewer());
    expect(preview.statusCode, preview.body).toBe(200);
    const codes = preview.json().channels[0].issues.map((issue: { code: string }) => issue.code);
    expect(codes).toEqual(expect.arrayContaining(['video_too_long', 'tiktok_private_only']));
    const author = org.user('officeA1', 'contributor');
    const photo = await uploadMedia(t.app, author, {
      filename: 'foto.jpg',
      data: await solidImage(800, 600).jpeg().toBuffer(),
    });
    const photos = await createPostVia(t.app, author, {
      body: `${'Layanan paspor elektronik hadir di seluruh kantor imigrasi '.repeat(3)}\n${'Syarat lengkap. '.repeat(150)}`,
      media: [{ id: photo.json().id as string }],
    });
    const photoPreview = await api(
      'POST',
      `/posts/${photos.id}/preview`,
      { channelIds: [channel.id] },
      reviewer(),
    );
    const report = photoPreview.json().channels[0];
    // A photo post's description holds 4,000 characters (a video caption 2,200).
    expect(report.count.limit).toBe(4000);
    expect(report.issues.map((issue: { code: string }) => issue.code)).toContain('title_shortened');
    expect(report.issues.map((issue: { code: string }) => issue.code)).not.toContain('text_too_long');
  });

  async function approve(postId: string, version: number, channelId: string, tiktok?: object) {
    return api(
      'POST',
      `/posts/${postId}/approve`,
      { version, targets: [{ channelId, mode: 'copy', at: 'now', ...(tiktok ? { tiktok } : {}) }] },
      reviewer(),
    );
  }

  it('approves only with a privacy level the creator allows, records the choice and publishes once', async () => {
    const channel = await tokenChannel();
    const post = await videoPost();
    const none = await approve(post.id, post.version, channel.id);
    expect(none.statusCode).toBe(422);
    expect(JSON.stringify(none.json())).toContain('tiktok_privacy_required');
    const duet = await approve(post.id, post.version, channel.id, {
      privacyLevel: 'FOLLOWER_OF_CREATOR',
      allowDuet: true,
    });
    expect(duet.statusCode).toBe(422);
    expect(JSON.stringify(duet.json())).toContain('tiktok_interaction_disabled');
    const notAllowed = await approve(post.id, post.version, channel.id, {
      privacyLevel: 'MUTUAL_FOLLOW_FRIENDS',
    });
    expect(JSON.stringify(notAllowed.json())).toContain('tiktok_privacy_not_allowed');
    const approved = await approve(post.id, post.version, channel.id, {
      privacyLevel: 'PUBLIC_TO_EVERYONE',
      allowComment: true,
    });
    expect(approved.statusCode, approved.body).toBe(200);
    const id = approved.json().deliveries[0].id as string;
    const [scheduled] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, id));
    expect(scheduled!.platformOptions).toEqual({
      privacyLevel: 'PUBLIC_TO_EVERYONE',
      allowComment: true,
      allowDuet: false,
      allowStitch: false,
    });
    expect(await advanceDelivery(t.ctx, id)).toEqual({ next: 'done', outcome: 'published' });
    const shown = await api('GET', `/deliveries/${id}`, undefined, reviewer());
    expect(shown.json().platformOptions).toEqual(scheduled!.platformOptions);
    const [delivery] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, id));
    const published = fake.posts(account.openId).find((p) => p.postId === delivery!.remoteId)!;
    expect(published.postInfo).toMatchObject({
      privacy_level: 'PUBLIC_TO_EVERYONE',
      disable_comment: false,
      disable_duet: true,
      disable_stitch: true,
    });
    expect(delivery!.remoteUrl).toBe(`https://www.tiktok.com/@${account.username}/video/${published.postId}`);
    expect(delivery!.platformState).toMatchObject({ publishId: published.publishId });
    expect(await advanceDelivery(t.ctx, id)).toEqual({ next: 'done', outcome: 'published' });
    expect(fake.posts(account.openId).filter((p) => p.publishId === published.publishId)).toHaveLength(1);
  });

  it('offers on the review page only the levels the creator allows, no level preset, and records the choice', async () => {
    const channel = await tokenChannel();
    const post = await videoPost();
    const session = await signIn(t.app, reviewer().email, TEST_PASSWORD);
    const page = await t.app.inject({ url: `/review/${post.id}`, headers: session.cookie });
    expect(page.statusCode).toBe(200);
    const card = page.body.slice(page.body.indexOf(`data-channel="${channel.id}"`));
    const levels = [
      ...card.matchAll(new RegExp(`name="tiktokPrivacy_${channel.id}" value="([A-Z_]+)"`, 'g')),
    ].map((m) => m[1]);
    expect(levels).toEqual(['PUBLIC_TO_EVERYONE', 'FOLLOWER_OF_CREATOR', 'SELF_ONLY']);
    expect(card).not.toMatch(new RegExp(`name="tiktokPrivacy_${channel.id}" value="[A-Z_]+" checked`));
    // Duet is off on the account: its box is greyed out.
    expect(card).toMatch(new RegExp(`name="tiktokDuet_${channel.id}" value="1" disabled`));
    const refused = await submitForm(t.app, session, `/review/${post.id}/approve`, {
      version: String(post.version),
      [`on_${channel.id}`]: '1',
      [`at_${channel.id}`]: 'now',
    });
    expect(refused.statusCode).toBe(422);
    const approved = await submitForm(t.app, session, `/review/${post.id}/approve`, {
      version: String(post.version),
      [`on_${channel.id}`]: '1',
      [`at_${channel.id}`]: 'now',
      [`tiktokPrivacy_${channel.id}`]: 'FOLLOWER_OF_CREATOR',
      [`tiktokStitch_${channel.id}`]: '1',
    });
    expect(approved.statusCode, approved.body).toBe(303);
    const [row] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.postId, post.id));
    expect(row!.platformOptions).toEqual({
      privacyLevel: 'FOLLOWER_OF_CREATOR',
      allowComment: false,
      allowDuet: false,
      allowStitch: true,
    });
  });

  it('finishes an upload that broke off through the recorded publish_id, without a second post', async () => {
    const channel = await tokenChannel({ privacyLevel: 'SELF_ONLY' });
    const post = await videoPost();
    const approved = await approve(post.id, post.version, channel.id);
    expect(approved.statusCode, approved.body).toBe(200);
    const id = approved.json().deliveries[0].id as string;
    const before = fake.posts(account.openId).length;
    fake.server.inject({ kind: 'drop-before' }, { times: 3, match: (r) => r.method === 'PUT' });
    const first = await advanceDelivery(t.ctx, id);
    expect(first).toMatchObject({ next: 'wait' });
    const [unsure] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, id));
    expect(unsure!.status).toBe('unknown');
    expect(unsure!.platformState).toMatchObject({ publishId: expect.any(String) });
    fake.server.clearFaults();
    // Reconciliation: TikTok still waits for the rest of the upload, so nothing is published yet.
    expect(await advanceDelivery(t.ctx, id)).toMatchObject({ next: 'wait' });
    const [retrying] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, id));
    expect(retrying!.status).toBe('scheduled');
    // The retry comes due: it carries on with the same publish_id.
    await t.ctx.db.update(deliveries).set({ dueAt: new Date() }).where(eq(deliveries.id, id));
    expect(await advanceDelivery(t.ctx, id)).toEqual({ next: 'done', outcome: 'published' });
    const [done] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, id));
    expect(done!.status).toBe('published');
    expect(fake.posts(account.openId).length).toBe(before + 1);
    // A private post: TikTok gives no public id, so the publish_id stands for it.
    expect(done!.remoteId).toBe(unsure!.platformState!.publishId);
  });

  it('an init whose answer was lost needs a person: TikTok cannot be asked about it', async () => {
    const channel = await tokenChannel({ privacyLevel: 'SELF_ONLY' });
    const post = await videoPost();
    const approved = await approve(post.id, post.version, channel.id);
    const id = approved.json().deliveries[0].id as string;
    const before = fake.posts(account.openId).length;
    fake.server.inject(
      { kind: 'drop-after' },
      { match: (r) => r.url.startsWith('/v2/post/publish/video/init/') },
    );
    expect(await advanceDelivery(t.ctx, id)).toMatchObject({ next: 'wait' });
    await advanceDelivery(t.ctx, id);
    const [row] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, id));
    expect(row!.status).toBe('needs_attention');
    expect(row!.platformState).toBeNull();
    // The one init that reached TikTok, and no other.
    expect(fake.posts(account.openId).length).toBe(before + 1);
  });
});
