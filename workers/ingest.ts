import type { Job } from 'bullmq';
import type { AppContext } from '../src/context';
import type { QueuePayloads } from '../src/queues/index';
import { pollSource } from '../src/services/sources';

/**
 * The `ingest` queue: one poll of an office source, bringing its new items in as posts. A job queued
 * before sources were called feeds names its source `feedId`.
 */
export function processIngest(
  ctx: AppContext,
  job: Job<QueuePayloads['ingest'] | { feedId: string }>,
): Promise<unknown> {
  return pollSource(ctx, 'sourceId' in job.data ? job.data.sourceId : job.data.feedId);
}
