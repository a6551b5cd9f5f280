import { eq } from 'drizzle-orm';
import { deliveries } from '../../../../src/db/schema';
import { insertChannel } from '../../../helpers/posts';
import { officeA1Post } from '../posts';
import { approvedPost, decidingOnOfficeA1, type Fixtures, targetingNational } from '../reviews';
import type { MatrixEnv } from '../table';
import { form, page, signedIn, webTable } from './table';

/**
 * The review desk: the inbox, and the review page of a submitted post of office A1 with its
 * decisions, onto national channels. Reviewers of office A1, region A and the national unit decide
 * on it; only the national ones may publish on national channels (the others see the form again,
 * 422, with nothing decided).
 */

/** A time a week ahead as a `datetime-local` field holds it. */
const inAWeekLocal = () => new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 16);

/** The form fields that publish on a channel at a set time. */
const onChannel = (channel: string) => ({
  [`on_${channel}`]: '1',
  [`at_${channel}`]: 'time',
  [`time_${channel}`]: inAWeekLocal(),
});

/** Deciding on a submitted post of office A1. */
export const decideOnOfficeA1 = (ok: number) => signedIn(decidingOnOfficeA1(ok));

/** Publishing on a national channel: decided by whoever may review, refused (422) unless the channel is theirs. */
const target = signedIn(targetingNational(303));

const reviewers = (ok: number) =>
  signedIn({
    national: [403, ok, ok],
    regionA: [403, ok, ok],
    regionB: [403, ok, ok],
    officeA1: [403, ok, ok],
    officeA2: [403, ok, ok],
    officeB1: [403, ok, ok],
    officeB2: [403, ok, ok],
  });

const submitted = async (env: MatrixEnv) => {
  const post = await officeA1Post(env, true);
  return { id: post.id, version: String(post.version) };
};

export const reviewTable = webTable<Fixtures>({
  name: 'review',
  setup: async (env) => ({
    channel: await insertChannel(env.ctx, env.org.units.national, 'sandbox', { name: 'Sandbox Nasional' }),
    other: await insertChannel(env.ctx, env.org.units.national, 'sandbox', { name: 'Sandbox Nasional 2' }),
  }),
  rows: [
    { route: 'GET /inbox', case: 'own inbox', request: () => page('/inbox'), expect: reviewers(200) },
    {
      route: 'POST /inbox/bulk',
      case: 'pass one post of office A1 (the inbox again, saying which were refused)',
      request: async (_actor, _f, env) => {
        const post = await submitted(env);
        return form('/inbox/bulk', { action: 'pass', post: `${post.id}:${post.version}` });
      },
      expect: reviewers(200),
    },
    {
      route: 'GET /review/:id',
      request: async (_actor, _f, env) => page(`/review/${(await submitted(env)).id}`),
      expect: decideOnOfficeA1(200),
    },
    {
      route: 'POST /review/:id/approve',
      case: 'onto a national channel',
      request: async (_actor, f, env) => {
        const post = await submitted(env);
        return form(`/review/${post.id}/approve`, { version: post.version, ...onChannel(f.channel) });
      },
      expect: target,
    },
    {
      route: 'POST /review/:id/targets',
      case: 'another national channel for an approved post',
      request: async (_actor, f, env) => {
        const post = await approvedPost(env, f);
        return form(`/review/${post.id}/targets`, { version: String(post.version), ...onChannel(f.other) });
      },
      expect: target,
    },
    {
      route: 'POST /review/:id/targets/:channelId/cancel',
      request: async (_actor, f, env) => {
        const post = await approvedPost(env, f);
        const [delivery] = await env.ctx.db
          .select({ version: deliveries.version })
          .from(deliveries)
          .where(eq(deliveries.postId, post.id));
        return form(`/review/${post.id}/targets/${f.channel}/cancel`, { version: String(delivery!.version) });
      },
      expect: signedIn({
        national: [404, 303, 303],
        regionA: [404, 403, 403],
        regionB: [404, 404, 404],
        officeA1: [403, 403, 403],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    {
      route: 'POST /review/:id/pass',
      request: async (_actor, _f, env) => {
        const post = await submitted(env);
        return form(`/review/${post.id}/pass`, { version: post.version });
      },
      expect: decideOnOfficeA1(303),
    },
    {
      route: 'POST /review/:id/forward',
      case: 'one level up; the national level has none above it',
      request: async (_actor, _f, env) => {
        const post = await submitted(env);
        return form(`/review/${post.id}/forward`, { version: post.version });
      },
      expect: signedIn({
        national: [404, 409, 409],
        regionA: [404, 303, 303],
        regionB: [404, 404, 404],
        officeA1: [403, 303, 303],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    {
      route: 'POST /review/:id/request-changes',
      request: async (_actor, _f, env) => {
        const post = await submitted(env);
        return form(`/review/${post.id}/request-changes`, {
          version: post.version,
          comment: 'Foto kurang jelas',
        });
      },
      expect: decideOnOfficeA1(303),
    },
    {
      route: 'POST /review/:id/reject',
      request: async (_actor, _f, env) => {
        const post = await submitted(env);
        return form(`/review/${post.id}/reject`, { version: post.version, reason: 'Bukan untuk publik' });
      },
      expect: decideOnOfficeA1(303),
    },
  ],
});
