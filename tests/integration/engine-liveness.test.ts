import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveries, deliveryEvents } from '../../src/db/schema';
import { publishJobId } from '../../src/queues/producers';
import { producerConnection } from '../../src/queues/redis';
import { expireClaimsOfGoneWorkers } from '../../src/services/maintenance';
import { claimDelivery } from '../../src/services/publishing';
import { EPOCH_GRACE_MS, startLiveness, type WorkerLiveness } from '../../src/services/worker-liveness';
import { createTestContext, deleteKeys, type TestContext } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { eventually, insertDeliveries, setChannelCredentials } from '../helpers/engine';
import { createLedgerAdapter, type LedgerServer, startLedgerServer } from '../helpers/ledger-platform';
import { seedTestOrg, type TestOrg } from '../helpers/org';
import { insertChannel } from '../helpers/posts';

/**
 * Worker liveness: the claims of a worker whose heartbeat is gone go to reconciliation at once, the
 * claims of a live one stay its own, also right after Redis lost every key, and a worker whose
 * heartbeat no longer reaches Redis abandons its platform calls before anyone may take over.
 */
describe.each(testDrivers())('worker liveness on %s', (driver) => {
  let t: TestContext;
  let org: TestOrg;
  let ledger: LedgerServer;
  let channelId: string;
  const running: WorkerLiveness[] = [];

  beforeAll(async () => {
    ledger = await startLedgerServer({ dedupe: false });
    t = await createTestContext(driver, {
      adapters: () => [createLedgerAdapter({ platform: 'x', baseUrl: ledger.fake.url, reconcile: 'search' })],
      env: { GAUNG_RECONCILE_DELAY_MS: '10000' },
    });
    org = await seedTestOrg(t.ctx);
    channelId = await insertChannel(t.ctx, org.units.national, 'x');
    await setChannelCredentials(t.ctx.db, t.ctx.keys, channelId, { token: ledger.token });
  });

  afterAll(async () => {
    for (const liveness of running) await liveness.stop();
    await t?.close();
    await ledger?.fake.stop();
  });

  const heartbeat = async (name: string) => {
    const liveness = await startLiveness(t.ctx, name);
    running.push(liveness);
    return liveness;
  };
  const claimed = async (name: string, liveness: WorkerLiveness | undefined, count = 1) => {
    const ids = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: org.user('officeA1', 'contributor').id,
      targets: Array.from({ length: count }, () => ({ channelId, dueAt: new Date(Date.now() - 1_000) })),
    });
    for (const id of ids) expect(await claimDelivery(t.ctx, id, { name, liveness })).not.toBeNull();
    // Claimed a moment ago, as a dead worker's claims always are by the time it is seen gone.
    await t.ctx.db
      .update(deliveries)
      .set({ updatedAt: new Date(Date.now() - 5_000) })
      .where(inArray(deliveries.id, ids));
    return ids;
  };
  const rows = (ids: string[]) => t.ctx.db.select().from(deliveries).where(inArray(deliveries.id, ids));

  it('hands the claims of a worker that is gone to reconciliation, and leaves the living ones', async () => {
    const dying = await heartbeat('dying');
    const living = await heartbeat('living');
    const mine = await claimed('dying', dying, 3);
    const theirs = await claimed('living', living, 2);
    // A worker without a heartbeat names no holder: only its lease ends its claim.
    const unnamed = await claimed('no-heartbeat', undefined);
    expect((await rows(mine)).map((row) => row.leaseHolder)).toEqual(['dying', 'dying', 'dying']);
    expect((await rows(unnamed))[0]!.leaseHolder).toBeNull();

    // Redis has kept its keys for longer than the grace by now (the first check starts the epoch).
    expect(await expireClaimsOfGoneWorkers(t.ctx, 'watcher')).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, EPOCH_GRACE_MS + 200));
    expect(await expireClaimsOfGoneWorkers(t.ctx, 'watcher')).toBe(0);

    await dying.stop();
    expect(await expireClaimsOfGoneWorkers(t.ctx, 'watcher')).toBe(3);
    for (const row of await rows(mine)) {
      expect(row).toMatchObject({ status: 'unknown', leaseHolder: null, attempts: 1 });
      // Its reconciliation is queued, after the reconcile delay.
      const job = await t.ctx.queues.publish.getJob(publishJobId(row.id, row.attempts));
      expect(await job?.getState()).toBe('delayed');
    }
    const events = await t.ctx.db
      .select()
      .from(deliveryEvents)
      .where(inArray(deliveryEvents.deliveryId, mine));
    expect(events.filter((e) => e.toStatus === 'unknown').map((e) => e.reason)).toEqual([
      'the worker holding it is gone',
      'the worker holding it is gone',
      'the worker holding it is gone',
    ]);
    expect((await rows([...theirs, ...unnamed])).map((row) => row.status)).toEqual([
      'publishing',
      'publishing',
      'publishing',
    ]);
  });

  it('does not take a live worker for dead after Redis lost every key', async () => {
    const alive = await heartbeat('alive-through-flush');
    const dead = await heartbeat('dead-through-flush');
    const aliveClaims = await claimed('alive-through-flush', alive, 2);
    const deadClaims = await claimed('dead-through-flush', dead, 1);
    await dead.stop();
    // A flush of this prefix: the epoch goes with the liveness keys.
    await deleteKeys(t.config.GAUNG_REDIS_PREFIX);
    expect(await expireClaimsOfGoneWorkers(t.ctx, 'watcher')).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, EPOCH_GRACE_MS / 2));
    // Within the grace nobody is gone, however its key looks.
    expect(await expireClaimsOfGoneWorkers(t.ctx, 'watcher')).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, EPOCH_GRACE_MS / 2 + 300));
    // The living worker beat again meanwhile; the dead one did not.
    expect(await expireClaimsOfGoneWorkers(t.ctx, 'watcher')).toBe(1);
    expect((await rows(deadClaims))[0]!.status).toBe('unknown');
    expect((await rows(aliveClaims)).map((row) => row.status)).toEqual(['publishing', 'publishing']);
  });

  it('leaves a claim made just before its holder was seen gone to a later check', async () => {
    const back = await heartbeat('came-back');
    const ids = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: org.user('officeA1', 'contributor').id,
      targets: [{ channelId, dueAt: new Date(Date.now() - 1_000) }],
    });
    // Claimed an instant ago: its holder may have been seen gone just before it beat again.
    expect(await claimDelivery(t.ctx, ids[0]!, { name: 'came-back', liveness: back })).not.toBeNull();
    await back.stop();
    expect(await expireClaimsOfGoneWorkers(t.ctx, 'watcher')).toBe(0);
    expect((await rows(ids))[0]!.status).toBe('publishing');
  });

  it('abandons platform calls when the heartbeat stops reaching Redis', async () => {
    const connection = producerConnection(t.ctx.redisTarget);
    await new Promise((resolve) => connection.once('ready', resolve));
    const cut = await startLiveness({ ...t.ctx, redis: connection }, 'cut-off');
    running.push(cut);
    let lost = false;
    cut.onLost(() => {
      lost = true;
    });
    expect(cut.healthy()).toBe(true);
    connection.disconnect();
    expect(await eventually(async () => lost, 15_000, 100)).toBe(true);
    expect(cut.healthy()).toBe(false);
    // A claim made now names no holder, so nobody may end it early.
    const ids = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: org.user('officeA1', 'contributor').id,
      targets: [{ channelId, dueAt: new Date(Date.now() - 1_000) }],
    });
    const claim = await claimDelivery(t.ctx, ids[0]!, { name: 'cut-off', liveness: cut });
    expect(claim?.holder).toBeNull();
  });
});
