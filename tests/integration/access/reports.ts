import { accessTable, call, statuses } from './table';

/** Reports of a subtree, for its reviewers and admins. */

export const reportsTable = accessTable({
  name: 'reports',
  rows: [
    {
      route: 'GET /api/v1/reports/units',
      case: 'own subtree',
      request: () => call('GET', '/api/v1/reports/units'),
      expect: statuses({
        national: [403, 200, 200],
        regionA: [403, 200, 200],
        regionB: [403, 200, 200],
        officeA1: [403, 200, 200],
        officeA2: [403, 200, 200],
        officeB1: [403, 200, 200],
        officeB2: [403, 200, 200],
      }),
    },
    {
      route: 'GET /api/v1/reports/units',
      case: 'region A',
      request: (_actor, _f, { org }) => call('GET', `/api/v1/reports/units?unit=${org.units.regionA.id}`),
      expect: statuses({
        national: [404, 200, 200],
        regionA: [403, 200, 200],
        regionB: [404, 404, 404],
        officeA1: [403, 403, 403],
        officeA2: [403, 403, 403],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
  ],
});
