import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireActor } from '../http/auth';
import { listAudit } from '../services/audit';

const auditEventSchema = z.object({
  id: z.string(),
  at: z.string(),
  action: z.string(),
  actor: z.object({ id: z.uuid(), name: z.string() }).nullable(),
  unit: z.object({ id: z.uuid(), name: z.string() }).nullable(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  ip: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});

/** The audit trail of a subtree, for its admins. */
export const auditRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: "Audit events of a subtree (default: the caller's unit and below), newest first",
        querystring: z.strictObject({
          unitId: z.uuid().optional(),
          action: z
            .string()
            .max(64)
            .regex(/^[a-z_]+(\.[a-z_]+)*$/, 'an action such as auth.login_failed')
            .optional(),
          from: z.iso.datetime({ offset: true }).optional(),
          to: z.iso.datetime({ offset: true }).optional(),
          cursor: z
            .string()
            .regex(/^\d{1,18}$/, 'the nextCursor of the previous page')
            .optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
        response: {
          200: z.object({ events: z.array(auditEventSchema), nextCursor: z.string().nullable() }),
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
