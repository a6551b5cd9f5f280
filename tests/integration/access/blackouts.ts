import { adminsOverRegionA } from './channels';
import { accessTable, call, everyone, type MatrixEnv, statuses } from './table';

/** Blackouts over region A: everyone reads those over them; admins of region A or above set and end them. */

const nextYear = (days = 0) => new Date(Date.now() + (365 + days) * 24 * 3600 * 1000).toISOString();

export const overRegionA = (env: MatrixEnv) => ({
  unitId: env.org.units.regionA.id,
  startsAt: nextYear(),
  endsAt: nextYear(3),
  reason: 'Masa tenang pemilihan kepala daerah',
  onEnd: 'reschedule',
});

const manageRegionA = (ok: number) => statuses(adminsOverRegionA(ok));

export const blackoutsTable = accessTable({
  name: 'blackouts',
  rows: [
    {
      route: 'GET /api/v1/blackouts',
      request: () => call('GET', '/api/v1/blackouts'),
      expect: everyone(200),
    },
    {
      route: 'POST /api/v1/blackouts',
      case: 'over region A, next year',
      request: (_actor, _f, env) => call('POST', '/api/v1/blackouts', overRegionA(env)),
      expect: manageRegionA(201),
    },
    {
      route: 'DELETE /api/v1/blackouts/:id',
      case: 'a blackout over region A, called off',
      request: async (_actor, _f, env) => {
        const response = await env.app.inject({
          method: 'POST',
          url: '/api/v1/blackouts',
          headers: env.org.user('national', 'admin').headers,
          payload: overRegionA(env),
        });
        if (response.statusCode !== 201) throw new Error(`blackout failed: ${response.body}`);
        return call('DELETE', `/api/v1/blackouts/${(response.json() as { id: string }).id}`);
      },
      expect: manageRegionA(200),
    },
  ],
});
