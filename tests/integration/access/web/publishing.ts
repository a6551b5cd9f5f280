import { insertChannel } from '../../../helpers/posts';
import { freshDelivery, steeringNational } from '../deliveries';
import {
  feedSite,
  officeA1Rule,
  officeA1RuleSetters,
  officeA1Source,
  officeA1SourcePeople,
  ownChannel,
  pendingApproval,
} from '../sources';
import type { MatrixEnv } from '../table';
import { anyone, form, page, signedIn, webTable } from './table';

/**
 * Publishing: deliveries of posts of office A1 on a national channel (steered only by the national
 * reviewers and admins, who control the channel), their retraction, the calendar, the reports,
 * and the sources of office A1 (managed by its own people, read by the reviewers and admins above).
 */

const inAWeekLocal = () => new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 16);

/** A source's auto-approval rules: reviewers and admins of office A1 and above; its contributors may not. */
const setRules = (ok: number) => signedIn(officeA1RuleSetters(ok));

/** Steering a delivery of a post of office A1 on a national channel. */
const steer = (ok: number) => signedIn(steeringNational(ok));

/** Managed only by the people of office A1; those above see it but may not change it. */
const manageSource = (ok: number) => signedIn(officeA1SourcePeople(ok));

/** Pausing, resuming or removing a source: its office, and the admins above it (who may stop what it brings in). */
const stopSource = (ok: number) =>
  signedIn({
    national: [404, 403, ok],
    regionA: [404, 403, ok],
    regionB: [404, 404, 404],
    officeA1: [ok, ok, ok],
    officeA2: [404, 404, 404],
    officeB1: [404, 404, 404],
    officeB2: [404, 404, 404],
  });

interface Fixtures {
  channel: string;
  source: string;
}

const delivery = (env: MatrixEnv, f: Fixtures, status: Parameters<typeof freshDelivery>[2]) =>
  freshDelivery(env, f.channel, status);

/** Every added source has an address of its own (one address is one source per office). */
let sourcesAdded = 0;

