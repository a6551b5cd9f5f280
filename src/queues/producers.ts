import { and, eq, inArray, isNull, lte } from 'drizzle-orm';
import type { AppContext } from '../context';
import { channels, deliveries } from '../db/schema';
import type { MetricWindow } from '../domain/vocabulary';

/**
 * Everything that puts jobs into Redis. Jobs carry ids; Postgres holds the truth, so a lost job is
 * found again by the sweeper and a duplicate job finds nothing left to do.
 */

/**
 * BullMQ forbids ':' in custom job ids. A delivery id plus its attempt count makes a double enqueue
 * of the same work a no-op, while the next attempt gets a job of its own.
 */
export const publishJobId = (deliveryId: string, attempts: number) => `delivery-${deliveryId}-${attempts}`;

/**
 * Finished publish jobs leave Redis at once (every attempt is a row in Postgres), so the sweeper can
 * queue the same attempt again after a wait. `attempts`/`backoff` only cover the processor itself
 * failing (the database away); a failed job stays visible on the dashboard for a while.
 */
export const PUBLISH_JOB_OPTIONS = {
  removeOnComplete: true,
  removeOnFail: { age: 10 * 60, count: 1_000 },
  attempts: 8,
  backoff: { type: 'exponential', delay: 1_000 },
} as const;

export interface PublishTarget {
  id: string;
  /** The delivery's attempt count now (names the job). */
  attempts: number;
  dueAt: Date;
}

const CHUNK = 1_000;

/** Adds one publish job per target, delayed until it is due; targets already queued are left alone. */
export async function enqueuePublishJobs(ctx: AppContext, targets: readonly PublishTarget[]): Promise<void> {
  const now = ctx.now().getTime();
  for (let start = 0; start < targets.length; start += CHUNK) {
    await ctx.queues.publish.addBulk(
      targets.slice(start, start + CHUNK).map((target) => ({
        name: 'publish',
        data: { deliveryId: target.id, attempt: target.attempts },
        opts: {
          ...PUBLISH_JOB_OPTIONS,
          jobId: publishJobId(target.id, target.attempts),
          delay: Math.max(0, target.dueAt.getTime() - now),
        },
      })),
    );
  }
}

/** Retraction jobs share the publish queue, named apart: the processor takes them to the retraction engine. */
export const retractionJobId = (deliveryId: string, attempts: number) =>
  `retraction-${deliveryId}-${attempts}`;

/** One retraction job per target and attempt count; a target whose job still waits adds nothing. */
export async function enqueueRetractionJobs(
  ctx: AppContext,
  targets: readonly PublishTarget[],
): Promise<void> {
  const now = ctx.now().getTime();
  for (let start = 0; start < targets.length; start += CHUNK) {
    await ctx.queues.publish.addBulk(
      targets.slice(start, start + CHUNK).map((target) => ({
        name: 'retract',
        data: { deliveryId: target.id, attempt: target.attempts, retraction: true as const },
        opts: {
          ...PUBLISH_JOB_OPTIONS,
          jobId: retractionJobId(target.id, target.attempts),
          delay: Math.max(0, target.dueAt.getTime() - now),
        },
      })),
    );
  }
}

/**
 * Those of the targets that have no job in Redis (any state). One pipelined EXISTS per target is much
 * cheaper than re-adding a job BullMQ would ignore, which matters when thousands are due at once.
 */
export async function withoutPublishJob(
  ctx: AppContext,
  targets: readonly PublishTarget[],
): Promise<PublishTarget[]> {
  const missing: PublishTarget[] = [];
  for (let start = 0; start < targets.length; start += CHUNK) {
    const slice = targets.slice(start, start + CHUNK);
    const pipeline = ctx.redis.pipeline();
    for (const target of slice)
      pipeline.exists(ctx.queues.publish.toKey(publishJobId(target.id, target.attempts)));
    const answers = (await pipeline.exec()) ?? [];
    slice.forEach((target, index) => {
      const [error, exists] = answers[index] ?? [null, 0];
      if (error || exists !== 1) missing.push(target);
    });
  }
  return missing;
}

