import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveries, deliveryAttempts } from '../../src/db/schema';
import { enqueueDueDeliveries, publishJobId } from '../../src/queues/producers';
import { type RunningWorkers, startWorkers } from '../../workers/index';
import { createTestContext, type TestContext } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { eventually, insertDeliveries, setChannelCredentials, statusCounts } from '../helpers/engine';
import { createLedgerAdapter, type LedgerServer, startLedgerServer } from '../helpers/ledger-platform';
import { seedTestOrg, type TestOrg } from '../helpers/org';
import { insertChannel } from '../helpers/posts';

/** The engine with its BullMQ workers and schedulers running in this process. */
describe.each(testDrivers())('publishing workers on %s', (driver) => {
  let t: TestContext;
  let org: TestOrg;
  let ledger: LedgerServer;
  let workers: RunningWorkers | undefined;
  let sandboxChannel: string;
  let xChannel: string;

  beforeAll(async () => {
    ledger = await startLedgerServer({ dedupe: false });
    t = await createTestContext(driver, {
      adapters: () => [
        createLedgerAdapter({ platform: 'sandbox', baseUrl: ledger.fake.url, reconcile: 'search' }),
        createLedgerAdapter({ platform: 'x', baseUrl: ledger.fake.url, reconcile: 'search' }),
      ],
      env: {
        GAUNG_HORIZON_SECONDS: '5',
        GAUNG_SWEEP_EVERY_MS: '500',
        GAUNG_RECONCILE_DELAY_MS: '0',
        GAUNG_RETRY_BASE_MS: '200',
        GAUNG_WORKER_CONCURRENCY: '4',
      },
    });
    org = await seedTestOrg(t.ctx);
    sandboxChannel = await insertChannel(t.ctx, org.units.national, 'sandbox');
    xChannel = await insertChannel(t.ctx, org.units.national, 'x');
    for (const id of [sandboxChannel, xChannel])
      await setChannelCredentials(t.ctx.db, t.ctx.keys, id, { token: ledger.token });
  });

  afterAll(async () => {
    await workers?.close();
    await t?.close();
    await ledger?.fake.stop();
  });

  const make = (channelId: string, dueAt: Date, count = 1) =>
    insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: org.user('officeA1', 'contributor').id,
      targets: Array.from({ length: count }, () => ({ channelId, dueAt })),
    });

  it('queues only what is due within the horizon, once however often it is asked', async () => {
    const [now] = await make(sandboxChannel, new Date(Date.now() - 500));
    const [soon] = await make(sandboxChannel, new Date(Date.now() + 3_000));
    const [later] = await make(sandboxChannel, new Date(Date.now() + 3_600_000));
    expect(await enqueueDueDeliveries(t.ctx, [now!, soon!, later!])).toBe(2);
    expect(await enqueueDueDeliveries(t.ctx, [now!, soon!, later!])).toBe(2);
    const counts = await t.ctx.queues.publish.getJobCounts('waiting', 'delayed');
    expect(counts.waiting + counts.delayed).toBe(2);
    expect(await t.ctx.queues.publish.getJob(publishJobId(later!, 0))).toBeUndefined();

    workers = await startWorkers(t.ctx);
    expect(
      await eventually(async () => (await statusCounts(t.ctx, [now!, soon!])).published === 2, 15_000),
    ).toBe(true);
    const rows = await t.ctx.db
      .select()
      .from(deliveries)
      .where(inArray(deliveries.id, [soon!, later!]));
    const soonRow = rows.find((row) => row.id === soon)!;
    const [attempt] = await t.ctx.db
      .select()
      .from(deliveryAttempts)
      .where(eq(deliveryAttempts.deliveryId, soon!));
    // Published at its time, not before.
    expect(attempt!.startedAt.getTime()).toBeGreaterThanOrEqual(soonRow.dueAt.getTime());
    expect(rows.find((row) => row.id === later)!.status).toBe('scheduled');
    expect(await t.ctx.queues.publish.getJob(publishJobId(later!, 0))).toBeUndefined();
    expect(ledger.countsByRef().get(now!)).toBe(1);
    expect(ledger.countsByRef().get(soon!)).toBe(1);
  });

  it('waits out a 429 storm until the reset the platform announced, without spending attempts', async () => {
    workers ??= await startWorkers(t.ctx);
    const resetMs = (Math.floor(Date.now() / 1000) + 4) * 1000;
    // Every publish to the fake is refused with X's headers until the reset.
    ledger.fake.inject(
      {
        kind: 'respond',
        status: 429,
        headers: {
          'x-rate-limit-limit': '100',
          'x-rate-limit-remaining': '0',
          'x-rate-limit-reset': String(resetMs / 1000),
        },
        body: { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 },
      },
      { times: 1_000, match: (request) => request.method === 'POST' && Date.now() < resetMs },
    );
    const ids = await make(xChannel, new Date(Date.now() - 100), 12);
    await enqueueDueDeliveries(t.ctx, ids);
    expect(await eventually(async () => (await statusCounts(t.ctx, ids)).published === 12, 20_000)).toBe(
      true,
    );
    ledger.fake.clearFaults();
    const posts = ledger.posts.filter((post) => ids.includes(post.ref));
    expect(posts).toHaveLength(12);
    for (const post of posts) expect(post.at).toBeGreaterThanOrEqual(resetMs);
    const rows = await t.ctx.db.select().from(deliveries).where(inArray(deliveries.id, ids));
    for (const row of rows) expect(row.attempts).toBe(1);
    const attempts = await t.ctx.db
      .select()
      .from(deliveryAttempts)
      .where(inArray(deliveryAttempts.deliveryId, ids));
    const limited = attempts.filter((attempt) => attempt.outcome === 'rate_limited');
    expect(limited.length).toBeGreaterThan(0);
    for (const attempt of limited) expect(attempt.startedAt.getTime()).toBeLessThan(resetMs);
    // After the first 429 the channel is blocked: the others wait without calling the platform again.
    expect(limited.filter((attempt) => attempt.httpStatus === 429).length).toBeLessThan(12);
  });
});
