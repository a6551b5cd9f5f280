import { eq } from 'drizzle-orm';
import { units } from '../../../../src/db/schema';
import { TEST_PASSWORD, UNIT_KEYS, type UnitKey } from '../../../helpers/org';
import { overRegionA } from '../blackouts';
import { adminsOverRegionA } from '../channels';
import { freshOfficeA1User, freshToken } from '../org';
import type { MatrixEnv } from '../table';
import { freshDate } from '../working-calendar';
import { anyone, form, nationalAdmin, page, signedIn, webTable } from './table';

/**
 * The admin pages: units, users, tokens, audit, blackouts, working time, review settings and the
 * transparency settings. Units and blackouts of region A are managed by the admins over it; users
 * of office A1 by the admins over them; the organisation-wide settings by the national admins.
 */

/** Managed by admins over region A; seen (403) by those inside or under it, hidden (404) from the rest. */
export const manageRegionA = (ok: number) => signedIn(adminsOverRegionA(ok));

/** A person of office A1: only the admins over them see or change them (404 for everyone else). */
const manageOfficeA1User = (ok: number) =>
  signedIn({
    national: [404, 404, ok],
    regionA: [404, 404, ok],
    regionB: [404, 404, 404],
    officeA1: [404, 404, ok],
    officeA2: [404, 404, 404],
    officeB1: [404, 404, 404],
    officeB2: [404, 404, 404],
  });

const admins = (ok: number) =>
  signedIn({
    national: [403, 403, ok],
    regionA: [403, 403, ok],
    regionB: [403, 403, ok],
    officeA1: [403, 403, ok],
    officeA2: [403, 403, ok],
    officeB1: [403, 403, ok],
    officeB2: [403, 403, ok],
  });

/**
 * Forms of admin pages that refuse everyone but admins first (403 whatever the target, so nothing
 * leaks); for admins, what `decide` says of the target: done (303), refused (403) or hidden (404).
 */
const byAdminsOver = (admins: Record<UnitKey, number>) =>
  signedIn(
    Object.fromEntries(UNIT_KEYS.map((unit) => [unit, [403, 403, admins[unit]] as const])) as Record<
      UnitKey,
      readonly [number, number, number]
    >,
  );

/** A blackout over region A: set and ended by admins over it; seen (403) by the admins under it. */
const blackoutOfRegionA = byAdminsOver({
  national: 303,
  regionA: 303,
  regionB: 404,
  officeA1: 403,
  officeA2: 403,
  officeB1: 404,
  officeB2: 404,
});

const inAYear = (days: number) => new Date(Date.now() + (365 + days) * 86_400_000).toISOString().slice(0, 16);

/** A blackout over region A, set by the national admin through the API. */
async function regionABlackout(env: MatrixEnv): Promise<string> {
  const response = await env.app.inject({
    method: 'POST',
    url: '/api/v1/blackouts',
    headers: env.org.user('national', 'admin').headers,
    payload: overRegionA(env),
  });
  if (response.statusCode !== 201) throw new Error(`blackout failed: ${response.body}`);
  return (response.json() as { id: string }).id;
}

let slugs = 0;

