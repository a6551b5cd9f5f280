import { type Job, UnrecoverableError } from 'bullmq';
import type { AppContext } from '../src/context';
import type { QueuePayloads } from '../src/queues/index';
import { deliverOutboxEntry, PermanentNotifyError } from '../src/services/notifications';

/**
 * The `notify` queue: e-mails and unit webhooks about decisions and publish outcomes, one outbox
 * row per job. A failure is thrown so BullMQ retries with backoff; a receiver's definite refusal
 * ends the job at once.
 */
export async function processNotify(
  ctx: AppContext,
  job: Job<QueuePayloads['notify']>,
): Promise<{ sent: boolean }> {
  const lastTry = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  try {
    return await deliverOutboxEntry(ctx, job.data.outboxId, lastTry);
  } catch (error) {
    ctx.log.warn({ err: error, jobId: job.id, attempt: job.attemptsMade + 1 }, 'notify failed');
    if (error instanceof PermanentNotifyError) throw new UnrecoverableError(error.message);
    throw error;
  }
}
