import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueDueDeliveries } from '../../../src/queues/producers';
import { resolveRedis } from '../../../src/queues/redis';
import { type RunningWorkers, startWorkers } from '../../../workers/index';
import { createTestApp, type TestApp } from '../../helpers/context';
import { eventually, insertDeliveries, setChannelCredentials, statusCounts } from '../../helpers/engine';
import { createLedgerAdapter, type LedgerServer, startLedgerServer } from '../../helpers/ledger-platform';
import { seedTestOrg } from '../../helpers/org';
import { insertChannel } from '../../helpers/posts';
import { type RedisCluster, startRedisCluster, topologyUnavailable } from '../../helpers/redis-topology';

/**
 * Redis Cluster: three primaries made by `redis-cli --cluster create`. The engine's flow (queue, claim,
 * publish, record, with the platform's quota counted in Redis) runs on it, sign-ins are counted, and
 * every key Gaung and BullMQ wrote lies under the one hash-tagged prefix, so in one slot.
 */

const DELIVERIES = 40;

describe.skipIf(topologyUnavailable())('the engine on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let t: TestApp;
  let ledger: LedgerServer;
  let workers: RunningWorkers | undefined;
  const prefix = `{gaung-test-${randomUUID().slice(0, 8)}}`;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    ledger = await startLedgerServer({ dedupe: false });
    const redis = await resolveRedis({ REDIS_CLUSTER_NODES: cluster.nodes, dataDir: 'data/test' });
    t = await createTestApp('pglite', {
      env: {
        REDIS_CLUSTER_NODES: cluster.nodes.map((n) => `${n.host}:${n.port}`).join(','),
        GAUNG_REDIS_PREFIX: prefix,
        GAUNG_HORIZON_SECONDS: '5',
        GAUNG_SWEEP_EVERY_MS: '1000',
        GAUNG_RECONCILE_DELAY_MS: '0',
      },
      redis,
      // Posing as X, so the engine counts X's per-user quota in Redis before each publish.
      adapters: () => [createLedgerAdapter({ platform: 'x', baseUrl: ledger.fake.url, reconcile: 'search' })],
    });
  }, 120_000);

  afterAll(async () => {
    await workers?.close();
    await t?.close();
    await ledger?.fake.stop();
    await cluster?.stop();
  });

  it('publishes every delivery once and keeps every key in one slot', async () => {
    expect(t.config.GAUNG_REDIS_PREFIX).toBe(prefix);
    const org = await seedTestOrg(t.ctx);
    const channelId = await insertChannel(t.ctx, org.units.national, 'x');
    await setChannelCredentials(t.ctx.db, t.ctx.keys, channelId, { token: ledger.token });
    workers = await startWorkers(t.ctx);
    const ids = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: org.user('officeA1', 'contributor').id,
      targets: Array.from({ length: DELIVERIES }, (_, i) => ({
        channelId,
        dueAt: new Date(Date.now() + (i % 2 === 0 ? 0 : 3_000)),
      })),
    });
    await enqueueDueDeliveries(t.ctx, ids);
    const published = await eventually(
      async () => (await statusCounts(t.ctx, ids)).published === DELIVERIES,
      60_000,
      250,
    );
    expect(published, JSON.stringify(await statusCounts(t.ctx, ids))).toBe(true);
    const counts = ledger.countsByRef();
    expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([]);

    // A failed sign-in is counted in Redis too.
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: '10.9.0.1',
      payload: { email: org.user('officeA1', 'reviewer').email, password: 'not the password at all' },
    });
    expect(login.statusCode).toBe(401);

    const keys = await cluster.keys();
    const kinds = (part: string) => keys.filter((key) => key.startsWith(`${prefix}:${part}`));
    expect(kinds('publish:').length).toBeGreaterThan(0);
    expect(kinds('rate:').length).toBeGreaterThan(0);
    expect(kinds('login-failures:').length).toBe(2);
    expect(kinds('worker:').length).toBe(1);
    expect(keys.filter((key) => !key.startsWith(`${prefix}:`))).toEqual([]);
  }, 120_000);
});
