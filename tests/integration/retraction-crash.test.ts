import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channels, deliveries, posts } from '../../src/db/schema';
import type { Actor } from '../../src/domain/permissions';
import { postFacts } from '../../src/services/posts';
import { advanceDelivery } from '../../src/services/publishing';
import { requestRetraction } from '../../src/services/retraction';
import { createTestContext, type TestContext } from '../helpers/context';
import { type CrashPlatform, startCrashPlatforms } from '../helpers/crash-platforms';
import { testDrivers } from '../helpers/db';
import { eventually, insertDeliveries, setChannelCredentials, statusCounts } from '../helpers/engine';
import { seedTestOrg } from '../helpers/org';
import { insertChannel } from '../helpers/posts';
import { engineWorkerEnv, workerPool } from '../helpers/worker-pool';

/**
 * Retraction under crashes: 200 published deliveries across the platforms (published through the
 * real adapters to their fakes; Instagram, which cannot delete, straight into the database) are
 * retracted while two worker processes do the deletes, some answered by a dropped connection after
 * the delete happened, and the test SIGKILLs a worker five times. Every delivery ends retracted or
 * with a person, none is left `retracting`, and no fake removes anything twice.
 * PostgreSQL only: the workers are separate processes.
 */

const DELIVERIES = 200;
const WORKERS = 2;
const KILLS = 5;

describe.runIf(testDrivers().includes('postgres'))('retraction under worker crashes', () => {
  let t: TestContext;
  let platforms: CrashPlatform[] = [];
  const workers = workerPool();
  let workerEnv: Record<string, string>;
  let ids: string[] = [];
  let reviewer: Actor;

  beforeAll(async () => {
    platforms = (await startCrashPlatforms()).filter((p) => !p.ledger);
    const env = {
      LOG_LEVEL: 'warn',
      GAUNG_SWEEP_EVERY_MS: '1000',
      GAUNG_HORIZON_SECONDS: '10',
      GAUNG_RECONCILE_DELAY_MS: '0',
      GAUNG_RETRY_BASE_MS: '300',
      GAUNG_RETRY_MAX_MS: '2000',
      GAUNG_MAX_ATTEMPTS: '30',
      GAUNG_WORKER_CONCURRENCY: '8',
    };
    const platformEnv = Object.assign({}, ...platforms.map((p) => p.env));
    t = await createTestContext('postgres', { env: { ...env, ...platformEnv } });
    const org = await seedTestOrg(t.ctx);
    const national = org.user('national', 'reviewer');
    reviewer = {
      userId: national.id,
      role: 'reviewer',
      unitId: org.units.national.id,
      unitPath: org.units.national.path,
    };
    workerEnv = engineWorkerEnv(t, { ...env, ...platformEnv });
    const channelIds: string[] = [];
    for (const platform of platforms)
      for (let n = 0; n < 3; n++) {
        const account = platform.channel(100 + n);
        const id = await insertChannel(t.ctx, org.units.national, platform.platform, {
          name: `${platform.platform} ${n}`,
          settings: account.settings,
        });
        await setChannelCredentials(t.ctx.db, t.ctx.keys, id, account.credentials);
        channelIds.push(id);
      }
    const instagram = await insertChannel(t.ctx, org.units.national, 'instagram', { name: 'instagram' });
    channelIds.push(instagram);
    ids = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: org.user('officeA1', 'contributor').id,
      targets: Array.from({ length: DELIVERIES }, (_, i) => ({
        channelId: channelIds[i % channelIds.length]!,
        dueAt: new Date(Date.now() - 1_000),
      })),
    });
    const publishOne = async (id: string) => {
      const [row] = await t.ctx.db
        .select({ channelId: deliveries.channelId })
        .from(deliveries)
        .where(eq(deliveries.id, id));
      if (row!.channelId === instagram)
        await t.ctx.db
          .update(deliveries)
          .set({
            status: 'published',
            publishedAt: new Date(),
            remoteId: `1790${id.slice(0, 8)}`,
            remoteUrl: 'https://www.instagram.com/p/DAbCdEf/',
          })
          .where(eq(deliveries.id, id));
      else expect((await advanceDelivery(t.ctx, id)).next).toBe('done');
    };
    // Published a few at a time (each channel's fake takes them in any order).
    for (let start = 0; start < ids.length; start += 10)
      await Promise.all(ids.slice(start, start + 10).map(publishOne));
    const counts = await statusCounts(t.ctx, ids);
    expect(counts.published, JSON.stringify(counts)).toBe(DELIVERIES);
    for (const platform of platforms)
      platform.server.chaos(0.15, [{ kind: 'drop-after' }, { kind: 'slow', ms: 1_000 }], platform.deletes);
  }, 300_000);

  afterAll(async () => {
    await workers.killAll();
    await t?.close();
    for (const platform of platforms) await platform.stop();
  });

  it('ends every delivery retracted or with a person, none deleted twice, none left retracting', async () => {
    await Promise.all(Array.from({ length: WORKERS }, () => workers.spawn(workerEnv)));
    const postIds = (
      await t.ctx.db.select({ postId: deliveries.postId }).from(deliveries).where(inArray(deliveries.id, ids))
    ).map((r) => r.postId);
    for (const postId of postIds) {
      const facts = await postFacts(t.ctx.db, postId);
      await requestRetraction(t.ctx, reviewer, postId, { version: facts.version, reason: 'Data keliru' });
    }
    let kills = 0;
    while (kills < KILLS) {
      await new Promise((resolve) => setTimeout(resolve, 700 + Math.random() * 1_300));
      const running = workers.running();
      const victim = running[Math.floor(Math.random() * running.length)];
      if (!victim) continue;
      victim.kill('SIGKILL');
      kills += 1;
      void workers.spawn(workerEnv).catch(() => {});
    }
    const settled = await eventually(
      async () => !(await statusCounts(t.ctx, ids)).retracting,
      150_000,
      1_000,
    );
    const counts = await statusCounts(t.ctx, ids);
    expect(settled, `not settled: ${JSON.stringify(counts)}`).toBe(true);
    const rows = await t.ctx.db
      .select({ id: deliveries.id, status: deliveries.status, platform: channels.platform })
      .from(deliveries)
      .innerJoin(channels, eq(channels.id, deliveries.channelId))
      .where(inArray(deliveries.id, ids));
    const problems: string[] = [];
    for (const row of rows)
      if (
        !(
          row.status === 'retracted' ||
          (row.status === 'retraction_needs_attention' && row.platform === 'instagram')
        )
      )
        problems.push(`${row.platform} ${row.id}: ended ${row.status}`);
    for (const platform of platforms) {
      const removed = platform.removed();
      const twice = removed.filter((id, index) => removed.indexOf(id) !== index);
      if (twice.length > 0) problems.push(`${platform.platform}: removed twice ${twice.join(', ')}`);
      const retracted = rows.filter(
        (row) => row.platform === platform.platform && row.status === 'retracted',
      ).length;
      if (removed.length !== retracted)
        problems.push(`${platform.platform}: ${removed.length} removed, ${retracted} retracted`);
    }
    expect(problems).toEqual([]);
    const retractedPosts = await t.ctx.db
      .select({ status: posts.status })
      .from(posts)
      .where(inArray(posts.id, postIds));
    expect(retractedPosts.filter((p) => p.status === 'retracted').length).toBe(
      rows.filter((r) => r.status === 'retracted').length,
    );
  }, 300_000);
});
