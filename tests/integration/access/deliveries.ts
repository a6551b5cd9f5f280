import { eq } from 'drizzle-orm';
import { deliveries } from '../../../src/db/schema';
import { insertChannel } from '../../helpers/posts';
import { officeA1Post } from './posts';
import { accessTable, type ByUnit, call, everyone, type MatrixEnv, statuses } from './table';

/**
 * Deliveries of a post of office A1 on a national channel: seen by whoever sees the post or controls
 * the channel; steered only by the national reviewers and admins, who control the channel.
 */

const inAWeek = () => new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString();

/** A fresh delivery, approved by humas, in the given status. */
export async function freshDelivery(
  env: MatrixEnv,
  channel: string,
  status: 'scheduled' | 'failed' | 'published' | 'retraction_needs_attention',
) {
  const post = await officeA1Post(env, true);
  const response = await env.app.inject({
    method: 'POST',
    url: `/api/v1/posts/${post.id}/approve`,
    headers: env.org.user('national', 'reviewer').headers,
    payload: { version: post.version, targets: [{ channelId: channel, at: inAWeek() }] },
  });
  if (response.statusCode !== 200) throw new Error(`approve failed: ${response.body}`);
  const delivery = (response.json() as { deliveries: Array<{ id: string; version: number }> }).deliveries[0]!;
  // A failed attempt is the engine's business; the row is set to the state the route acts on.
  if (status === 'failed')
    await env.ctx.db
      .update(deliveries)
      .set({ status: 'failed', lastError: 'HTTP 500 from the platform' })
      .where(eq(deliveries.id, delivery.id));
  if (status === 'published' || status === 'retraction_needs_attention')
    await env.ctx.db
      .update(deliveries)
      .set({
        status,
        publishedAt: new Date(),
        remoteUrl: 'https://sandbox.example/posts/2',
        ...(status === 'retraction_needs_attention' ? { retractionReason: 'Salah tanggal' } : {}),
      })
      .where(eq(deliveries.id, delivery.id));
  return { ...delivery, postId: post.id };
}

/** Steering a delivery of a post of office A1 on a national channel: the national reviewers and admins. */
export const steeringNational = (ok: number): ByUnit => ({
  national: [404, ok, ok],
  regionA: [404, 403, 403],
  regionB: [404, 404, 404],
  officeA1: [403, 403, 403],
  officeA2: [404, 404, 404],
  officeB1: [404, 404, 404],
  officeB2: [404, 404, 404],
});

const steer = (ok: number) => statuses(steeringNational(ok));

export const deliveriesTable = accessTable<{ channel: string; scheduled: string }>({
  name: 'deliveries',
  setup: async (env) => {
    const channel = await insertChannel(env.ctx, env.org.units.national, 'sandbox', {
      name: 'Sandbox Pusat',
    });
    return { channel, scheduled: (await freshDelivery(env, channel, 'scheduled')).id };
  },
  rows: [
    {
      route: 'GET /api/v1/deliveries',
      request: () => call('GET', '/api/v1/deliveries'),
      expect: everyone(200),
    },
    {
      route: 'GET /api/v1/deliveries/:id',
      request: (_actor, f) => call('GET', `/api/v1/deliveries/${f.scheduled}`),
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
    {
      route: 'POST /api/v1/deliveries/:id/metrics/refresh',
      case: 'scheduled, so nothing to measure yet',
      request: (_actor, f) => call('POST', `/api/v1/deliveries/${f.scheduled}/metrics/refresh`),
      expect: statuses({
        national: [404, 409, 409],
        regionA: [404, 409, 409],
        regionB: [404, 404, 404],
        officeA1: [409, 409, 409],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    {
      route: 'PATCH /api/v1/deliveries/:id',
      case: 'reschedule',
      request: async (_actor, f, env) => {
        const delivery = await freshDelivery(env, f.channel, 'scheduled');
        return call('PATCH', `/api/v1/deliveries/${delivery.id}`, {
          dueAt: inAWeek(),
          version: delivery.version,
        });
      },
      expect: steer(200),
    },
    {
      route: 'POST /api/v1/deliveries/:id/cancel',
      request: async (_actor, f, env) =>
        call('POST', `/api/v1/deliveries/${(await freshDelivery(env, f.channel, 'scheduled')).id}/cancel`),
      expect: steer(200),
    },
    {
      route: 'POST /api/v1/deliveries/:id/retry',
      case: 'a failed delivery',
      request: async (_actor, f, env) =>
        call('POST', `/api/v1/deliveries/${(await freshDelivery(env, f.channel, 'failed')).id}/retry`),
      expect: steer(200),
    },
    {
      route: 'POST /api/v1/posts/:id/retract',
      case: 'a post published on the national channel',
      request: async (_actor, f, env) => {
        const delivery = await freshDelivery(env, f.channel, 'published');
        const post = await env.app.inject({
          method: 'GET',
          url: `/api/v1/posts/${delivery.postId}`,
          headers: env.org.user('national', 'admin').headers,
        });
        return call('POST', `/api/v1/posts/${delivery.postId}/retract`, {
          version: (post.json() as { version: number }).version,
          reason: 'Tanggal layanan salah',
        });
      },
      expect: steer(200),
    },
    {
      route: 'POST /api/v1/deliveries/:id/confirm-retracted',
      case: 'a retraction a person must finish',
      request: async (_actor, f, env) =>
        call(
          'POST',
          `/api/v1/deliveries/${(await freshDelivery(env, f.channel, 'retraction_needs_attention')).id}/confirm-retracted`,
        ),
      expect: steer(200),
    },
    {
      route: 'POST /api/v1/deliveries/:id/confirm',
      case: 'a failed delivery that was in fact published',
      request: async (_actor, f, env) =>
        call('POST', `/api/v1/deliveries/${(await freshDelivery(env, f.channel, 'failed')).id}/confirm`, {
          url: 'https://sandbox.example/posts/1',
        }),
      expect: steer(200),
    },
  ],
});