/**
 * Adds `publish` jobs for those of the given deliveries that are scheduled, on an active channel and
 * due within the horizon; later ones stay in Postgres until the sweeper reaches them. Call after the
 * transaction that created or changed them committed.
 */
export async function enqueueDueDeliveries(ctx: AppContext, deliveryIds: readonly string[]): Promise<number> {
  if (deliveryIds.length === 0) return 0;
  const horizon = new Date(ctx.now().getTime() + ctx.config.GAUNG_HORIZON_SECONDS * 1000);
  const due = await ctx.db
    .select({ id: deliveries.id, dueAt: deliveries.dueAt, attempts: deliveries.attempts })
    .from(deliveries)
    .innerJoin(channels, eq(channels.id, deliveries.channelId))
    .where(
      and(
        inArray(deliveries.id, [...deliveryIds]),
        eq(deliveries.status, 'scheduled'),
        lte(deliveries.dueAt, horizon),
        eq(channels.status, 'active'),
        isNull(channels.archivedAt),
      ),
    );
  await enqueuePublishJobs(ctx, due);
  return due.length;
}

/**
 * After a delivery was moved to another time: its waiting job follows (or leaves Redis when the new
 * time is beyond the horizon), or a job is added when there was none.
 */
export async function followRescheduledDelivery(ctx: AppContext, target: PublishTarget): Promise<void> {
  const delay = Math.max(0, target.dueAt.getTime() - ctx.now().getTime());
  const withinHorizon = delay <= ctx.config.GAUNG_HORIZON_SECONDS * 1000;
  const job = await ctx.queues.publish.getJob(publishJobId(target.id, target.attempts));
  if (job && (await job.getState()) === 'delayed') {
    if (withinHorizon) await job.changeDelay(delay);
    else await job.remove();
    return;
  }
  // A job that is already running reads the new time from Postgres and waits for it.
  if (!job && withinHorizon) await enqueuePublishJobs(ctx, [target]);
}

/** Removes a cancelled delivery's waiting job (a running one finds the delivery cancelled). */
export async function dropPublishJob(
  ctx: AppContext,
  target: { id: string; attempts: number },
): Promise<void> {
  const job = await ctx.queues.publish.getJob(publishJobId(target.id, target.attempts));
  if (job && (await job.getState()) === 'delayed') await job.remove();
}

/** Notify jobs retry with backoff: a receiver that is down for a while still gets the message. */
export const NOTIFY_JOB_OPTIONS = { attempts: 8, backoff: { type: 'exponential', delay: 2_000 } } as const;

/** Adds a `notify` job per outbox row; the job id makes a double enqueue (the sweep's too) a no-op. */
export async function enqueueNotify(ctx: AppContext, outboxIds: readonly number[]): Promise<void> {
  if (outboxIds.length === 0) return;
  await ctx.queues.notify.addBulk(
    outboxIds.map((outboxId) => ({
      name: 'notify',
      data: { outboxId },
      opts: { ...NOTIFY_JOB_OPTIONS, jobId: `notify-${outboxId}` },
    })),
  );
}

const HOUSEKEEPING_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { age: 24 * 60 * 60, count: 500 },
} as const;

/**
 * One poll job per source and due time: the sweep may offer the same poll many times, it runs once.
 * The poll itself claims the source in Postgres, so a job that survived a flush finds nothing to do.
 */
export async function enqueueSourcePolls(
  ctx: AppContext,
  due: readonly { sourceId: string; dueAt: Date }[],
): Promise<void> {
  if (due.length === 0) return;
  await ctx.queues.ingest.addBulk(
    due.map(({ sourceId, dueAt }) => ({
      name: 'poll',
      data: { sourceId },
      // Finished jobs leave at once, failed ones too (the error is logged): the sweep offers the poll again.
      opts: {
        ...HOUSEKEEPING_JOB_OPTIONS,
        removeOnComplete: true,
        removeOnFail: true,
        jobId: `source-${sourceId}-${dueAt.getTime()}`,
      },
    })),
  );
}

