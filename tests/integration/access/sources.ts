import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { channels, postingSlots, posts, ruleApprovals, sourceRules, sources } from '../../../src/db/schema';
import { decidingOnOfficeA1 } from './reviews';
import {
  accessTable,
  type ByUnit,
  call,
  everyone,
  type MatrixActor,
  type MatrixEnv,
  statuses,
} from './table';

/** A source of office A1: the unit's people manage it; reviewers and admins above only read it. */

/** A site answering a small RSS document at every path, so each added source has an address of its own. */
let site: Promise<string> | null = null;
export function feedSite(): Promise<string> {
  site ??= new Promise((resolve) => {
    const server = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/rss+xml' });
      response.end('<?xml version="1.0"?><rss version="2.0"><channel><title>Kantor</title></channel></rss>');
    });
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
    server.unref();
  });
  return site;
}

let sourcesAdded = 0;

export async function officeA1Source(env: MatrixEnv): Promise<string> {
  sourcesAdded += 1;
  const now = new Date();
  const [row] = await env.ctx.db
    .insert(sources)
    .values({
      unitId: env.org.units.officeA1.id,
      createdBy: env.org.user('officeA1', 'contributor').id,
      kind: 'rss',
      url: `${await feedSite()}/setup/${sourcesAdded}.xml`,
      since: now,
      nextPollAt: new Date(now.getTime() + 86_400_000),
    })
    .returning({ id: sources.id });
  return row!.id;
}

const read = statuses({
  national: [404, 200, 200],
  regionA: [404, 200, 200],
  regionB: [404, 404, 404],
  officeA1: [200, 200, 200],
  officeA2: [404, 404, 404],
  officeB1: [404, 404, 404],
  officeB2: [404, 404, 404],
});

/** Managed only by the people of office A1; those above see it but may not change it. */
export const officeA1SourcePeople = (ok: number): ByUnit => ({
  national: [404, 403, 403],
  regionA: [404, 403, 403],
  regionB: [404, 404, 404],
  officeA1: [ok, ok, ok],
  officeA2: [404, 404, 404],
  officeB1: [404, 404, 404],
  officeB2: [404, 404, 404],
});

const manage = (ok: number) => statuses(officeA1SourcePeople(ok));

/** A sandbox channel of the caller's unit (office A1's for callers without one): the channel a rule of theirs targets. */
export async function ownChannel(env: MatrixEnv, actor: MatrixActor): Promise<string> {
  const [row] = await env.ctx.db
    .insert(channels)
    .values({
      unitId: actor.user?.unitId ?? env.org.units.officeA1.id,
      platform: 'sandbox',
      name: `sandbox ${actor.key}`,
      settings: {},
      timeZone: 'Asia/Jakarta',
    })
    .returning({ id: channels.id });
  // A slot, so that a rule without a delay may publish in it.
  await env.ctx.db.insert(postingSlots).values({ channelId: row!.id, cron: '0 9 * * *' });
  return row!.id;
}

/** A rule of office A1's reviewer on the source, to a channel of office A1. */
export async function officeA1Rule(env: MatrixEnv, source: string): Promise<string> {
  const reviewer = env.org.user('officeA1', 'reviewer');
  const channel = await ownChannel(env, { key: 'officeA1.reviewer', user: reviewer, headers: {} });
  const [row] = await env.ctx.db
    .insert(sourceRules)
    .values({
      sourceId: source,
      createdBy: reviewer.id,
      channelIds: [channel],
      mode: 'copy',
      stopWindowMinutes: 30,
    })
    .returning({ id: sourceRules.id });
  return row!.id;
}

/** A submitted post of office A1 that the rule will approve in half an hour. */
export async function pendingApproval(
  env: MatrixEnv,
  source: string,
): Promise<{ rule: string; post: string }> {
  const rule = await officeA1Rule(env, source);
  const now = new Date();
  const [post] = await env.ctx.db
    .insert(posts)
    .values({
      unitId: env.org.units.officeA1.id,
      authorId: env.org.user('officeA1', 'contributor').id,
      status: 'submitted',
      body: 'Dari sumber',
      sourceId: source,
      submittedAt: now,
    })
    .returning({ id: posts.id });
  await env.ctx.db
    .insert(ruleApprovals)
    .values({ postId: post!.id, ruleId: rule, decideAt: new Date(now.getTime() + 30 * 60_000) });
  return { rule, post: post!.id };
}

