import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sources } from '../../../src/db/schema';
import { accessTable, call, everyone, type MatrixEnv, statuses } from './table';

/** A source of office A1: the unit's people manage it; reviewers and admins above only read it. */

/** A site answering a small RSS document at every path, so each added source has an address of its own. */
let site: Promise<string> | null = null;
function feedSite(): Promise<string> {
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

async function officeA1Source(env: MatrixEnv): Promise<string> {
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

const manage = (ok: number) =>
  statuses({
    national: [404, 403, 403],
    regionA: [404, 403, 403],
    regionB: [404, 404, 404],
    officeA1: [ok, ok, ok],
    officeA2: [404, 404, 404],
    officeB1: [404, 404, 404],
    officeB2: [404, 404, 404],
  });

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
  ],
});
