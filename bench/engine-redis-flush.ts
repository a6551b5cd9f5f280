/**
 * How soon the queue is rebuilt after Redis loses everything: 300 deliveries due over 9 s on a
 * channel publishing to the fake platform, FLUSHALL 4 s into the run, and the time from the flush
 * until every delivery is published (target: 30 s). Baseline from the same run: the same 300
 * deliveries on another channel without a flush, timed from the same point. Runs on PostgreSQL and a
 * redis-server of its own (the flush empties it). Writes its section of docs/benchmarks.md.
 *
 *   npm run bench:redis-flush      (BENCH_DATABASE_URL as for bench:engine)
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { resolveRedis } from '../src/queues/redis';
import { insertDeliveries, statusCounts } from '../tests/helpers/engine';
import { startWorkers } from '../workers/index';
import { benchContext, benchDatabase, benchOrg, describeMachine, spawnFake, waitFor } from './engine-support';
import { root, writeSection } from './measure';

const DELIVERIES = 300;
const SPREAD_MS = 8_000;
const FLUSH_AFTER_MS = 4_000;
const TARGET_MS = 30_000;
const CEILING_MS = 10 * 60_000;

const dataDir = path.join(root, 'data', `bench-redis-flush-${process.pid}`);
// Nothing answers on port 1: a redis-server of our own is started on a unix socket.
const redisTarget = await resolveRedis({ dataDir }, 'redis://127.0.0.1:1');
const bench = await benchDatabase();
const fake = await spawnFake();
// The engine test's settings: a short horizon, lease and sweep interval.
const { ctx, close } = await benchContext(
  bench,
  fake.url,
  {
    GAUNG_HORIZON_SECONDS: '5',
    GAUNG_SWEEP_EVERY_MS: '1000',
    GAUNG_LEASE_SECONDS: '5',
    GAUNG_RECONCILE_DELAY_MS: '500',
    GAUNG_RETRY_BASE_MS: '300',
    GAUNG_RETRY_MAX_MS: '2000',
  },
  redisTarget,
);
const org = await benchOrg(ctx);
const machine = await describeMachine(bench, redisTarget);
console.log(machine);
const workers = await startWorkers(ctx);

/** Milliseconds from FLUSH_AFTER_MS into the run until all of its deliveries are published. */
async function run(name: string, flush: boolean): Promise<{ ms: number; publishedBefore: number }> {
  const channel = await org.channel('sandbox', name);
  const start = Date.now() + 1_000;
  const ids = await insertDeliveries(ctx.db, {
    unitId: org.unitId,
    authorId: org.authorId,
    targets: Array.from({ length: DELIVERIES }, () => ({
      channelId: channel,
      dueAt: new Date(start + Math.random() * SPREAD_MS),
    })),
  });
  await new Promise((resolve) => setTimeout(resolve, FLUSH_AFTER_MS));
  const publishedBefore = (await statusCounts(ctx, ids)).published ?? 0;
  if (flush) {
    const flusher = new Redis(redisTarget.options);
    await flusher.flushall();
    flusher.disconnect();
  }
  const from = Date.now();
  await waitFor(async () => (await statusCounts(ctx, ids)).published === ids.length, CEILING_MS, 100);
  return { ms: Date.now() - from, publishedBefore };
}

const baseline = await run('without a flush', false);
const flushed = await run('through a flush', true);
console.log(`without a flush ${baseline.ms} ms, after the flush ${flushed.ms} ms`);

await workers.close();
await close();
await redisTarget.stop();
rmSync(dataDir, { recursive: true, force: true });
fake.stop();
await bench.database.close();
await bench.drop();

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
writeSection(
  'engine-redis-flush',
  `
## Publishing engine: the queue rebuilt after a Redis flush

Command: \`npm run bench:redis-flush\` (bench/engine-redis-flush.ts). The exactly-once outcome is tested in \`tests/integration/engine-redis-loss.test.ts\`; this measures how soon.

Machine: ${machine}

Setup: PostgreSQL, a redis-server of the benchmark's own, the workers and schedulers running with the engine test's settings (horizon 5 s, sweep every second, lease 5 s). ${DELIVERIES} deliveries due over ${SPREAD_MS / 1000} s on a channel publishing to the fake platform; ${FLUSH_AFTER_MS / 1000} s into the run Redis is emptied with \`FLUSHALL\` (queues, schedulers, rate limits, all of it).

| run | published at the ${FLUSH_AFTER_MS / 1000} s mark | from there until all ${DELIVERIES} are published |
|---|---:|---:|
| baseline: no flush | ${baseline.publishedBefore} | ${s(baseline.ms)} |
| **FLUSHALL at the ${FLUSH_AFTER_MS / 1000} s mark** | ${flushed.publishedBefore} | **${s(flushed.ms)}** (target ≤ ${s(TARGET_MS)}) |
`,
);
process.exit(0);
