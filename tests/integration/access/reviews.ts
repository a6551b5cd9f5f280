import { insertChannel } from '../../helpers/posts';
import { officeA1Post } from './posts';
import { accessTable, type ByUnit, call, type MatrixEnv, statuses } from './table';

/**
 * Review of a submitted post of office A1 onto national channels: reviewers of office A1, region A
 * and the national unit may decide on it; only the national ones may target national channels.
 */

const inAWeek = () => new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString();

export interface Fixtures {
  channel: string;
  other: string;
}

/** A fresh post of office A1 approved by humas onto the national channel. */
export async function approvedPost(env: MatrixEnv, f: Fixtures) {
  const post = await officeA1Post(env, true);
  const response = await env.app.inject({
    method: 'POST',
    url: `/api/v1/posts/${post.id}/approve`,
    headers: env.org.user('national', 'reviewer').headers,
    payload: { version: post.version, targets: [{ channelId: f.channel, at: inAWeek() }] },
  });
  if (response.statusCode !== 200) throw new Error(`approve failed: ${response.body}`);
  return response.json() as { id: string; version: number };
}

/** Deciding on a submitted post of office A1: its reviewers and admins, and those of region A and the national unit. */
export const decidingOnOfficeA1 = (ok: number): ByUnit => ({
  national: [404, ok, ok],
  regionA: [404, ok, ok],
  regionB: [404, 404, 404],
  officeA1: [403, ok, ok],
  officeA2: [404, 404, 404],
  officeB1: [404, 404, 404],
  officeB2: [404, 404, 404],
});

/** Publishing on a national channel: decided by whoever may review, refused (422) unless the channel is theirs. */
export const targetingNational = (ok: number): ByUnit => ({
  national: [404, ok, ok],
  regionA: [404, 422, 422],
  regionB: [404, 404, 404],
  officeA1: [403, 422, 422],
  officeA2: [404, 404, 404],
  officeB1: [404, 404, 404],
  officeB2: [404, 404, 404],
});

/** Deciding on a submitted post of office A1. */
const decide = (ok: number) => statuses(decidingOnOfficeA1(ok));

/** Publishing to a national channel: decided by whoever may review, refused (422) unless the channel is theirs. */
const target = statuses(targetingNational(200));

export const reviewsTable = accessTable<Fixtures>({
  name: 'reviews',
  setup: async (env) => ({
    channel: await insertChannel(env.ctx, env.org.units.national, 'sandbox', { name: 'Sandbox Nasional' }),
    other: await insertChannel(env.ctx, env.org.units.national, 'sandbox', { name: 'Sandbox Nasional 2' }),
  }),
  rows: [
    {
      route: 'GET /api/v1/reviews',
      case: 'own inbox',
      request: () => call('GET', '/api/v1/reviews'),
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
      route: 'POST /api/v1/posts/:id/preview',
      request: async (_actor, f, env) => {
        const post = await officeA1Post(env, true);
        return call('POST', `/api/v1/posts/${post.id}/preview`, { channelIds: [f.channel] });
      },
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
      route: 'POST /api/v1/posts/:id/request-changes',
      request: async (_actor, _f, env) => {
        const post = await officeA1Post(env, true);
        return call('POST', `/api/v1/posts/${post.id}/request-changes`, {
          version: post.version,
          comment: 'Tambahkan sumber',
        });
      },
      expect: decide(200),
    },
    {
      route: 'POST /api/v1/posts/:id/reject',
      request: async (_actor, _f, env) => {
        const post = await officeA1Post(env, true);
        return call('POST', `/api/v1/posts/${post.id}/reject`, {
          version: post.version,
          reason: 'Bukan untuk nasional',
        });
      },
      expect: decide(200),
    },
    {
      route: 'POST /api/v1/posts/:id/pass',
      request: async (_actor, _f, env) => {
        const post = await officeA1Post(env, true);
        return call('POST', `/api/v1/posts/${post.id}/pass`, {
          version: post.version,
          note: 'Bukan untuk kami',
        });
      },
      expect: decide(200),
    },
    {
      route: 'POST /api/v1/posts/:id/forward',
      case: 'one level up; the national level has none above it',
      request: async (_actor, _f, env) => {
        const post = await officeA1Post(env, true);
        return call('POST', `/api/v1/posts/${post.id}/forward`, { version: post.version, note: 'Bagus' });
      },
      expect: statuses({
        national: [404, 409, 409],
        regionA: [404, 200, 200],
        regionB: [404, 404, 404],
        officeA1: [403, 200, 200],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    {
      route: 'POST /api/v1/reviews/bulk',
      case: 'pass one post of office A1: 207 when it was refused',
      request: async (_actor, _f, env) => {
        const post = await officeA1Post(env, true);
        return call('POST', '/api/v1/reviews/bulk', {
          action: 'pass',
          posts: [{ id: post.id, version: post.version }],
        });
      },
      expect: statuses({
        national: [403, 200, 200],
        regionA: [403, 200, 200],
        regionB: [403, 207, 207],
        officeA1: [403, 200, 200],
        officeA2: [403, 207, 207],
        officeB1: [403, 207, 207],
        officeB2: [403, 207, 207],
      }),
    },
    {
      route: 'POST /api/v1/reviews/bulk',
      case: 'approve onto a national channel',
      request: async (_actor, f, env) => {
        const post = await officeA1Post(env, true);
        return call('POST', '/api/v1/reviews/bulk', {
          action: 'approve',
          posts: [{ id: post.id, version: post.version }],
          targets: [{ channelId: f.channel, at: inAWeek() }],
        });
      },
      expect: statuses({
        national: [403, 200, 200],
        regionA: [403, 207, 207],
        regionB: [403, 207, 207],
        officeA1: [403, 207, 207],
        officeA2: [403, 207, 207],
        officeB1: [403, 207, 207],
        officeB2: [403, 207, 207],
      }),
    },
    {
      route: 'POST /api/v1/posts/:id/approve',
      case: 'onto a national channel',
      request: async (_actor, f, env) => {
        const post = await officeA1Post(env, true);
        return call('POST', `/api/v1/posts/${post.id}/approve`, {
          version: post.version,
          targets: [{ channelId: f.channel, at: inAWeek() }],
        });
      },
      expect: target,
    },
    {
      route: 'POST /api/v1/posts/:id/targets',
      case: 'another national channel for an approved post',
      request: async (_actor, f, env) => {
        const post = await approvedPost(env, f);
        return call('POST', `/api/v1/posts/${post.id}/targets`, {
          version: post.version,
          targets: [{ channelId: f.other, at: inAWeek() }],
        });
      },
      expect: target,
    },
    {
      route: 'POST /api/v1/posts/:id/targets/:channelId/cancel',
      request: async (_actor, f, env) => {
        const post = await approvedPost(env, f);
        return call('POST', `/api/v1/posts/${post.id}/targets/${f.channel}/cancel`);
      },
      expect: statuses({
        national: [404, 200, 200],
        regionA: [404, 403, 403],
        regionB: [404, 404, 404],
        officeA1: [403, 403, 403],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
  ],
});
