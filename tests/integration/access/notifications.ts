import { notifications } from '../../../src/db/schema';
import { accessTable, call, everyone, statuses } from './table';

/** In-app notifications are personal: one of the contributor of office A1 is theirs alone. */

export const notificationsTable = accessTable<{ notification: string }>({
  name: 'notifications',
  setup: async (env) => {
    const [row] = await env.ctx.db
      .insert(notifications)
      .values({ userId: env.org.user('officeA1', 'contributor').id, kind: 'post.approved' })
      .returning({ id: notifications.id });
    return { notification: row!.id };
  },
  rows: [
    {
      route: 'GET /api/v1/notifications',
      request: () => call('GET', '/api/v1/notifications'),
      expect: everyone(200),
    },
    {
      route: 'GET /api/v1/notifications/settings',
      request: () => call('GET', '/api/v1/notifications/settings'),
      expect: everyone(200),
    },
    {
      route: 'PUT /api/v1/notifications/settings',
      case: 'their own',
      request: () =>
        call('PUT', '/api/v1/notifications/settings', {
          emailOptOuts: ['deliveries'],
          dailyDigest: true,
          weeklyDigest: true,
        }),
      expect: everyone(200),
    },
    {
      route: 'POST /api/v1/notifications/read-all',
      request: () => call('POST', '/api/v1/notifications/read-all'),
      expect: everyone(200),
    },
    {
      route: 'GET /api/v1/notifications/webhook',
      case: 'the webhook secret of region A',
      request: (_actor, _f, { org }) =>
        call('GET', `/api/v1/notifications/webhook?unit=${org.units.regionA.id}`),
      expect: statuses({
        national: [404, 403, 200],
        regionA: [403, 403, 200],
        regionB: [404, 404, 404],
        officeA1: [403, 403, 403],
        officeA2: [403, 403, 403],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    {
      route: 'POST /api/v1/notifications/:id/read',
      case: "the contributor of office A1's",
      request: (_actor, f) => call('POST', `/api/v1/notifications/${f.notification}/read`),
      expect: statuses({
        national: [404, 404, 404],
        regionA: [404, 404, 404],
        regionB: [404, 404, 404],
        officeA1: [200, 404, 404],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
  ],
});