export const adminTable = webTable({
  name: 'admin pages',
  rows: [
    // ── units ─────────────────────────────────────────────────────────────
    { route: 'GET /admin/units', request: () => page('/admin/units'), expect: anyone(200) },
    {
      route: 'POST /admin/units',
      case: 'an office under region A',
      request: (_actor, _f, { org }) =>
        form('/admin/units', {
          parentId: org.units.regionA.id,
          kind: 'office',
          name: 'Kantor Matriks Web',
          slug: `kantor-matriks-web-${++slugs}`,
          timeZone: '',
        }),
      expect: manageRegionA(303),
    },
    {
      route: 'POST /admin/units/:id',
      case: 'region A',
      request: async (_actor, _f, { ctx, org }) => {
        const [unit] = await ctx.db.select().from(units).where(eq(units.id, org.units.regionA.id));
        return form(`/admin/units/${unit!.id}`, {
          name: unit!.name,
          slug: unit!.slug,
          timeZone: unit!.timeZone,
        });
      },
      expect: manageRegionA(303),
    },
    // ── users ─────────────────────────────────────────────────────────────
    { route: 'GET /admin/users', case: 'own unit', request: () => page('/admin/users'), expect: admins(200) },
    {
      route: 'POST /admin/users',
      case: 'a contributor of office A1',
      request: (actor, _f, { org }) =>
        form('/admin/users', {
          email: `web-matrix-${actor.key}-${++slugs}@gaung.test`,
          name: 'Kontributor Baru',
          role: 'contributor',
          unitId: org.units.officeA1.id,
          locale: 'id',
          password: 'kata-sandi-awal-matriks',
        }),
      // The page refuses everyone but admins before looking at the unit (403 for all of them, so
      // nothing leaks); admins who cannot see office A1 get 404.
      expect: byAdminsOver({
        national: 303,
        regionA: 303,
        regionB: 404,
        officeA1: 303,
        officeA2: 404,
        officeB1: 404,
        officeB2: 404,
      }),
    },
    {
      route: 'POST /admin/users/:id',
      case: 'a contributor of office A1',
      request: async (_actor, _f, env) => {
        const user = await freshOfficeA1User(env);
        return form(`/admin/users/${user.id}`, {
          name: 'Nama Baru',
          role: 'contributor',
          unitId: env.org.units.officeA1.id,
          locale: 'id',
        });
      },
      expect: manageOfficeA1User(303),
    },
    {
      route: 'POST /admin/users/:id/password',
      case: 'a contributor of office A1',
      request: async (_actor, _f, env) =>
        form(`/admin/users/${(await freshOfficeA1User(env)).id}/password`, {
          password: 'kata-sandi-sementara-77',
        }),
      expect: manageOfficeA1User(303),
    },
    // ── tokens and audit ──────────────────────────────────────────────────
    { route: 'GET /admin/tokens', request: () => page('/admin/tokens'), expect: anyone(200) },
    {
      route: 'POST /admin/tokens',
      case: 'a token of one’s own',
      request: () => form('/admin/tokens', { name: 'Skrip', currentPassword: TEST_PASSWORD }),
      // The new token is shown once, on the page itself.
      expect: anyone(201),
    },
    {
      route: 'POST /admin/tokens/:id/revoke',
      case: 'a token of the contributor of office A1',
      request: async (_actor, _f, env) =>
        form(`/admin/tokens/${await freshToken(env, env.org.user('officeA1', 'contributor').id)}/revoke`),
      expect: signedIn({
        national: [404, 404, 404],
        regionA: [404, 404, 404],
        regionB: [404, 404, 404],
        officeA1: [303, 404, 404],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    { route: 'GET /admin/audit', case: 'own unit', request: () => page('/admin/audit'), expect: admins(200) },
    // ── blackouts ─────────────────────────────────────────────────────────
    { route: 'GET /admin/blackouts', request: () => page('/admin/blackouts'), expect: admins(200) },
    {
      route: 'POST /admin/blackouts',
      case: 'over region A, next year',
      request: (_actor, _f, { org }) =>
        form('/admin/blackouts', {
          unitId: org.units.regionA.id,
          startsAt: inAYear(0),
          endsAt: inAYear(3),
          reason: 'Masa tenang pemilihan kepala daerah',
          onEnd: 'reschedule',
        }),
      expect: blackoutOfRegionA,
    },
    {
      route: 'POST /admin/blackouts/:id/end',
      case: 'a blackout over region A',
      request: async (_actor, _f, env) => form(`/admin/blackouts/${await regionABlackout(env)}/end`),
      expect: blackoutOfRegionA,
    },
    // ── working time ──────────────────────────────────────────────────────
    { route: 'GET /admin/working-time', request: () => page('/admin/working-time'), expect: anyone(200) },
    {
      route: 'POST /admin/working-time/holidays',
      case: 'a new day off',
      request: () =>
        form('/admin/working-time/holidays', {
          date: freshDate(),
          name: 'Cuti bersama',
          kind: 'collective_leave',
        }),
      expect: nationalAdmin(303),
    },
    {
      route: 'POST /admin/working-time/holidays/:id/delete',
      case: 'a day off the national admin entered',
      request: async (_actor, _f, env) => {
        const response = await env.app.inject({
          method: 'POST',
          url: '/api/v1/holidays',
          headers: env.org.user('national', 'admin').headers,
          payload: { date: freshDate(), name: 'Hari libur', kind: 'public_holiday' },
        });
        if (response.statusCode !== 201) throw new Error(`holiday failed: ${response.body}`);
        return form(`/admin/working-time/holidays/${(response.json() as { id: string }).id}/delete`);
      },
      expect: nationalAdmin(303),
    },
    {
      route: 'POST /admin/working-time/units/:id',
      case: 'region A',
      request: (_actor, _f, { org }) =>
        form(`/admin/working-time/units/${org.units.regionA.id}`, {
          days: ['1', '2', '3', '4', '5'],
          start: '07:30',
          end: '16:00',
          reviewWaitMinutes: '240',
        }),
      expect: manageRegionA(303),
    },
    // ── organisation-wide settings ────────────────────────────────────────
    { route: 'GET /admin/review', request: () => page('/admin/review'), expect: nationalAdmin(200) },
    {
      route: 'POST /admin/review',
      case: 'posts reach the national inbox directly',
      request: () => form('/admin/review', { direct: '1' }),
      expect: nationalAdmin(303),
    },
    {
      route: 'GET /admin/transparency',
      request: () => page('/admin/transparency'),
      expect: nationalAdmin(200),
    },
    {
      route: 'POST /admin/transparency',
      case: 'the public page on',
      request: () => form('/admin/transparency', { page: 'on' }),
      expect: nationalAdmin(303),
    },
  ],
});
