import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { invalid } from '../domain/errors';
import { requireActor } from '../http/auth';
import { reportQuery, reportView } from '../schemas/reports';
import { reportCsv, reportXlsx } from '../services/report-exports';
import { unitReport } from '../services/reports';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Reports for a unit: its subtree for reviewers and admins, the unit itself for contributors. */
export const reportRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/reports/units',
    {
      schema: {
        tags: ['reports'],
        description:
          'Per office, region, channel or platform: posts submitted and decided, time to a first decision, deliveries published and failed, reach and engagements at 1 h, 24 h, 7 d and as last measured, the share of the national accounts, week by week in the caller’s time zone, and the top posts. JSON, CSV (`Accept: text/csv` or `format=csv`) or XLSX (`format=xlsx`).',
        querystring: reportQuery,
        response: {
          200: z.union([reportView, z.string().describe('text/csv'), z.instanceof(Buffer).describe('XLSX')]),
        },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const { query } = request;
      const to = query.to ? new Date(query.to) : ctx.now();
      const from = query.from ? new Date(query.from) : new Date(to.getTime() - 30 * DAY_MS);
      if (to <= from) throw invalid([{ field: 'to', message: 'must be after from', code: 'empty_range' }]);
      const report = await unitReport(ctx, actor, {
        unitId: query.unit,
        from,
        to,
        group: query.group,
        platforms: query.platform,
        channelIds: query.channel,
      });
      const format = query.format ?? (/\btext\/csv\b/.test(request.headers.accept ?? '') ? 'csv' : 'json');
      if (format === 'json') return report;
      const name = `gaung-${query.group}-${from.toISOString().slice(0, 10)}-${to.toISOString().slice(0, 10)}`;
      if (format === 'csv')
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${name}.csv"`)
          .send(reportCsv(report));
      return reply
        .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
        .header('content-disposition', `attachment; filename="${name}.xlsx"`)
        .send(await reportXlsx(report, `${report.from} – ${report.to} (${report.timeZone})`));
    },
  );
};
