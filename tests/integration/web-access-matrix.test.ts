import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, TEST_PASSWORD, type TestOrg } from '../helpers/org';
import { signIn, type TestSession } from '../helpers/session';

/**
 * Web routes (pages, forms, the queue dashboard) as every route is reached by someone who should
 * not: anonymous callers reach only the public ones, and no state-changing route acts for a
 * signed-in session without its CSRF token, whether missing or forged. Every registered route needs
 * a row here; a new page without one fails the first test.
 */

type Access = 'public' | 'signed-in';

const ROWS: Record<string, Access> = {
  'GET /login': 'public',
  'POST /login': 'public',
  'POST /logout': 'public',
  'GET /press': 'public',
  'GET /press/feed.json': 'public',
  'GET /press/feed.xml': 'public',
  // The press room of an office or a region, its feeds, and its media downloads (published posts only).
  'GET /press/:slug': 'public',
  'GET /press/:slug/feed.json': 'public',
  'GET /press/:slug/feed.xml': 'public',
  'GET /press/media/:postId/:position': 'public',
  // Monthly counts per office, when the organisation turns the page on.
  'GET /transparency': 'public',
  'GET /assets/:name': 'public',
  // Signed URLs for platforms that fetch media themselves: the signature is the credential.
  'GET /media-public/:id/:platform': 'public',
  // The sandbox platform's public timeline (demo and test channels).
  'GET /sandbox/:channelId': 'public',
};

/** Every other route is for signed-in people only. */
const access = (route: string): Access => ROWS[route] ?? 'signed-in';

/** A request path for a route pattern: unknown ids, a real queue name, a real asset. */
const pathOf = (route: string) =>
  route
    .split(' ')[1]!
    .replace(':queueName', 'publish')
    .replace(':name', 'gaung.css')
    .replace(':platform', 'x')
    .replace(/:[A-Za-z]+/g, () => crypto.randomUUID())
    .replace(/\*$/, '');

/** Every page route, as `METHOD /path` (HEAD left out), outside the API, the docs and the operations endpoints. */
function registeredWebRoutes(app: App): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    const path = `${stack[depth - 1] ?? ''}${match[2]}`;
    stack[depth] = path;
    for (const method of match[3]?.split(', ') ?? [])
      if (method !== 'HEAD' && !/^\/(api\/v1|docs)(\/|\*|$)|^\/(healthz|readyz|metrics)$/.test(path))
        routes.push(`${method} ${path}`);
  }
  return [...new Set(routes)].sort();
}

describe.each(testDrivers())('web access on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let session: TestSession;
  let routes: string[];

  beforeAll(async () => {
    t = await createTestApp(driver);
    org = await seedTestOrg(t.ctx);
    session = await signIn(t.app, org.user('national', 'admin').email, TEST_PASSWORD);
    routes = registeredWebRoutes(t.app);
  });
  afterAll(async () => {
    await t.close();
  });

  it('knows every registered web route, and no route that does not exist', () => {
    expect(routes).toContain('GET /posts/:id');
    expect(routes).toContain('POST /admin/users/:id/password');
    expect(Object.keys(ROWS).filter((route) => !routes.includes(route))).toEqual([]);
    // A route is public only by a row here: a new one is for signed-in people until someone decides.
    const open: string[] = [];
    for (const route of routes) if (access(route) === 'public') open.push(route);
    expect(open.sort()).toEqual(Object.keys(ROWS).sort());
  });

  it('lets anonymous callers reach only the public routes', async () => {
    const reached: string[] = [];
    for (const route of routes) {
      if (access(route) === 'public') continue;
      const [method] = route.split(' ') as ['GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'];
      const response = await t.app.inject({
        method,
        url: pathOf(route),
        ...(method === 'GET' ? {} : { payload: { _csrf: 'x' } }),
      });
      const toLogin = response.statusCode === 303 && String(response.headers.location).startsWith('/login');
      if (response.statusCode >= 500) throw new Error(`${route}: ${response.body}`);
      // A form refused for its body before anything is read from it (400) reaches nothing either.
      const refused = response.statusCode === 401 || (method !== 'GET' && response.statusCode === 400);
      if (!(toLogin || refused)) reached.push(`${route} → ${response.statusCode}`);
    }
    expect(reached).toEqual([]);
  });

  it.each([
    ['missing', undefined],
    ['forged', 'forged-csrf-token'],
  ])('acts on no state-changing route for a session whose CSRF token is %s', async (_kind, token) => {
    const acted: string[] = [];
    for (const route of routes) {
      const [method] = route.split(' ') as ['GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'];
      if (method === 'GET' || access(route) === 'public') continue;
      const response = await t.app.inject({
        method,
        url: pathOf(route),
        headers: { cookie: session.cookie.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: token ? `_csrf=${token}` : '',
      });
      if (response.statusCode >= 500) throw new Error(`${route}: ${response.body}`);
      // 403 csrf_failed, or an earlier refusal of the request itself (415 for a form where JSON is taken).
      if (response.statusCode < 400) acted.push(`${route} → ${response.statusCode}`);
      else if (response.statusCode !== 403 && response.statusCode !== 415 && response.statusCode !== 400)
        acted.push(`${route} → ${response.statusCode}`);
    }
    expect(acted).toEqual([]);
    // The session is still signed in: the refusals were about the token, not the person.
    expect((await t.app.inject({ url: '/api/v1/me', headers: session.cookie })).statusCode).toBe(200);
  });
});