export const publishingTable = webTable<Fixtures>({
  name: 'deliveries, retraction, calendar, reports and sources',
  setup: async (env) => ({
    channel: await insertChannel(env.ctx, env.org.units.national, 'sandbox', { name: 'Sandbox Pusat' }),
    source: await officeA1Source(env),
  }),
  rows: [
    // ── deliveries ────────────────────────────────────────────────────────
    { route: 'GET /deliveries', request: () => page('/deliveries'), expect: anyone(200) },
    {
      route: 'POST /deliveries/:id/retry',
      case: 'a failed delivery',
      request: async (_actor, f, env) => {
        const row = await delivery(env, f, 'failed');
        return form(`/deliveries/${row.id}/retry`, { version: String(row.version) });
      },
      expect: steer(303),
    },
    {
      route: 'POST /deliveries/:id/cancel',
      request: async (_actor, f, env) => {
        const row = await delivery(env, f, 'scheduled');
        return form(`/deliveries/${row.id}/cancel`, { version: String(row.version) });
      },
      expect: steer(303),
    },
    {
      route: 'POST /deliveries/:id/confirm',
      case: 'a failed delivery that was in fact published',
      request: async (_actor, f, env) => {
        const row = await delivery(env, f, 'failed');
        return form(`/deliveries/${row.id}/confirm`, {
          version: String(row.version),
          url: 'https://sandbox.example/posts/1',
        });
      },
      expect: steer(303),
    },
    {
      route: 'POST /deliveries/:id/confirm-retracted',
      case: 'a retraction a person must finish',
      request: async (_actor, f, env) => {
        const row = await delivery(env, f, 'retraction_needs_attention');
        return form(`/deliveries/${row.id}/confirm-retracted`, { version: String(row.version) });
      },
      expect: steer(303),
    },
    {
      route: 'POST /deliveries/:id/metrics/refresh',
      case: 'a published sandbox delivery (the sandbox keeps no figures)',
      request: async (_actor, f, env) =>
        form(`/deliveries/${(await delivery(env, f, 'published')).id}/metrics/refresh`),
      // Whoever reads the delivery may ask for fresh figures, as in the API.
      expect: signedIn({
        national: [404, 422, 422],
        regionA: [404, 422, 422],
        regionB: [404, 404, 404],
        officeA1: [422, 422, 422],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    // ── retraction ────────────────────────────────────────────────────────
    {
      route: 'GET /posts/:id/retract',
      case: 'a post published on the national channel',
      request: async (_actor, f, env) =>
        page(`/posts/${(await delivery(env, f, 'published')).postId}/retract`),
      // Reviewers over the post see what they could retract (here nothing: the channel is national's).
      expect: signedIn({
        national: [404, 200, 200],
        regionA: [404, 200, 200],
        regionB: [404, 404, 404],
        officeA1: [403, 200, 200],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    {
      route: 'POST /posts/:id/retract',
      case: 'a post published on the national channel',
      request: async (_actor, f, env) => {
        const { postId } = await delivery(env, f, 'published');
        const post = await env.app.inject({
          url: `/api/v1/posts/${postId}`,
          headers: env.org.user('national', 'admin').headers,
        });
        return form(`/posts/${postId}/retract`, {
          version: String((post.json() as { version: number }).version),
          reason: 'Tanggal layanan salah',
          correction: '',
        });
      },
      expect: steer(303),
    },
    {
      route: 'GET /posts/:id/retraction',
      case: 'a post published on the national channel',
      request: async (_actor, f, env) =>
        page(`/posts/${(await delivery(env, f, 'published')).postId}/retraction`),
      expect: signedIn({
        national: [404, 200, 200],
        regionA: [404, 200, 200],
        regionB: [404, 404, 404],
        officeA1: [200, 200, 200],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    // ── calendar ──────────────────────────────────────────────────────────
    { route: 'GET /calendar', request: () => page('/calendar'), expect: anyone(200) },
    {
      route: 'POST /calendar/move/:id',
      case: 'a scheduled delivery to another time',
      request: async (_actor, f, env) => {
        const row = await delivery(env, f, 'scheduled');
        return form(`/calendar/move/${row.id}`, { version: String(row.version), at: inAWeekLocal() });
      },
      expect: steer(303),
    },
    // ── reports ───────────────────────────────────────────────────────────
    { route: 'GET /reports', case: 'own unit', request: () => page('/reports'), expect: anyone(200) },
    {
      route: 'GET /reports',
      case: 'region A',
      request: (_actor, _f, { org }) => page(`/reports?unit=${org.units.regionA.id}`),
      expect: signedIn({
        national: [404, 200, 200],
        regionA: [200, 200, 200],
        regionB: [404, 404, 404],
        officeA1: [403, 403, 403],
        officeA2: [403, 403, 403],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    // ── sources ───────────────────────────────────────────────────────────
    { route: 'GET /sources', request: () => page('/sources'), expect: anyone(200) },
    {
      route: 'POST /sources',
      case: 'into the own unit',
      request: async (actor) =>
        form('/sources', { kind: 'rss', url: `${await feedSite()}/web/${actor.key}-${++sourcesAdded}.xml` }),
      expect: anyone(303),
    },
    {
      route: 'POST /sources/connect/:provider',
      case: 'an X account of the own unit (sent on to X’s consent page)',
      request: () => form('/sources/connect/x', { tags: 'layanan' }),
      expect: anyone(303),
    },
    {
      route: 'POST /sources/:id/pause',
      request: (_actor, f) => form(`/sources/${f.source}/pause`, { paused: 'false' }),
      expect: stopSource(303),
    },
    {
      route: 'POST /sources/:id/auto-submit',
      request: (_actor, f) => form(`/sources/${f.source}/auto-submit`, { autoSubmit: 'true' }),
      expect: manageSource(303),
    },
    {
      route: 'POST /sources/:id/tags',
      request: (_actor, f) => form(`/sources/${f.source}/tags`, { tags: 'layanan, paspor' }),
      expect: manageSource(303),
    },
    {
      route: 'POST /sources/:id/poll',
      request: (_actor, f) => form(`/sources/${f.source}/poll`),
      expect: manageSource(303),
    },
    {
      route: 'POST /sources/:id/delete',
      request: async (_actor, _f, env) => form(`/sources/${await officeA1Source(env)}/delete`),
      expect: stopSource(303),
    },
    {
      route: 'POST /sources/:id/rules',
      case: "to the caller's own channel",
      request: async (actor, f, env) =>
        form(`/sources/${f.source}/rules`, {
          channelIds: await ownChannel(env, actor),
          mode: 'copy',
          hashtags: '#paspor',
          delayMinutes: '',
          stopWindowMinutes: '15',
        }),
      expect: setRules(303),
    },
    {
      route: 'POST /sources/:id/rules/:ruleId',
      case: "to the caller's own channel",
      request: async (actor, f, env) =>
        form(`/sources/${f.source}/rules/${await officeA1Rule(env, f.source)}`, {
          channelIds: await ownChannel(env, actor),
          mode: 'copy',
          delayMinutes: '60',
          stopWindowMinutes: '30',
        }),
      expect: setRules(303),
    },
    {
      route: 'POST /sources/:id/rules/:ruleId/pause',
      request: async (_actor, f, env) =>
        form(`/sources/${f.source}/rules/${await officeA1Rule(env, f.source)}/pause`, { paused: 'true' }),
      expect: setRules(303),
    },
    {
      route: 'POST /sources/:id/rules/:ruleId/delete',
      request: async (_actor, f, env) =>
        form(`/sources/${f.source}/rules/${await officeA1Rule(env, f.source)}/delete`),
      expect: setRules(303),
    },
    {
      route: 'POST /inbox/rules/:sourceId/:ruleId/stop',
      case: "stopping a rule's pending approval of a post of office A1's source",
      request: async (_actor, f, env) => {
        const { rule, post } = await pendingApproval(env, f.source);
        return form(`/inbox/rules/${f.source}/${rule}/stop`, { post });
      },
      // Reviewers and admins of office A1 and above, who may set the source's rules.
      expect: signedIn({
        national: [404, 303, 303],
        regionA: [404, 303, 303],
        regionB: [404, 404, 404],
        officeA1: [403, 303, 303],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
  ],
});
