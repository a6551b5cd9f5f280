import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channels, deliveries, metricsSnapshots } from '../../src/db/schema';
import { CREDENTIAL_REFRESH_RETRY_MS } from '../../src/queues/producers';
import {
  refreshChannelCredentials,
  scheduleMetricsSnapshots,
  sweep,
  takeMetricsSnapshot,
} from '../../src/services/maintenance';
import { createTestContext, type TestContext } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { insertDeliveries, setChannelCredentials } from '../helpers/engine';
import { createLedgerAdapter, type LedgerServer, startLedgerServer } from '../helpers/ledger-platform';
import { seedTestOrg, type TestOrg } from '../helpers/org';
import { insertChannel } from '../helpers/posts';

/** The engine's housekeeping besides the sweep of due deliveries: engagement snapshots and token refresh. */
describe.each(testDrivers())('engine housekeeping on %s', (driver) => {
  let t: TestContext;
  let org: TestOrg;
  let ledger: LedgerServer;
  const metrics = {
    impressions: 1_200,
    likes: 31,
    reposts: 4,
    replies: 2,
    quotes: null,
    clicks: 9,
    raw: { views: 1_200 },
  };

  beforeAll(async () => {
    ledger = await startLedgerServer({ dedupe: true });
    t = await createTestContext(driver, {
      adapters: () => [
        createLedgerAdapter({
          platform: 'mastodon',
          baseUrl: ledger.fake.url,
          reconcile: 'idempotent',
          metrics,
        }),
        createLedgerAdapter({
          platform: 'x',
          baseUrl: ledger.fake.url,
          reconcile: 'search',
          refreshable: true,
        }),
      ],
    });
    org = await seedTestOrg(t.ctx);
  });

  afterAll(async () => {
    await t?.close();
    await ledger?.fake.stop();
  });

  const HOUR = 3_600_000;

  it('queues each engagement snapshot once it is due, and stores it once', async () => {
    const channel = await insertChannel(t.ctx, org.units.national, 'mastodon');
    const [twoHours, twoDays, fresh] = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: org.user('officeA1', 'contributor').id,
      targets: [0, 1, 2].map(() => ({ channelId: channel, dueAt: new Date() })),
    });
    const publish = (id: string, agoMs: number) =>
      t.ctx.db
        .update(deliveries)
        .set({
          status: 'published',
          publishedAt: new Date(Date.now() - agoMs),
          remoteId: `r-${id}`,
          remoteUrl: 'https://m.example/1',
        })
        .where(eq(deliveries.id, id));
    await publish(twoHours!, 2 * HOUR);
    await publish(twoDays!, 50 * HOUR);
    await publish(fresh!, 10 * 60_000);

    // Two days on, the 1 h snapshot is too late to be worth taking; the 24 h one is due.
    expect(await scheduleMetricsSnapshots(t.ctx)).toBe(2);
    const jobs = await t.ctx.queues.metrics.getJobs(['waiting', 'delayed']);
    expect(
      jobs
        .map((job) => `${job.data.deliveryId === twoHours ? 'two-hours' : 'two-days'} ${job.data.window}`)
        .sort(),
    ).toEqual(['two-days 24h', 'two-hours 1h']);
    // Asking again queues nothing new.
    expect(await scheduleMetricsSnapshots(t.ctx)).toBe(2);
    expect(await t.ctx.queues.metrics.getJobCounts('waiting', 'delayed')).toMatchObject({ waiting: 2 });

    expect(await takeMetricsSnapshot(t.ctx, twoHours!, '1h')).toBe('stored');
    expect(await takeMetricsSnapshot(t.ctx, twoHours!, '1h')).toBe('stored');
    const stored = await t.ctx.db
      .select()
      .from(metricsSnapshots)
      .where(eq(metricsSnapshots.deliveryId, twoHours!));
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      window: '1h',
      impressions: 1_200,
      likes: 31,
      reposts: 4,
      quotes: null,
      clicks: 9,
    });
    // Taken: no longer due.
    expect(await scheduleMetricsSnapshots(t.ctx)).toBe(1);
  });

  it('refreshes tokens before they expire, once per expiry, and pauses a channel whose refresh is refused', async () => {
    const expiring = await insertChannel(t.ctx, org.units.national, 'x', { name: 'expiring' });
    const revoked = await insertChannel(t.ctx, org.units.national, 'x', { name: 'revoked' });
    const later = await insertChannel(t.ctx, org.units.national, 'x', { name: 'later' });
    await setChannelCredentials(t.ctx.db, t.ctx.keys, expiring, { token: 'old' });
    await setChannelCredentials(t.ctx.db, t.ctx.keys, revoked, { token: 'revoked' });
    await setChannelCredentials(t.ctx.db, t.ctx.keys, later, { token: 'fine' });
    const soon = new Date(Date.now() + 5 * 60_000);
    await t.ctx.db.update(channels).set({ credentialsExpiresAt: soon }).where(eq(channels.id, expiring));
    await t.ctx.db.update(channels).set({ credentialsExpiresAt: soon }).where(eq(channels.id, revoked));
    await t.ctx.db
      .update(channels)
      .set({ credentialsExpiresAt: new Date(Date.now() + 6 * HOUR) })
      .where(eq(channels.id, later));

    const swept = await sweep(t.ctx);
    expect(swept.refreshing).toBe(2);
    await sweep(t.ctx);
    const refreshJobs = (await t.ctx.queues.maintenance.getJobs(['waiting'])).filter(
      (job) => job.data.task === 'refresh-credentials',
    );
    expect(refreshJobs).toHaveLength(2);
    // Ten minutes on, the next round offers each again: a refresh whose job failed every try (the
    // platform away) is not left to wait a day for Redis to forget its id.
    await sweep({ ...t.ctx, now: () => new Date(Date.now() + CREDENTIAL_REFRESH_RETRY_MS) });
    const offered = (await t.ctx.queues.maintenance.getJobs(['waiting'])).flatMap((job) =>
      job.data.task === 'refresh-credentials' ? [job.data.channelId] : [],
    );
    expect(offered.sort()).toEqual([expiring, expiring, revoked, revoked].sort());

    expect(await refreshChannelCredentials(t.ctx, expiring)).toMatch(/^refreshed until/);
    const [refreshed] = await t.ctx.db.select().from(channels).where(eq(channels.id, expiring));
    expect(t.ctx.keys.decrypt<{ token: string }>(refreshed!.credentials!, expiring).token).toMatch(
      /^refreshed-/,
    );
    expect(refreshed!.credentialsExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);

    expect(await refreshChannelCredentials(t.ctx, revoked)).toBe(
      'refresh refused: channel needs reauthorisation',
    );
    const [paused] = await t.ctx.db.select().from(channels).where(eq(channels.id, revoked));
    expect(paused).toMatchObject({ status: 'needs_reauth', statusReason: 'the refresh token was revoked' });
  });
});
