import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { inArray } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveries } from '../../src/db/schema';
import { type RedisTarget, resolveRedis } from '../../src/queues/redis';
import { type RunningWorkers, startWorkers } from '../../workers/index';
import { createTestContext, type TestContext } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { eventually, insertDeliveries, setChannelCredentials, statusCounts } from '../helpers/engine';
import { createLedgerAdapter, type LedgerServer, startLedgerServer } from '../helpers/ledger-platform';
import { seedTestOrg } from '../helpers/org';
import { insertChannel } from '../helpers/posts';

/**
 * Redis is transport: FLUSHALL in the middle of a run loses no delivery and publishes none twice.
 * The flush runs on a redis-server of this test's own (on a unix socket), not the shared one.
 * How soon the queue is rebuilt is measured by `npm run bench:redis-flush`; the test waits for the
 * outcome under a ceiling meant for a loaded machine.
 */
const CEILING_MS = 5 * 60_000;

describe.each(testDrivers())('publishing through a Redis flush on %s', (driver) => {
  let redis: RedisTarget;
  const dataDir = path.resolve(`data/test/redis-loss-${randomUUID().slice(0, 8)}`);
  let t: TestContext;
  let ledger: LedgerServer;
  let workers: RunningWorkers | undefined;
  let ids: string[] = [];
  const due = new Map<string, number>();

  beforeAll(async () => {
    // Nothing answers on port 1: Gaung starts a redis-server of its own, as it would without Redis.
    redis = await resolveRedis({ dataDir }, 'redis://127.0.0.1:1');
    ledger = await startLedgerServer({ dedupe: false });
    // Some answers are slow, so claims are in flight when Redis is emptied.
    ledger.fake.chaos(0.2, [{ kind: 'slow', ms: 1_500 }], (request) => request.method === 'POST');
    t = await createTestContext(driver, {
      redis,
      adapters: () => [
        createLedgerAdapter({ platform: 'sandbox', baseUrl: ledger.fake.url, reconcile: 'search' }),
      ],
      env: {
        GAUNG_HORIZON_SECONDS: '5',
        GAUNG_SWEEP_EVERY_MS: '1000',
        GAUNG_LEASE_SECONDS: '5',
        GAUNG_RECONCILE_DELAY_MS: '500',
        GAUNG_RETRY_BASE_MS: '300',
        GAUNG_RETRY_MAX_MS: '2000',
      },
    });
    const org = await seedTestOrg(t.ctx);
    const channel = await insertChannel(t.ctx, org.units.national, 'sandbox');
    await setChannelCredentials(t.ctx.db, t.ctx.keys, channel, { token: ledger.token });
    const start = Date.now() + 1_000;
    const targets = Array.from({ length: 300 }, () => ({
      channelId: channel,
      dueAt: new Date(start + Math.random() * 8_000),
    }));
    ids = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: org.user('officeA1', 'contributor').id,
      targets,
    });
    for (const [index, id] of ids.entries()) due.set(id, targets[index]!.dueAt.getTime());
  });

  afterAll(async () => {
    await workers?.close();
    await t?.close();
    await ledger?.fake.stop();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('still publishes every due delivery exactly once after the flush', {
    timeout: CEILING_MS + 60_000,
  }, async () => {
    workers = await startWorkers(t.ctx);
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const before = await statusCounts(t.ctx, ids);
    const flusher = new Redis(redis.options);
    await flusher.flushall();
    flusher.disconnect();

    const done = await eventually(
      async () => (await statusCounts(t.ctx, ids)).published === ids.length,
      CEILING_MS,
      250,
    );
    const after = await statusCounts(t.ctx, ids);
    expect(done, `after the flush: ${JSON.stringify(after)} (before it: ${JSON.stringify(before)})`).toBe(
      true,
    );
    // Work was left to recover: the flush came while deliveries were still due or in flight.
    expect(before.published ?? 0).toBeLessThan(ids.length);

    const counts = ledger.countsByRef();
    const twice = ids.filter((id) => (counts.get(id) ?? 0) !== 1);
    expect(twice).toEqual([]);
    const early = ledger.posts.filter((post) => post.at < due.get(post.ref)!);
    expect(early).toEqual([]);
    const rows = await t.ctx.db.select().from(deliveries).where(inArray(deliveries.id, ids));
    expect(rows.every((row) => row.remoteId === ledger.posts.find((post) => post.ref === row.id)?.id)).toBe(
      true,
    );
    expect(t.logs.text).toContain('the maintenance schedulers are gone from Redis');
  });
});
