import { type Job, Worker, type WorkerOptions } from 'bullmq';
import type { AppContext } from '../src/context';
import { preloadLazyModules } from '../src/infra/lazy-require';
import type { QueueName, QueuePayloads } from '../src/queues/index';
import { upsertMaintenanceSchedulers } from '../src/queues/producers';
import { workerConnection } from '../src/queues/redis';
import { expireClaimsOfGoneWorkers, sweep } from '../src/services/maintenance';
import { type PublishWorker, WORKER_NAME } from '../src/services/publishing';
import { HEARTBEAT_MS, startLiveness } from '../src/services/worker-liveness';
import { processIngest } from './ingest';
import { processMaintenance } from './maintenance';
import { processMetrics } from './metrics';
import { processNotify } from './notify';
import { processPublish } from './publish';

/** The running processors of one process; `close` lets active jobs finish (bounded by the caller). */
export interface RunningWorkers {
  close(): Promise<void>;
}

type Processor<N extends QueueName> = (
  job: Job<QueuePayloads[N]>,
  token: string | undefined,
) => Promise<unknown>;

/**
 * Starts a Worker per queue, each on its own Redis connection, and the recurring housekeeping. A
 * watchdog re-creates the job schedulers when Redis lost them (flush, failover to an empty replica)
 * and sweeps at once, so the queue is rebuilt from Postgres within one sweep interval. The process
 * heartbeats in Redis and, twice a beat, hands the claims of workers that are gone to reconciliation.
 */
export async function startWorkers(ctx: AppContext): Promise<RunningWorkers> {
  await preloadLazyModules();
  const liveness = await startLiveness(ctx, WORKER_NAME);
  const publisher: PublishWorker = { name: WORKER_NAME, liveness };
  const connections = new Set<ReturnType<typeof workerConnection>>();
  const workers: Worker[] = [];

  function start<N extends QueueName>(
    name: N,
    processor: Processor<N>,
    options: Partial<WorkerOptions>,
  ): void {
    const connection = workerConnection(ctx.redisTarget);
    connections.add(connection);
    const worker = new Worker<QueuePayloads[N]>(name, (job, token) => processor(job, token), {
      connection,
      prefix: ctx.redisPrefix,
      ...options,
    });
    worker.on('failed', (job, error) =>
      ctx.log.warn({ err: error, queue: name, jobId: job?.id, attempt: job?.attemptsMade }, 'job failed'),
    );
    worker.on('error', (error) => ctx.log.warn({ err: error, queue: name }, 'worker error'));
    workers.push(worker as unknown as Worker);
  }

  // A job whose worker died comes back within seconds, as its claims do (the claim decides what runs).
  const lockMs = Math.min(5_000, ctx.config.GAUNG_LEASE_SECONDS * 500);
  start('publish', (job, token) => processPublish(ctx, job, token, publisher), {
    concurrency: ctx.config.GAUNG_WORKER_CONCURRENCY,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    // Re-running a job whose worker died is safe (the claim decides), so stalls need not fail it.
    maxStalledCount: 5,
  });
  start('maintenance', (job) => processMaintenance(ctx, job), { concurrency: 2 });
  start('metrics', (job, token) => processMetrics(ctx, job, token), { concurrency: 4 });
  start('notify', (job) => processNotify(ctx, job), { concurrency: 4 });
  start('ingest', (job) => processIngest(ctx, job), { concurrency: 2 });

  await upsertMaintenanceSchedulers(ctx);
  let checking = false;
  const watchdog = setInterval(async () => {
    if (checking) return;
    checking = true;
    try {
      if (!(await ctx.queues.maintenance.getJobScheduler('sweep'))) {
        ctx.log.warn('the maintenance schedulers are gone from Redis; re-creating them and sweeping now');
        await upsertMaintenanceSchedulers(ctx);
        await sweep(ctx);
      }
    } catch (error) {
      ctx.log.warn({ err: error }, 'maintenance watchdog failed');
    } finally {
      checking = false;
    }
  }, ctx.config.GAUNG_SWEEP_EVERY_MS);
  watchdog.unref();

  let watching = false;
  const claimWatch = setInterval(async () => {
    if (watching) return;
    watching = true;
    try {
      await expireClaimsOfGoneWorkers(ctx, WORKER_NAME);
    } catch (error) {
      ctx.log.warn({ err: error }, 'could not check for claims of workers that are gone');
    } finally {
      watching = false;
    }
  }, HEARTBEAT_MS / 2);
  claimWatch.unref();

  ctx.log.info({ concurrency: ctx.config.GAUNG_WORKER_CONCURRENCY }, 'workers started');
  return {
    async close() {
      clearInterval(watchdog);
      clearInterval(claimWatch);
      await Promise.all(workers.map((worker) => worker.close()));
      await liveness.stop();
      for (const connection of connections) connection.disconnect();
    },
  };
}
