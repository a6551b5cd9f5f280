import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { sendProblem } from '../http/problem';
import { sha256Hex } from '../infra/crypto';
import { QUEUE_NAMES } from '../queues/index';
import { refreshDeliveryGauges } from '../services/maintenance';

type Check = 'ok' | 'not_ready';

/** Whether a request carries `Authorization: Bearer <token>` (compared in constant time). */
function bearerMatches(request: FastifyRequest, token: string): boolean {
  const match = /^Bearer +(\S+)$/i.exec(request.headers.authorization ?? '');
  if (!match) return false;
  // Hashes have one length, so the comparison tells nothing about the token's.
  return timingSafeEqual(Buffer.from(sha256Hex(match[1]!)), Buffer.from(sha256Hex(token)));
}

/**
 * Liveness, readiness and Prometheus figures, outside /api/v1. /healthz and /readyz are open to
 * health checks and say only ok or not_ready (why goes to the log); /metrics, which runs database
 * aggregates, answers only `Authorization: Bearer $GAUNG_METRICS_TOKEN`, and 404 while no token is set.
 */
export const opsRoutes: FastifyPluginAsync = async (app) => {
  const { ctx } = app;

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const checks: Record<string, Check> = {};
    const failed = (name: string) => (error: unknown) => {
      checks[name] = 'not_ready';
      ctx.log.warn({ err: error, check: name }, 'readiness check failed');
    };
    await Promise.all([
      ctx.database
        .ping()
        .then(async () => {
          if (await ctx.database.migrationsApplied()) checks.database = 'ok';
          else failed('database')(new Error('migrations pending'));
        })
        .catch(failed('database')),
      ctx.redis
        .ping()
        .then(() => {
          checks.redis = 'ok';
        })
        .catch(failed('redis')),
    ]);
    if (Object.values(checks).every((v) => v === 'ok')) return { status: 'ok', checks };
    return sendProblem(reply, 503, 'not_ready', 'A dependency is not ready', { extra: { checks } });
  });

  app.get(
    '/metrics',
    { schema: { hide: true }, config: { ownAuthorization: true } },
    async (request, reply) => {
      const token = ctx.config.GAUNG_METRICS_TOKEN;
      if (!token) return sendProblem(reply, 404, 'not_found', 'No route GET /metrics');
      if (!bearerMatches(request, token)) {
        reply.header('www-authenticate', 'Bearer realm="metrics"');
        return sendProblem(reply, 401, 'unauthenticated', 'Present the metrics token as a Bearer token');
      }
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
    },
  );
};
