import { type Job, UnrecoverableError } from 'bullmq';
import type { AppContext } from '../src/context';
import type { QueuePayloads } from '../src/queues/index';
import { PermanentNotifyError, sendNotificationEmail, sendUnitWebhook } from '../src/services/notifications';

/**
 * The `notify` queue: e-mails and unit webhooks about decisions and publish outcomes. A failure is
 * thrown so BullMQ retries with backoff; a receiver's definite refusal ends the job at once.
 */
export async function processNotify(
  ctx: AppContext,
  job: Job<QueuePayloads['notify']>,
): Promise<{ sent: boolean }> {
  const { data } = job;
  try {
    const sent =
      data.via === 'email'
        ? await sendNotificationEmail(ctx, data.notificationId)
        : await sendUnitWebhook(ctx, data.postEventId);
    return { sent };
  } catch (error) {
    ctx.log.warn(
      { err: error, jobId: job.id, via: data.via, attempt: job.attemptsMade + 1 },
      'notify failed',
    );
    if (error instanceof PermanentNotifyError) throw new UnrecoverableError(error.message);
    throw error;
  }
}
