import { accessTable, call, everyone, statuses } from './table';

/**
 * The days off: everyone signed in reads them, the national admins keep them. Working hours: read
 * like the unit, set by the admins of the unit or above (region A here).
 */

let day = 0;
/** A date of its own for every call, so no two callers collide on the unique date. */
export const freshDate = () => new Date(Date.UTC(2031, 0, 1) + day++ * 86_400_000).toISOString().slice(0, 10);

const nationalAdminOnly = (ok: number) =>
  statuses({
    national: [403, 403, ok],
    regionA: [403, 403, 403],
    regionB: [403, 403, 403],
    officeA1: [403, 403, 403],
    officeA2: [403, 403, 403],
    officeB1: [403, 403, 403],
    officeB2: [403, 403, 403],
  });

const readRegionA = statuses({
  national: [404, 200, 200],
  regionA: [200, 200, 200],
  regionB: [404, 404, 404],
  officeA1: [200, 200, 200],
  officeA2: [200, 200, 200],
  officeB1: [404, 404, 404],
  officeB2: [404, 404, 404],
});

const manageRegionA = statuses({
  national: [404, 403, 200],
  regionA: [403, 403, 200],
  regionB: [404, 404, 404],
  officeA1: [403, 403, 403],
  officeA2: [403, 403, 403],
  officeB1: [404, 404, 404],
  officeB2: [404, 404, 404],
});

export const workingCalendarTable = accessTable({
  name: 'working calendar',
  rows: [
    {
      route: 'GET /api/v1/holidays',
      request: () => call('GET', '/api/v1/holidays?year=2031'),
      expect: everyone(200),
    },
    {
      route: 'POST /api/v1/holidays',
      case: 'a new day off',
      request: () =>
        call('POST', '/api/v1/holidays', {
          date: freshDate(),
          name: 'Cuti bersama',
          kind: 'collective_leave',
        }),
      expect: nationalAdminOnly(201),
    },
    {
      route: 'DELETE /api/v1/holidays/:id',
      case: 'a day off the national admin entered',
      request: async (_actor, _f, env) => {
        const response = await env.app.inject({
          method: 'POST',
          url: '/api/v1/holidays',
          headers: env.org.user('national', 'admin').headers,
          payload: { date: freshDate(), name: 'Hari libur', kind: 'public_holiday' },
        });
        if (response.statusCode !== 201) throw new Error(`holiday failed: ${response.body}`);
        return call('DELETE', `/api/v1/holidays/${(response.json() as { id: string }).id}`);
      },
      expect: nationalAdminOnly(204),
    },
    {
      route: 'GET /api/v1/units/:id/working-hours',
      case: 'region A',
      request: (_actor, _f, { org }) => call('GET', `/api/v1/units/${org.units.regionA.id}/working-hours`),
      expect: readRegionA,
    },
    {
      route: 'PUT /api/v1/units/:id/working-hours',
      case: 'region A',
      request: (_actor, _f, { org }) =>
        call('PUT', `/api/v1/units/${org.units.regionA.id}/working-hours`, {
          days: [1, 2, 3, 4, 5],
          start: '07:30',
          end: '16:00',
          reviewWaitMinutes: 240,
        }),
      expect: manageRegionA,
    },
  ],
});
