import type { Job } from 'bullmq';
import type { AppContext } from '../src/context';
import type { QueuePayloads } from '../src/queues/index';
import { pollFeed } from '../src/services/feeds';

/** The `ingest` queue: one poll of an office feed, bringing its new items in as posts. */
export function processIngest(ctx: AppContext, job: Job<QueuePayloads['ingest']>): Promise<unknown> {
  return pollFeed(ctx, job.data.feedId);
}
