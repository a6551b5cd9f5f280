import { accessTable, call, everyone, statuses } from './table';

/** Reports of a subtree for its reviewers and admins; of their own unit for contributors. */

export const reportsTable = accessTable({
  name: 'reports',
  rows: [
    {
      route: 'GET /api/v1/reports/units',
      case: 'own subtree',
      request: () => call('GET', '/api/v1/reports/units'),
      expect: everyone(200),
    },
    {
      route: 'GET /api/v1/reports/units',
      case: 'region A',
      request: (_actor, _f, { org }) => call('GET', `/api/v1/reports/units?unit=${org.units.regionA.id}`),
      expect: statuses({
        national: [404, 200, 200],
        regionA: [200, 200, 200],
        regionB: [404, 404, 404],
        officeA1: [403, 403, 403],
        officeA2: [403, 403, 403],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    {
      route: 'GET /api/v1/reports/units',
      case: 'office A1 as XLSX',
      request: (_actor, _f, { org }) =>
        call('GET', `/api/v1/reports/units?unit=${org.units.officeA1.id}&format=xlsx`),
      expect: statuses({
        national: [404, 200, 200],
        regionA: [404, 200, 200],
        regionB: [404, 404, 404],
        officeA1: [200, 200, 200],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
  ],
});
