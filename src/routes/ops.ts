import type { FastifyPluginAsync } from 'fastify';
import { sendProblem } from '../http/problem';
import { QUEUE_NAMES } from '../queues/index';
import { refreshDeliveryGauges } from '../services/maintenance';

/** Liveness, readiness and Prometheus figures, outside /api/v1. */
export const opsRoutes: FastifyPluginAsync = async (app) => {
  const { ctx } = app;

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const checks: Record<string, string> = {};
    await Promise.all([
      ctx.database
        .ping()
        .then(async () => {
          checks.database = (await ctx.database.migrationsApplied()) ? 'ok' : 'migrations pending';
        })
        .catch((error: Error) => {
          checks.database = error.message;
        }),
      ctx.redis
        .ping()
        .then(() => {
          checks.redis = 'ok';
        })
        .catch((error: Error) => {
          checks.redis = error.message;
        }),
    ]);
    if (Object.values(checks).every((v) => v === 'ok')) return { status: 'ok', checks };
    return sendProblem(reply, 503, 'not_ready', 'A dependency is not ready', { extra: { checks } });
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    await refreshDeliveryGauges(ctx).catch((error: unknown) =>
      ctx.log.warn({ err: error }, 'could not read the delivery figures'),
    );
    await Promise.all(
      QUEUE_NAMES.map(async (name) => {
        const counts = await ctx.queues[name]
          .getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized')
          .catch(() => ({}) as Record<string, number>);
        for (const [state, count] of Object.entries(counts))
          ctx.metrics.queueJobs.set({ queue: name, state }, count);
      }),
    );
    reply.type(ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
};
