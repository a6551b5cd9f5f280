import { insertChannel } from '../../helpers/posts';
import { accessTable, type ByUnit, call, everyone, type MatrixEnv, statuses } from './table';

/** A sandbox channel of region A: seen by its subtree, the offices below and the reviewers above; managed by admins over it. */

export const regionAChannel = (env: MatrixEnv) =>
  insertChannel(env.ctx, env.org.units.regionA, 'sandbox', { name: 'Sandbox Kanwil A' });

/** Managed by the admins over region A; seen (403) by those inside or under it, hidden (404) from the rest. */
export const adminsOverRegionA = (ok: number): ByUnit => ({
  national: [404, 403, ok],
  regionA: [403, 403, ok],
  regionB: [404, 404, 404],
  officeA1: [403, 403, 403],
  officeA2: [403, 403, 403],
  officeB1: [404, 404, 404],
  officeB2: [404, 404, 404],
});

const read = statuses({
  national: [404, 200, 200],
  regionA: [200, 200, 200],
  regionB: [404, 404, 404],
  officeA1: [200, 200, 200],
  officeA2: [200, 200, 200],
  officeB1: [404, 404, 404],
  officeB2: [404, 404, 404],
});

const manage = (ok: number) => statuses(adminsOverRegionA(ok));

/** The X and Meta consent flows of channels of region A; the platforms' token endpoints are unreachable here. */
async function startXConnect(env: MatrixEnv, channel: string) {
  const response = await env.app.inject({
    url: `/api/v1/channels/${channel}/connect/x`,
    headers: env.org.user('national', 'admin').headers,
  });
  if (response.statusCode !== 200) throw new Error(`connect failed: ${response.body}`);
  return new URL((response.json() as { authorizeUrl: string }).authorizeUrl).searchParams.get('state')!;
}

export const channelsTable = accessTable<{ channel: string; x: string; facebook: string }>({
  name: 'channels',
  setup: async (env) => ({
    channel: await regionAChannel(env),
    x: await insertChannel(env.ctx, env.org.units.regionA, 'x', { name: 'X Kanwil A' }),
    facebook: await insertChannel(env.ctx, env.org.units.regionA, 'facebook', { name: 'FB Kanwil A' }),
  }),
  rows: [
    {
      route: 'GET /api/v1/channels',
      request: () => call('GET', '/api/v1/channels'),
      expect: everyone(200),
    },
    {
      route: 'POST /api/v1/channels',
      case: 'a channel of region A',
      request: (_actor, _f, { org }) =>
        call('POST', '/api/v1/channels', {
          unitId: org.units.regionA.id,
          platform: 'sandbox',
          name: 'Sandbox Baru',
        }),
      expect: manage(201),
    },
    {
      route: 'GET /api/v1/channels/:id',
      request: (_actor, f) => call('GET', `/api/v1/channels/${f.channel}`),
      expect: read,
    },
    {
      route: 'PATCH /api/v1/channels/:id',
      request: (_actor, f) => call('PATCH', `/api/v1/channels/${f.channel}`, { name: 'Sandbox Kanwil A' }),
      expect: manage(200),
    },
    {
      route: 'DELETE /api/v1/channels/:id',
      request: async (_actor, _f, env) => call('DELETE', `/api/v1/channels/${await regionAChannel(env)}`),
      expect: manage(204),
    },
    {
      route: 'PUT /api/v1/channels/:id/slots',
      request: (_actor, f) => call('PUT', `/api/v1/channels/${f.channel}/slots`, { slots: ['0 9 * * *'] }),
      expect: manage(200),
    },
    {
      route: 'GET /api/v1/channels/:id/free-slots',
      request: (_actor, f) => call('GET', `/api/v1/channels/${f.channel}/free-slots`),
      expect: read,
    },
    {
      route: 'GET /api/v1/channels/:id/shares',
      request: (_actor, f) => call('GET', `/api/v1/channels/${f.channel}/shares`),
      expect: read,
    },
    {
      route: 'GET /api/v1/channels/:id/connect/:provider',
      request: (_actor, f) => call('GET', `/api/v1/channels/${f.x}/connect/x`),
      expect: manage(200),
    },
    {
      route: 'GET /api/v1/oauth/:provider/callback',
      case: 'consent refused at X',
      request: () => call('GET', '/api/v1/oauth/x/callback?state=abc&error=access_denied'),
      expect: everyone(302),
    },
    {
      route: 'GET /api/v1/oauth/:provider/callback',
      case: 'a flow the national admin started',
      request: async (_actor, f, env) =>
        call('GET', `/api/v1/oauth/x/callback?code=kode&state=${await startXConnect(env, f.x)}`),
      expect: statuses({
        national: [400, 400, 422],
        regionA: [400, 400, 400],
        regionB: [400, 400, 400],
        officeA1: [400, 400, 400],
        officeA2: [400, 400, 400],
        officeB1: [400, 400, 400],
        officeB2: [400, 400, 400],
      }),
    },
    {
      route: 'POST /api/v1/channels/:id/connect/meta',
      request: (_actor, f) =>
        call('POST', `/api/v1/channels/${f.facebook}/connect/meta`, {
          userAccessToken: 'token-pengguna-meta',
        }),
      expect: manage(422),
    },
    {
      route: 'POST /api/v1/channels/:id/verify',
      request: (_actor, f) => call('POST', `/api/v1/channels/${f.channel}/verify`),
      expect: manage(200),
    },
  ],
});
