import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireActor } from '../http/auth';
import { auditPage, auditQuery } from '../schemas/audit';
import { listAudit } from '../services/audit';

/** The audit trail of a subtree, for its admins. */
export const auditRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: "Audit events of a subtree (default: the caller's unit and below), newest first",
        querystring: auditQuery,
        response: {
          200: auditPage,
        },
      },
    },
    async (request) => {
      const { from, to, ...query } = request.query;
      return listAudit(ctx, requireActor(request), {
        ...query,
        from: from ? new Date(from) : undefined,
        to: to ? new Date(to) : undefined,
      });
    },
  );
};
