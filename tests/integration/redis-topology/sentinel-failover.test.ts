import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveries } from '../../../src/db/schema';
import { enqueueDueDeliveries } from '../../../src/queues/producers';
import { resolveRedis } from '../../../src/queues/redis';
import { type RunningWorkers, startWorkers } from '../../../workers/index';
import { createTestContext, type TestContext } from '../../helpers/context';
import { eventually, insertDeliveries, setChannelCredentials, statusCounts } from '../../helpers/engine';
import { createLedgerAdapter, type LedgerServer, startLedgerServer } from '../../helpers/ledger-platform';
import { seedTestOrg } from '../../helpers/org';
import { insertChannel } from '../../helpers/posts';
import {
  redisInfo,
  type SentinelSet,
  startSentinelSet,
  topologyUnavailable,
} from '../../helpers/redis-topology';

/**
 * Redis behind Sentinels: a primary, a replica and three `redis-sentinel` processes. The engine
 * (BullMQ workers and schedulers in this process, connected through the Sentinels) publishes a stream
 * of deliveries; halfway, SENTINEL FAILOVER promotes the replica. Every delivery ends published
 * exactly once, and the workers carry on against the new primary by themselves.
 */

const DELIVERIES = 120;
const STREAM_MS = 16_000;

describe.skipIf(topologyUnavailable())('publishing through a Sentinel failover', () => {
  let set: SentinelSet;
  let t: TestContext;
  let ledger: LedgerServer;
  let workers: RunningWorkers | undefined;

  beforeAll(async () => {
    set = await startSentinelSet();
    ledger = await startLedgerServer({ dedupe: false });
    const env = {
      REDIS_SENTINELS: set.sentinels.map((s) => `${s.host}:${s.port}`).join(','),
      REDIS_SENTINEL_NAME: set.name,
      GAUNG_HORIZON_SECONDS: '5',
      GAUNG_SWEEP_EVERY_MS: '1000',
      GAUNG_RECONCILE_DELAY_MS: '500',
      GAUNG_RETRY_BASE_MS: '300',
      GAUNG_RETRY_MAX_MS: '3000',
      GAUNG_MAX_ATTEMPTS: '30',
    };
    const redis = await resolveRedis({
      REDIS_SENTINELS: set.sentinels,
      REDIS_SENTINEL_NAME: set.name,
      dataDir: 'data/test',
    });
    t = await createTestContext('pglite', {
      env,
      redis,
      adapters: () => [
        createLedgerAdapter({ platform: 'sandbox', baseUrl: ledger.fake.url, reconcile: 'search' }),
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await workers?.close();
    await t?.close();
    await ledger?.fake.stop();
    await set?.stop();
  });

  it('publishes every delivery exactly once across the failover, and the workers recover by themselves', async () => {
    const org = await seedTestOrg(t.ctx);
    const channelId = await insertChannel(t.ctx, org.units.national, 'sandbox');
    await setChannelCredentials(t.ctx.db, t.ctx.keys, channelId, { token: ledger.token });
    workers = await startWorkers(t.ctx);
    const start = Date.now() + 1_000;
    const ids = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: org.user('officeA1', 'contributor').id,
      targets: Array.from({ length: DELIVERIES }, (_, i) => ({
        channelId,
        dueAt: new Date(start + (i / DELIVERIES) * STREAM_MS),
      })),
    });
    await enqueueDueDeliveries(t.ctx, ids);

    await new Promise((resolve) => setTimeout(resolve, STREAM_MS / 2));
    const publishedBefore = (await statusCounts(t.ctx, ids)).published ?? 0;
    const failedOverAt = Date.now();
    const newPrimary = await set.failover();
    expect(newPrimary).toBe(set.replicaPort);
    // The Sentinels turn the old primary into a replica of the new one shortly after.
    const demoted = await eventually(
      async () => (await redisInfo(set.primaryPort, 'replication')).includes('role:slave'),
      30_000,
      200,
    );
    expect(demoted).toBe(true);

    const settled = await eventually(
      async () => (await statusCounts(t.ctx, ids)).published === DELIVERIES,
      120_000,
      500,
    );
    expect(settled, `not settled: ${JSON.stringify(await statusCounts(t.ctx, ids))}\n${set.log()}`).toBe(
      true,
    );
    expect(publishedBefore).toBeGreaterThan(0);
    expect(publishedBefore).toBeLessThan(DELIVERIES);

    const counts = ledger.countsByRef();
    const twice = ids.filter((id) => counts.get(id) !== 1);
    expect(twice).toEqual([]);
    expect(ledger.posts.filter((post) => ids.includes(post.ref))).toHaveLength(DELIVERIES);
    // Deliveries due after the failover were published by the same workers, now on the new primary.
    const rows = await t.ctx.db.select().from(deliveries).where(inArray(deliveries.id, ids));
    const afterwards = rows.filter((row) => row.publishedAt!.getTime() > failedOverAt);
    expect(afterwards.length).toBeGreaterThan(0);
    const queues = await t.ctx.queues.publish.getJobCounts('failed');
    expect(queues.failed).toBe(0);
    const keys = Number(/keys=(\d+)/.exec(await redisInfo(set.replicaPort, 'keyspace'))?.[1] ?? 0);
    expect(keys).toBeGreaterThan(0);
  }, 240_000);
});
