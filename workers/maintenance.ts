import type { Job } from 'bullmq';
import type { AppContext } from '../src/context';
import type { QueuePayloads } from '../src/queues/index';
import { refreshChannelCredentials, scheduleMetricsSnapshots, sweep } from '../src/services/maintenance';
import { collectGarbageMedia } from '../src/services/media';
import { sweepReviewerNotices } from '../src/services/reviewer-notices';

/** The `maintenance` queue: the sweep, metrics scheduling, media garbage collection, token refresh, reviewer notices. */
export async function processMaintenance(
  ctx: AppContext,
  job: Job<QueuePayloads['maintenance']>,
): Promise<unknown> {
  const task = job.data;
  switch (task.task) {
    case 'sweep':
      return sweep(ctx);
    case 'metrics-due':
      return { queued: await scheduleMetricsSnapshots(ctx) };
    case 'media-gc':
      return collectGarbageMedia(ctx);
    case 'notices':
      return sweepReviewerNotices(ctx);
    case 'refresh-credentials':
      return refreshChannelCredentials(ctx, task.channelId);
  }
}