/**
 * Rules are set by those who decide on office A1's posts (its reviewers and admins and those above);
 * office A1's contributors see the source but may not.
 */
export const officeA1RuleSetters = decidingOnOfficeA1;

const rules = (ok: number) => statuses(officeA1RuleSetters(ok));

/** Pausing and removing: the office's people, and the admins above it. */
const control = (ok: number) =>
  statuses({
    national: [404, 403, ok],
    regionA: [404, 403, ok],
    regionB: [404, 404, 404],
    officeA1: [ok, ok, ok],
    officeA2: [404, 404, 404],
    officeB1: [404, 404, 404],
    officeB2: [404, 404, 404],
  });

export const sourcesTable = accessTable<{ source: string }>({
  name: 'sources',
  setup: async (env) => ({ source: await officeA1Source(env) }),
  rows: [
    {
      route: 'GET /api/v1/sources',
      request: () => call('GET', '/api/v1/sources'),
      expect: everyone(200),
    },
    {
      route: 'POST /api/v1/sources',
      case: 'into the own unit',
      request: async (actor) =>
        call('POST', '/api/v1/sources', { kind: 'rss', url: `${await feedSite()}/${actor.key}.xml` }),
      expect: everyone(201),
    },
    {
      route: 'GET /api/v1/sources/:id',
      request: (_actor, f) => call('GET', `/api/v1/sources/${f.source}`),
      expect: read,
    },
    {
      route: 'PATCH /api/v1/sources/:id',
      request: (_actor, f) => call('PATCH', `/api/v1/sources/${f.source}`, { autoSubmit: true }),
      expect: manage(200),
    },
    {
      route: 'PATCH /api/v1/sources/:id',
      case: 'pause or resume only',
      request: (_actor, f) => call('PATCH', `/api/v1/sources/${f.source}`, { paused: false }),
      expect: control(200),
    },
    {
      route: 'POST /api/v1/sources/:id/poll',
      request: (_actor, f) => call('POST', `/api/v1/sources/${f.source}/poll`),
      expect: manage(202),
    },
    {
      route: 'DELETE /api/v1/sources/:id',
      request: async (_actor, _f, env) => call('DELETE', `/api/v1/sources/${await officeA1Source(env)}`),
      expect: control(204),
    },
    {
      route: 'GET /api/v1/sources/:id/rules',
      request: (_actor, f) => call('GET', `/api/v1/sources/${f.source}/rules`),
      expect: read,
    },
    {
      route: 'POST /api/v1/sources/:id/rules',
      case: "to the caller's own channel",
      request: async (actor, f, env) =>
        call('POST', `/api/v1/sources/${f.source}/rules`, {
          channelIds: [await ownChannel(env, actor)],
          mode: 'copy',
          stopWindowMinutes: 15,
        }),
      expect: rules(201),
    },
    {
      route: 'PATCH /api/v1/sources/:id/rules/:ruleId',
      case: "to the caller's own channel",
      request: async (actor, f, env) =>
        call('PATCH', `/api/v1/sources/${f.source}/rules/${await officeA1Rule(env, f.source)}`, {
          channelIds: [await ownChannel(env, actor)],
          delayMinutes: 60,
        }),
      expect: rules(200),
    },
    {
      route: 'PATCH /api/v1/sources/:id/rules/:ruleId',
      case: 'pausing the rule',
      request: async (_actor, f, env) =>
        call('PATCH', `/api/v1/sources/${f.source}/rules/${await officeA1Rule(env, f.source)}`, {
          paused: true,
        }),
      expect: rules(200),
    },
    {
      route: 'DELETE /api/v1/sources/:id/rules/:ruleId',
      request: async (_actor, f, env) =>
        call('DELETE', `/api/v1/sources/${f.source}/rules/${await officeA1Rule(env, f.source)}`),
      expect: rules(204),
    },
    {
      route: 'POST /api/v1/sources/:id/rules/:ruleId/stop',
      request: async (_actor, f, env) => {
        const { rule, post } = await pendingApproval(env, f.source);
        return call('POST', `/api/v1/sources/${f.source}/rules/${rule}/stop`, { postId: post });
      },
      expect: rules(204),
    },
  ],
});
