import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { invalid } from '../domain/errors';
import { PLATFORMS } from '../domain/vocabulary';
import { authorize, requireActor } from '../http/auth';
import { unitsReport, unitsReportCsv } from '../services/reports';
import { loadUnit } from '../services/units';

const isoTime = z.iso.datetime({ offset: true });
const perPlatform = z.partialRecord(z.enum(PLATFORMS), z.number().int());
const DAY_MS = 24 * 60 * 60 * 1000;

const unitsReportView = z.object({
  from: z.string(),
  to: z.string(),
  units: z.array(
    z.object({
      unit: z.object({ id: z.uuid(), name: z.string(), kind: z.string() }),
      posts: z.object({
        submitted: z.number().int(),
        approved: z.number().int(),
        rejected: z.number().int(),
      }),
      published: perPlatform,
      failed: perPlatform,
      reach: z.object({ impressions: z.number(), likes: z.number(), reposts: z.number() }),
    }),
  ),
});

/** Reports for reviewers and admins over their subtree. */
export const reportRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/reports/units',
    {
      schema: {
        tags: ['reports'],
        description:
          'Per originating unit: posts submitted, approved and rejected; deliveries published and failed per platform; reach from the latest engagement snapshots. JSON, or CSV with `Accept: text/csv` or `format=csv`.',
        querystring: z.strictObject({
          from: isoTime.optional().describe('Default: 30 days before `to`'),
          to: isoTime.optional().describe('Default: now'),
          unit: z.uuid().optional().describe("A unit of the caller's subtree (default: the caller's unit)"),
          format: z.enum(['json', 'csv']).optional(),
        }),
        response: { 200: z.union([unitsReportView, z.string().describe('text/csv')]) },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const unitPath = request.query.unit ? (await loadUnit(ctx, request.query.unit)).path : actor.unitPath;
      authorize(actor, 'report.read', { type: 'report', unitPath }, 'Unit');
      const to = request.query.to ? new Date(request.query.to) : ctx.now();
      const from = request.query.from ? new Date(request.query.from) : new Date(to.getTime() - 30 * DAY_MS);
      if (to <= from) throw invalid([{ field: 'to', message: 'must be after from', code: 'empty_range' }]);
      const report = await unitsReport(ctx, unitPath, from, to);
      const wantsCsv =
        request.query.format === 'csv' ||
        (request.query.format === undefined && /\btext\/csv\b/.test(request.headers.accept ?? ''));
      if (!wantsCsv) return report;
      const name = `gaung-units-${from.toISOString().slice(0, 10)}-${to.toISOString().slice(0, 10)}.csv`;
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(unitsReportCsv(report));
    },
  );
};
