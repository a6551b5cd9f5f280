import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_LIMITS } from '../../config/platform-limits';
import { deliveries, posts } from '../../src/db/schema';
import type { DeliveryMode, Platform } from '../../src/domain/vocabulary';
import { reserveDeleteSlot } from '../../src/infra/rate-limiter';
import { threadsAdapter } from '../../src/platforms/threads';
import { PlatformError } from '../../src/platforms/types';
import { advanceDelivery } from '../../src/services/publishing';
import { advanceRetraction } from '../../src/services/retraction';
import { createThreadsFake, type ThreadsFake } from '../fakes/meta/threads';
import { createCredentialStore, createPlatformContext } from '../fakes/platform-context';
import { createTestApp, type TestApp } from '../helpers/context';
import { type CrashChannel, type CrashPlatform, startCrashPlatforms } from '../helpers/crash-platforms';
import { testDrivers } from '../helpers/db';
import { insertDeliveries, setChannelCredentials } from '../helpers/engine';
import { seedTestOrg, type TestOrg } from '../helpers/org';
import { insertChannel } from '../helpers/posts';

/**
 * Retraction through the engine and the real adapters, against each platform's fake (which checks
 * the delete requests against the platform's spec): a copy, a repost and a quote are removed where
 * the platform has them; "already gone" is done; a 429 waits without spending an attempt; a 500 is
 * tried again; a connection dropped after the delete happened is sent again, answered not found,
 * and recorded retracted — every removal exactly once at the fake. Instagram, Telegram past 48
 * hours and Threads over its daily delete quota each end as the platform allows.
 */

const API_PLATFORMS: Platform[] = ['x', 'facebook', 'threads', 'telegram', 'mastodon', 'bluesky', 'webhook'];

