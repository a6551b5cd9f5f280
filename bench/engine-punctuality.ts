/**
 * Punctuality on an idle system: deliveries due one at a time at random moments, with the default
 * horizon and sweep, published through the real workers against a zero-latency fake. Lateness is the
 * start of the publish attempt minus the due time. Two paths: deliveries scheduled minutes ahead
 * (the sweep brings them into Redis as their time nears), and approvals "due now" (queued at once
 * after the commit). Writes its section of docs/benchmarks.md.
 *
 *   npm run bench:punctuality     (about four minutes; BENCH_DATABASE_URL / REDIS_URL as for bench:engine)
 */
import { sql } from 'drizzle-orm';
import { queryRows } from '../src/db/client';
import { enqueueDueDeliveries } from '../src/queues/producers';
import { insertDeliveries } from '../tests/helpers/engine';
import { startWorkers } from '../workers/index';
import {
  benchContext,
  benchDatabase,
  benchOrg,
  describeMachine,
  publishedCount,
  spawnFake,
  waitFor,
} from './engine-support';
import { percentile, writeSection } from './measure';

const SPAN_MS = Number(process.env.BENCH_SPAN_MS ?? 200_000);
const AHEAD = Number(process.env.BENCH_AHEAD ?? 150);
const NOW = Number(process.env.BENCH_NOW ?? 50);

const bench = await benchDatabase();
const fake = await spawnFake();
const { ctx, config, redisTarget, close } = await benchContext(bench, fake.url);
const org = await benchOrg(ctx);
const machine = await describeMachine(bench, redisTarget);
console.log(machine);
const scheduledChannel = await org.channel('sandbox', 'scheduled ahead');
const approvedChannel = await org.channel('sandbox', 'approved for now');

const workers = await startWorkers(ctx);
const start = Date.now() + 20_000;
// Scheduled ahead: due at random moments over the span, created now (most beyond the horizon).
await insertDeliveries(ctx.db, {
  unitId: org.unitId,
  authorId: org.authorId,
  targets: Array.from({ length: AHEAD }, () => ({
    channelId: scheduledChannel,
    dueAt: new Date(start + Math.random() * SPAN_MS),
  })),
});
// Approved for now: created at random moments and queued right after, as an approval does.
const approvals = Array.from({ length: NOW }, () => start + Math.random() * SPAN_MS).sort((a, b) => a - b);
for (const at of approvals) {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
  const ids = await insertDeliveries(ctx.db, {
    unitId: org.unitId,
    authorId: org.authorId,
    targets: [{ channelId: approvedChannel, dueAt: new Date() }],
  });
  await enqueueDueDeliveries(ctx, ids);
}
await waitFor(
  async () =>
    (await publishedCount(ctx, scheduledChannel)) === AHEAD &&
    (await publishedCount(ctx, approvedChannel)) === NOW,
  SPAN_MS + 120_000,
  500,
);

async function lateness(channelId: string): Promise<number[]> {
  const rows = await queryRows<{ ms: number }>(
    ctx.db,
    sql`select (extract(epoch from a.started_at - d.due_at) * 1000)::float8 as ms
      from deliveries d join delivery_attempts a on a.delivery_id = d.id and a.number = 1
      where d.channel_id = ${channelId}::uuid`,
  );
  return rows.map((row) => Number(row.ms));
}
const ahead = await lateness(scheduledChannel);
const now = await lateness(approvedChannel);
await workers.close();
await close();
fake.stop();
await bench.database.close();
await bench.drop();

const row = (name: string, values: number[]) =>
  `| ${name} | ${values.length} | ${percentile(values, 50).toFixed(1)} ms | ${percentile(values, 90).toFixed(1)} ms | ${percentile(values, 99).toFixed(1)} ms | ${Math.max(...values).toFixed(1)} ms | ${Math.min(...values).toFixed(1)} ms |`;
const all = [...ahead, ...now];
const p99 = percentile(all, 99);
console.log(row('scheduled ahead', ahead));
console.log(row('approved for now', now));
console.log(`p99 over all: ${p99.toFixed(1)} ms`);

writeSection(
  'engine-punctuality',
  `
## Publishing engine: punctuality on an idle system

Command: \`npm run bench:punctuality\` (bench/engine-punctuality.ts).

Machine: ${machine}

Setup: PostgreSQL, Redis, the fake platform in a process of its own, the workers with the default settings (horizon ${config.GAUNG_HORIZON_SECONDS} s, sweep every ${config.GAUNG_SWEEP_EVERY_MS / 1000} s, concurrency ${config.GAUNG_WORKER_CONCURRENCY}). Over ${Math.round(SPAN_MS / 1000)} s: ${AHEAD} deliveries scheduled ahead at random moments (created at the start, most of them beyond the horizon, so the sweep brings them into Redis as their time nears) and ${NOW} approvals "due now" at random moments (queued right after the commit). Lateness = start of the publish attempt − due time.

| path | deliveries | p50 | p90 | p99 | max | min |
|---|---:|---:|---:|---:|---:|---:|
${row('scheduled ahead', ahead)}
${row('approved for now', now)}

p99 over all: **${p99.toFixed(1)} ms** (target ≤ 250 ms). Nothing started before its due time (min ≥ 0).
`,
);
process.exit(0);
