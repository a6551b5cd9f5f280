import { DelayedError, type Job } from 'bullmq';
import type { AppContext } from '../src/context';
import { waitUntilAfterRateLimit } from '../src/domain/rate-limits';
import { PlatformError } from '../src/platforms/types';
import type { QueuePayloads } from '../src/queues/index';
import { takeMetricsSnapshot } from '../src/services/maintenance';

/**
 * The `metrics` queue: one engagement snapshot per job. A platform rate limit moves the job to the
 * reset time without spending an attempt; other failures are retried by BullMQ with backoff.
 */
export async function processMetrics(
  ctx: AppContext,
  job: Job<QueuePayloads['metrics']>,
  token: string | undefined,
): Promise<string> {
  try {
    return await takeMetricsSnapshot(ctx, job.data.deliveryId, job.data.window);
  } catch (error) {
    if (error instanceof PlatformError && error.classification.kind === 'rate_limited') {
      const until = waitUntilAfterRateLimit(error.classification.until, ctx.now());
      await job.moveToDelayed(until.getTime(), token);
      throw new DelayedError();
    }
    throw error;
  }
}
