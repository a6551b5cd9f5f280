import { Queue, type QueueOptions } from 'bullmq';
import type { MetricWindow } from '../domain/vocabulary';
import type { RedisConnection } from './redis';

/** Queue names and the payload each carries. Jobs carry ids only; Postgres holds the truth. */
export interface QueuePayloads {
  /**
   * One job per delivery attempt (or retraction attempt, `retraction: true`): `attempt` is the
   * delivery's count of attempts when the job was made.
   */
  publish: { deliveryId: string; attempt: number; retraction?: true };
  /** Housekeeping: the sweep (due deliveries, leases, reconciliation, token refresh), metrics, media GC. */
  maintenance:
    | { task: 'sweep' }
    | { task: 'metrics-due' }
    | { task: 'media-gc' }
    /** Reviewer notices: arrivals e-mails, waiting-time alarms, digests. */
    | { task: 'notices' }
    | { task: 'refresh-credentials'; channelId: string };
  metrics: { deliveryId: string; window: MetricWindow };
  /** One poll of an office source, or one round of a Telegram source bot (all its channels at once). */
  ingest: { sourceId: string } | { telegramBotId: string };
  /** One row of the notify outbox: an e-mail or a unit webhook. */
  notify: { outboxId: number };
}

export type QueueName = keyof QueuePayloads;

export const QUEUE_NAMES = [
  'publish',
  'maintenance',
  'metrics',
  'ingest',
  'notify',
] as const satisfies readonly QueueName[];

/** Job names are free text (the dashboard shows them); the payload type follows the queue. */
export type Queues = { [N in QueueName]: Queue<QueuePayloads[N], unknown, string> };

/** Completed and failed jobs are trimmed: history lives in Postgres. */
export const DEFAULT_JOB_OPTIONS = {
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 5_000 },
} as const;

export function createQueues(connection: RedisConnection, prefix: string): Queues {
  const options: QueueOptions = { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS };
  return {
    publish: new Queue('publish', options),
    maintenance: new Queue('maintenance', options),
    metrics: new Queue('metrics', options),
    ingest: new Queue('ingest', options),
    notify: new Queue('notify', options),
  };
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((queue) => queue.close()));
}