/** One metrics snapshot job per (delivery, window): a second request for the same snapshot is a no-op. */
export async function enqueueMetricsSnapshots(
  ctx: AppContext,
  snapshots: readonly { deliveryId: string; window: MetricWindow }[],
): Promise<void> {
  for (let start = 0; start < snapshots.length; start += CHUNK) {
    await ctx.queues.metrics.addBulk(
      snapshots.slice(start, start + CHUNK).map((snapshot) => ({
        name: 'snapshot',
        data: snapshot,
        opts: { ...HOUSEKEEPING_JOB_OPTIONS, jobId: `metrics-${snapshot.deliveryId}-${snapshot.window}` },
      })),
    );
  }
}

/** A refresh that failed all its tries is offered again this much later (a failed job's id stays a day). */
export const CREDENTIAL_REFRESH_RETRY_MS = 10 * 60_000;

/**
 * One refresh per channel, expiry and ten minutes: sweeps that see the same expiring token add
 * nothing while its refresh waits or retries, and one that failed (the platform away) is tried again
 * in the next ten minutes, while the token still works, rather than when Redis forgets the failure.
 */
export async function enqueueCredentialRefresh(
  ctx: AppContext,
  expiring: readonly { channelId: string; expiresAt: Date }[],
  now: Date,
): Promise<void> {
  if (expiring.length === 0) return;
  const round = Math.floor(now.getTime() / CREDENTIAL_REFRESH_RETRY_MS);
  await ctx.queues.maintenance.addBulk(
    expiring.map((channel) => ({
      name: 'refresh-credentials',
      data: { task: 'refresh-credentials', channelId: channel.channelId },
      opts: {
        ...HOUSEKEEPING_JOB_OPTIONS,
        jobId: `refresh-${channel.channelId}-${channel.expiresAt.getTime()}-${round}`,
      },
    })),
  );
}

/**
 * One round of the Telegram source bot, which reads every Telegram source's channel at once, at
 * `dueAt` (at once when it has passed). The job id carries the due time, so the sweep may offer a
 * round many times and it runs once.
 */
export async function enqueueTelegramBotRound(ctx: AppContext, botToken: string, dueAt: Date): Promise<void> {
  const botId = botToken.split(':')[0]!;
  await ctx.queues.ingest.add(
    'telegram-bot',
    { telegramBotId: botId },
    {
      ...HOUSEKEEPING_JOB_OPTIONS,
      removeOnComplete: true,
      removeOnFail: true,
      jobId: `telegram-bot-${botId}-${dueAt.getTime()}`,
      delay: Math.max(0, dueAt.getTime() - ctx.now().getTime()),
    },
  );
}

/** The recurring housekeeping, as BullMQ job schedulers (an upsert is idempotent, so every worker may call it). */
export async function upsertMaintenanceSchedulers(ctx: AppContext): Promise<void> {
  const template = (task: 'sweep' | 'metrics-due' | 'media-gc' | 'notices') => ({
    name: task,
    data: { task },
    opts: { removeOnComplete: { count: 10 }, removeOnFail: { count: 100 } },
  });
  await ctx.queues.maintenance.upsertJobScheduler(
    'sweep',
    { every: ctx.config.GAUNG_SWEEP_EVERY_MS },
    template('sweep'),
  );
  await ctx.queues.maintenance.upsertJobScheduler(
    'metrics-due',
    { every: 5 * 60 * 1000 },
    template('metrics-due'),
  );
  await ctx.queues.maintenance.upsertJobScheduler('notices', { every: 60 * 1000 }, template('notices'));
  await ctx.queues.maintenance.upsertJobScheduler(
    'media-gc',
    { every: 60 * 60 * 1000 },
    template('media-gc'),
  );
}