describe.each(testDrivers())('retraction on every platform against its fake, on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let platforms: CrashPlatform[] = [];
  const channelOf = new Map<Platform, { id: string; account: CrashChannel }>();
  let counter = 0;

  beforeAll(async () => {
    platforms = (await startCrashPlatforms()).filter((p) => API_PLATFORMS.includes(p.platform));
    t = await createTestApp(driver, {
      env: {
        ...Object.assign({}, ...platforms.map((p) => p.env)),
        GAUNG_RETRY_BASE_MS: '1000',
        GAUNG_RETRY_MAX_MS: '2000',
        GAUNG_RECONCILE_DELAY_MS: '0',
      },
    });
    org = await seedTestOrg(t.ctx);
    for (const [index, platform] of platforms.entries()) {
      const account = platform.channel(index);
      const id = await insertChannel(t.ctx, org.units.national, platform.platform, {
        settings: account.settings,
      });
      await setChannelCredentials(t.ctx.db, t.ctx.keys, id, account.credentials);
      channelOf.set(platform.platform, { id, account });
    }
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await Promise.all(platforms.map((p) => p.stop()));
  });

  const reviewer = () => org.user('national', 'reviewer');
  const row = async (id: string) =>
    (await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, id)))[0]!;
  const dueNow = (id: string) =>
    t.ctx.db.update(deliveries).set({ dueAt: new Date() }).where(eq(deliveries.id, id));

  /** A delivery published through the real adapter to the platform's fake. */
  async function published(platform: CrashPlatform, mode: DeliveryMode = 'copy') {
    counter += 1;
    const [id] = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: org.user('officeA1', 'contributor').id,
      targets: [
        { channelId: channelOf.get(platform.platform)!.id, dueAt: new Date(Date.now() - 1_000), mode },
      ],
      sourceUrl: mode === 'copy' ? undefined : platform.original!(counter),
    });
    // Each post's text differs, or platforms refuse the duplicate.
    await t.ctx.db
      .update(deliveries)
      .set({ renderedText: `Pengumuman nomor ${counter} dari kantor` })
      .where(eq(deliveries.id, id!));
    const step = await advanceDelivery(t.ctx, id!);
    expect(step, `${platform.platform} ${mode}`).toMatchObject({ next: 'done' });
    expect((await row(id!)).status, `${platform.platform} ${mode}: ${(await row(id!)).lastError}`).toBe(
      'published',
    );
    return id!;
  }

  async function retract(deliveryId: string) {
    const [post] = await t.ctx.db
      .select({ id: posts.id, version: posts.version })
      .from(posts)
      .innerJoin(deliveries, eq(deliveries.postId, posts.id))
      .where(eq(deliveries.id, deliveryId));
    const response = await t.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post!.id}/retract`,
      headers: reviewer().headers,
      payload: { version: post!.version, reason: 'Informasi jadwal keliru' },
    });
    expect(response.statusCode, response.body).toBe(200);
  }

  describe.each(API_PLATFORMS)('%s', (name) => {
    const platform = () => platforms.find((p) => p.platform === name)!;
    const modes = (): DeliveryMode[] => {
      const limits = PLATFORM_LIMITS[name];
      const withOriginal = platform().original !== undefined;
      return [
        'copy',
        ...(limits.repost && withOriginal ? (['repost'] as const) : []),
        ...(limits.quote && withOriginal ? (['quote'] as const) : []),
      ];
    };

    it('removes a copy, and a repost and a quote where the platform has them, once each', async () => {
      for (const mode of modes()) {
        const id = await published(platform(), mode);
        const before = platform().removed().length;
        await retract(id);
        expect(await advanceRetraction(t.ctx, id), `${name} ${mode}`).toEqual({
          next: 'done',
          outcome: 'retracted',
        });
        expect((await row(id)).status).toBe('retracted');
        expect(platform().removed().length - before, `${name} ${mode}`).toBe(1);
      }
    });

    it('waits out a 429 without spending an attempt, and tries a 500 again', async () => {
      const id = await published(platform());
      const before = platform().removed().length;
      await retract(id);
      platform().server.inject(platform().tooMany(1), { match: platform().deletes });
      const limited = await advanceRetraction(t.ctx, id);
      expect(limited).toMatchObject({ next: 'wait', attempts: 0 });
      expect((await row(id)).status).toBe('retracting');
      await dueNow(id);
      platform().server.inject(
        { kind: 'respond', status: 500, body: { error: 'Internal Server Error' } },
        { match: platform().deletes },
      );
      expect(await advanceRetraction(t.ctx, id)).toMatchObject({ next: 'wait', attempts: 1 });
      await dueNow(id);
      expect(await advanceRetraction(t.ctx, id)).toEqual({ next: 'done', outcome: 'retracted' });
      expect(platform().removed().length - before).toBe(1);
    });

    it('sends a delete again after the connection dropped once it happened: not found, so retracted', async () => {
      const id = await published(platform());
      const before = platform().removed().length;
      await retract(id);
      platform().server.inject({ kind: 'drop-after' }, { match: platform().deletes });
      expect((await advanceRetraction(t.ctx, id)).next).toBe('wait');
      expect(platform().removed().length - before).toBe(1);
      await dueNow(id);
      const deletesBefore = platform().server.received.filter((r) => platform().deletes(r as never)).length;
      expect(await advanceRetraction(t.ctx, id)).toEqual({ next: 'done', outcome: 'retracted' });
      expect(platform().server.received.filter((r) => platform().deletes(r as never)).length).toBe(
        deletesBefore + 1,
      );
      expect(platform().removed().length - before).toBe(1);
      // Gone on the platform already (removed by hand, say): the delete is answered "not found", and done.
      const gone = await published(platform());
      await retract(gone);
      expect(await advanceRetraction(t.ctx, gone)).toEqual({ next: 'done', outcome: 'retracted' });
      await t.ctx.db
        .update(deliveries)
        .set({ status: 'retracting', dueAt: new Date(), retractedAt: null })
        .where(eq(deliveries.id, gone));
      expect(await advanceRetraction(t.ctx, gone)).toEqual({ next: 'done', outcome: 'retracted' });
    });
  });

  it('Instagram: a person deletes it, told the permalink and the steps', async () => {
    const channelId = await insertChannel(t.ctx, org.units.national, 'instagram', {
      settings: { igUserId: '17841400000000001' },
    });
    const [id] = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: org.user('officeA1', 'contributor').id,
      targets: [{ channelId, dueAt: new Date(Date.now() - 60_000) }],
    });
    await t.ctx.db
      .update(deliveries)
      .set({
        status: 'published',
        publishedAt: new Date(),
        remoteId: '17900000000000001',
        remoteUrl: 'https://www.instagram.com/p/DAbCdEfGhIj/',
      })
      .where(eq(deliveries.id, id!));
    await retract(id!);
    expect(await advanceRetraction(t.ctx, id!)).toEqual({ next: 'done', outcome: 'needs a person' });
    const after = await row(id!);
    expect(after.status).toBe('retraction_needs_attention');
    expect(after.lastError).toContain('https://www.instagram.com/p/DAbCdEfGhIj/');
    expect(after.lastError).toMatch(/Delete and confirm/);
  });

  it('Telegram: a message older than 48 hours goes to a person, without a call Telegram would refuse', async () => {
    const telegram = platforms.find((p) => p.platform === 'telegram')!;
    const id = await published(telegram);
    const before = telegram.removed().length;
    const calls = telegram.server.received.length;
    await t.ctx.db
      .update(deliveries)
      .set({ publishedAt: new Date(Date.now() - 49 * 3600_000) })
      .where(eq(deliveries.id, id));
    await retract(id);
    expect(await advanceRetraction(t.ctx, id)).toEqual({ next: 'done', outcome: 'needs a person' });
    const after = await row(id);
    expect(after.status).toBe('retraction_needs_attention');
    expect(after.lastError).toMatch(/48 hours/);
    expect(telegram.server.received.length).toBe(calls);
    expect(telegram.removed().length).toBe(before);
  });

  it('Threads: over its 100 deletes a day, the retraction waits for the quota to free up without calling', async () => {
    const threads = platforms.find((p) => p.platform === 'threads')!;
    const channelId = channelOf.get('threads')!.id;
    const id = await published(threads);
    // The day's other deletes on this account (the tests above spent a few): fill the quota up.
    let taken = 0;
    while ((await reserveDeleteSlot(t.ctx, { platform: 'threads', channelId }, `earlier-${taken}`)).granted)
      taken += 1;
    expect(taken).toBeGreaterThan(90);
    expect(taken).toBeLessThanOrEqual(100);
    const calls = threads.server.received.length;
    await retract(id);
    const step = await advanceRetraction(t.ctx, id);
    expect(step).toMatchObject({ next: 'wait', attempts: 0 });
    if (step.next !== 'wait') return;
    expect(step.until.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
    const after = await row(id);
    expect(after.status).toBe('retracting');
    expect(after.lastError).toMatch(/Threads allows 100 deletes per 24 hours per account/);
    expect(threads.server.received.length).toBe(calls);
  });
});

describe('the Threads fake answers the 101st delete of a day as Threads does', () => {
  let fake: ThreadsFake;
  beforeAll(async () => {
    fake = createThreadsFake();
    await fake.start();
  });
  afterAll(() => fake.stop());

  const context = (token: string, userId: string) =>
    createPlatformContext({
      platform: 'threads',
      store: createCredentialStore({ accessToken: token }),
      settings: { userId },
      endpoints: { threads: fake.url },
    });
  const request = (remoteId: string) => ({
    deliveryId: remoteId,
    mode: 'copy' as const,
    remoteId,
    remoteIds: [],
    remoteUrl: null,
    publishedAt: new Date(),
    sourceUrl: null,
    reason: 'keliru',
  });

  it('throttles past 100, and refuses a token without threads_delete', async () => {
    const user = fake.createUser('kanim_sambas');
    const seeded = Array.from({ length: 101 }, (_, n) =>
      fake.seedThread(user.userId, { text: `Utas ${n}`, createdAt: Date.now() }),
    );
    for (const thread of seeded.slice(0, 100))
      expect(await threadsAdapter.retract(context(user.token, user.userId), request(thread.id))).toEqual({
        outcome: 'retracted',
      });
    const over = await threadsAdapter
      .retract(context(user.token, user.userId), request(seeded[100]!.id))
      .catch((error: unknown) => error);
    expect(over).toBeInstanceOf(PlatformError);
    expect((over as PlatformError).classification).toMatchObject({ kind: 'rate_limited', scope: 'channel' });
    expect(fake.deleted).toHaveLength(100);

    const old = fake.createUser('kanim_singkawang', {
      permissions: ['threads_basic', 'threads_content_publish'],
    });
    const thread = fake.seedThread(old.userId, { text: 'Utas lama', createdAt: Date.now() });
    const refused = await threadsAdapter
      .retract(context(old.token, old.userId), request(thread.id))
      .catch((error: unknown) => error);
    expect((refused as PlatformError).classification).toMatchObject({ kind: 'invalid' });
    expect(fake.threads(old.userId)).toHaveLength(1);
  });
});
