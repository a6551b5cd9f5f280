import type { Job } from 'bullmq';
import type { AppContext } from '../src/context';
import type { QueuePayloads } from '../src/queues/index';
import { pollSource } from '../src/services/sources';
import { runTelegramBotRound } from '../src/services/telegram-sources';

/**
 * The `ingest` queue: one poll of an office source, bringing its new items in as posts, or one round
 * of the Telegram source bot (every Telegram source at once). A job queued before sources were called
 * feeds names its source `feedId`.
 */
export function processIngest(
  ctx: AppContext,
  job: Job<QueuePayloads['ingest'] | { feedId: string }>,
): Promise<unknown> {
  const { data } = job;
  if ('telegramBotId' in data) return runTelegramBotRound(ctx);
  return pollSource(ctx, 'sourceId' in data ? data.sourceId : data.feedId);
}
