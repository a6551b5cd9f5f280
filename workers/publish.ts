import { DelayedError, type Job } from 'bullmq';
import type { AppContext } from '../src/context';
import type { QueuePayloads } from '../src/queues/index';
import { enqueuePublishJobs, enqueueRetractionJobs } from '../src/queues/producers';
import { advanceDelivery, type PublishWorker } from '../src/services/publishing';
import { advanceRetraction } from '../src/services/retraction';

/**
 * The `publish` queue: one job per delivery attempt or retraction attempt. The service does the work against Postgres and
 * the platform; this turns its answer into BullMQ moves. Waiting (not due yet, a quota, a platform's
 * rate limit) moves the same job to its time without spending a BullMQ attempt; a new attempt gets
 * a job of its own; a wait beyond the horizon leaves the job out of Redis until the sweeper brings
 * it back.
 */
export async function processPublish(
  ctx: AppContext,
  job: Job<QueuePayloads['publish']>,
  token: string | undefined,
  worker: PublishWorker,
): Promise<string> {
  const { deliveryId, retraction } = job.data;
  const step = retraction
    ? await advanceRetraction(ctx, deliveryId)
    : await advanceDelivery(ctx, deliveryId, worker);
  if (step.next === 'done') return step.outcome;
  const delay = step.until.getTime() - ctx.now().getTime();
  if (delay > ctx.config.GAUNG_HORIZON_SECONDS * 1000)
    return `waits until ${step.until.toISOString()} (${step.reason})`;
  if (step.attempts !== job.data.attempt) {
    const next = [{ id: deliveryId, attempts: step.attempts, dueAt: step.until }];
    await (retraction ? enqueueRetractionJobs(ctx, next) : enqueuePublishJobs(ctx, next));
    return `next attempt queued (${step.reason})`;
  }
  await job.moveToDelayed(Date.now() + Math.max(0, delay), token);
  throw new DelayedError();
}
