import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyPluginAsync } from 'fastify';
import { AppError } from '../domain/errors';
import { assertCsrf, CSRF_HEADER, requireActor, SAFE_METHODS } from '../http/auth';
import { sendProblem } from '../http/problem';
import { QUEUE_NAMES } from '../queues/index';
import { openQueueDashboard } from '../services/queue-dashboard';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/**
 * The dashboard's page styles itself inline; it gets a policy of its own that allows that and
 * nothing else (no third-party fonts: an admin page makes no requests outside Gaung).
 */
const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "base-uri 'self'",
].join('; ');

/**
 * The BullMQ dashboard at /admin/queues, for admins of the root unit only. Read-only: the queues are
 * transport, Postgres holds the truth, and deliveries are steered through the API (retry, cancel).
 */
export const queueDashboardRoutes: FastifyPluginAsync = async (app) => {
  const { ctx } = app;
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: QUEUE_NAMES.map((name) => new BullMQAdapter(ctx.queues[name], { readOnlyMode: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Gaung queues' } },
  });

  app.addHook('onRequest', async (request, reply) => {
    try {
      const actor = requireActor(request);
      openQueueDashboard(actor);
      // A session's writes carry its CSRF token (header): checked here too, so that refusal is also
      // answered as a problem rather than by the dashboard's own error handler.
      if (actor.via === 'session' && !SAFE_METHODS.has(request.method))
        assertCsrf(ctx, actor, request.headers[CSRF_HEADER]);
    } catch (error) {
      // Answered here: the dashboard's own error handler would turn a refusal into a 500.
      if (error instanceof AppError) return sendProblem(reply, error.status, error.code, error.message);
      throw error;
    }
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', DASHBOARD_CSP);
    return payload;
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: QUEUE_DASHBOARD_PATH });
};
