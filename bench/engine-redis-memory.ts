/**
 * Redis memory with 100,000 deliveries scheduled more than an hour ahead: only the horizon lives in
 * Redis, so memory should not grow with the schedule. Measured on a redis-server of the benchmark's
 * own (INFO memory used_memory): empty, with the workers and schedulers running and no deliveries;
 * then with the 100,000 deliveries in Postgres after several sweeps. For comparison, in the same run:
 * 10,000 delayed BullMQ jobs with the publish job options, extrapolated to 100,000. Writes its
 * section of docs/benchmarks.md.
 *
 *   npm run bench:redis-memory     (BENCH_DATABASE_URL as for bench:engine)
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { PUBLISH_JOB_OPTIONS } from '../src/queues/producers';
import { resolveRedis } from '../src/queues/redis';
import { sweep } from '../src/services/maintenance';
import { insertDeliveries } from '../tests/helpers/engine';
import { startWorkers } from '../workers/index';
import { benchContext, benchDatabase, benchOrg, describeMachine, spawnFake } from './engine-support';
import { root, writeSection } from './measure';

const DELIVERIES = 100_000;
const SAMPLE_JOBS = 10_000;
const HOUR = 3_600_000;

const dataDir = path.join(root, 'data', `bench-redis-${process.pid}`);
// Nothing answers on port 1: a redis-server of our own is started on a unix socket.
const redisTarget = await resolveRedis({ dataDir }, 'redis://127.0.0.1:1');
const bench = await benchDatabase();
const fake = await spawnFake();
const { ctx, close } = await benchContext(bench, fake.url, { GAUNG_SWEEP_EVERY_MS: '1000' }, redisTarget);
const org = await benchOrg(ctx);
const machine = await describeMachine(bench, redisTarget);
console.log(machine);
const probe = new Redis(redisTarget.options);
const usedMemory = async () => {
  await new Promise((resolve) => setTimeout(resolve, 500));
  return Number(/used_memory:(\d+)/.exec(await probe.info('memory'))![1]);
};

const workers = await startWorkers(ctx);
await sweep(ctx);
await new Promise((resolve) => setTimeout(resolve, 3_000));
const empty = await usedMemory();

const channels = [await org.channel('sandbox', 'a'), await org.channel('telegram', 'b')];
await insertDeliveries(ctx.db, {
  unitId: org.unitId,
  authorId: org.authorId,
  targets: Array.from({ length: DELIVERIES }, (_, i) => ({
    channelId: channels[i % channels.length]!,
    dueAt: new Date(Date.now() + HOUR + 60_000 + Math.random() * 7 * 24 * HOUR),
  })),
});
for (let i = 0; i < 3; i++) await sweep(ctx);
// Let the scheduled sweeps run as well.
await new Promise((resolve) => setTimeout(resolve, 5_000));
const scheduled = await usedMemory();
const publishJobs = await ctx.queues.publish.getJobCounts('waiting', 'delayed', 'active');

// The comparison: what keeping the schedule in Redis would cost.
const sample = new Queue('memory-sample', { connection: ctx.redis, prefix: ctx.redisPrefix });
for (let start = 0; start < SAMPLE_JOBS; start += 1_000)
  await sample.addBulk(
    Array.from({ length: 1_000 }, (_, i) => ({
      name: 'publish',
      data: { deliveryId: crypto.randomUUID(), attempt: 0 },
      opts: {
        ...PUBLISH_JOB_OPTIONS,
        jobId: `delivery-${crypto.randomUUID()}-0`,
        delay: HOUR + (start + i) * 1_000,
      },
    })),
  );
const withSample = await usedMemory();
const perJob = (withSample - scheduled) / SAMPLE_JOBS;
await sample.obliterate({ force: true });
await sample.close();

await workers.close();
probe.disconnect();
await close();
await redisTarget.stop();
rmSync(dataDir, { recursive: true, force: true });
fake.stop();
await bench.database.close();
await bench.drop();

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MB`;
const above = scheduled - empty;
console.log(
  `empty ${mb(empty)}, with ${DELIVERIES} scheduled ${mb(scheduled)} (+${mb(above)}); a delayed job ${perJob.toFixed(0)} B`,
);

writeSection(
  'engine-redis-memory',
  `
## Publishing engine: Redis memory with 100,000 deliveries scheduled ahead

Command: \`npm run bench:redis-memory\` (bench/engine-redis-memory.ts).

Machine: ${machine}

Setup: a redis-server of the benchmark's own (on a unix socket, nothing else in it), PostgreSQL, the workers and schedulers running (sweep every second). \`used_memory\` from \`INFO memory\`:

| state | used_memory |
|---|---:|
| empty: workers and schedulers running, no deliveries | ${mb(empty)} |
| ${DELIVERIES.toLocaleString('en-US')} deliveries due 1 h to 7 days ahead, after several sweeps | ${mb(scheduled)} |
| **difference** | **${mb(above)}** (target < 5 MB) |

Publish jobs in Redis at the end: ${publishJobs.waiting + publishJobs.delayed + publishJobs.active} (the schedule beyond the ${ctx.config.GAUNG_HORIZON_SECONDS} s horizon stays in PostgreSQL).

Baseline from the same run: ${SAMPLE_JOBS.toLocaleString('en-US')} delayed BullMQ jobs with the publish job options took ${mb(withSample - scheduled)}, ${perJob.toFixed(0)} bytes each; keeping all ${DELIVERIES.toLocaleString('en-US')} deliveries as delayed jobs would take about ${mb(perJob * DELIVERIES)}.
`,
);
process.exit(0);
