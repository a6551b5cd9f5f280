import type { AppContext } from '../src/context';

/** The running processors of one process; `close` lets active jobs finish (bounded by the caller). */
export interface RunningWorkers {
  close(): Promise<void>;
}

/** Starts every queue's processor and the recurring schedulers. */
export async function startWorkers(ctx: AppContext): Promise<RunningWorkers> {
  const closers: Array<() => Promise<void>> = [];
  ctx.log.info({ concurrency: ctx.config.GAUNG_WORKER_CONCURRENCY }, 'workers started');
  return {
    async close() {
      await Promise.all(closers.map((close) => close()));
    },
  };
}
