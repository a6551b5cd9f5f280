import { apiTokens } from '../../../src/db/schema';
import { randomToken, sha256Hex } from '../../../src/infra/crypto';
import { createTestUser, TEST_PASSWORD } from '../../helpers/org';
import { accessTable, call, everyone, type MatrixEnv, statuses } from './table';

/** Units, users, sign-in, tokens and audit. */

export const freshToken = async (env: MatrixEnv, userId: string) => {
  const secret = randomToken('gaung_');
  const [row] = await env.ctx.db
    .insert(apiTokens)
    .values({ userId, name: 'matrix', tokenHash: sha256Hex(secret), prefix: secret.slice(0, 12) })
    .returning({ id: apiTokens.id });
  return row!.id;
};

export const freshOfficeA1User = (env: MatrixEnv) =>
  createTestUser(env.ctx, { unit: env.org.units.officeA1, role: 'contributor' });

let slugs = 0;

export const orgTable = accessTable({
  name: 'units, users, sign-in, tokens and audit',
  rows: [
    // ── units ─────────────────────────────────────────────────────────────
    {
      route: 'GET /api/v1/units',
      request: () => call('GET', '/api/v1/units'),
      expect: everyone(200),
    },
    {
      route: 'POST /api/v1/units',
      case: 'an office under region A',
      request: (_actor, _f, { org }) =>
        call('POST', '/api/v1/units', {
          parentId: org.units.regionA.id,
          kind: 'office',
          name: 'Kantor Matriks',
          slug: `kantor-matriks-${++slugs}`,
        }),
      expect: statuses({
        national: [404, 403, 201],
        regionA: [403, 403, 201],
        regionB: [404, 404, 404],
        officeA1: [403, 403, 403],
        officeA2: [403, 403, 403],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    {
      route: 'GET /api/v1/units/:id',
      case: 'region A',
      request: (_actor, _f, { org }) => call('GET', `/api/v1/units/${org.units.regionA.id}`),
      expect: statuses({
        national: [404, 200, 200],
        regionA: [200, 200, 200],
        regionB: [404, 404, 404],
        officeA1: [200, 200, 200],
        officeA2: [200, 200, 200],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    {
      route: 'GET /api/v1/units/:id',
      case: 'office A1',
      request: (_actor, _f, { org }) => call('GET', `/api/v1/units/${org.units.officeA1.id}`),
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
      route: 'PATCH /api/v1/units/:id',
      case: 'rename region A',
      request: (_actor, _f, { org }) =>
        call('PATCH', `/api/v1/units/${org.units.regionA.id}`, { name: 'Kanwil A' }),
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
      route: 'PATCH /api/v1/units/:id',
      case: 'rename office A1',
      request: (_actor, _f, { org }) =>
        call('PATCH', `/api/v1/units/${org.units.officeA1.id}`, { name: 'Kantor A1' }),
      expect: statuses({
        national: [404, 403, 200],
        regionA: [404, 403, 200],
        regionB: [404, 404, 404],
        officeA1: [403, 403, 200],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },

    // ── users ─────────────────────────────────────────────────────────────
    {
      route: 'GET /api/v1/users',
      case: 'own subtree',
      request: () => call('GET', '/api/v1/users'),
      expect: statuses({
        national: [403, 403, 200],
        regionA: [403, 403, 200],
        regionB: [403, 403, 200],
        officeA1: [403, 403, 200],
        officeA2: [403, 403, 200],
        officeB1: [403, 403, 200],
        officeB2: [403, 403, 200],
      }),
    },
    {
      route: 'GET /api/v1/users',
      case: 'subtree of region A',
      request: (_actor, _f, { org }) => call('GET', `/api/v1/users?unitId=${org.units.regionA.id}`),
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
      route: 'POST /api/v1/users',
      case: 'a contributor in office A1',
      request: (_actor, _f, { org }) =>
        call('POST', '/api/v1/users', {
          email: `matriks-${crypto.randomUUID()}@gaung.test`,
          name: 'Orang Matriks',
          role: 'contributor',
          unitId: org.units.officeA1.id,
          password: TEST_PASSWORD,
        }),
      expect: statuses({
        national: [404, 403, 201],
        regionA: [404, 403, 201],
        regionB: [404, 404, 404],
        officeA1: [403, 403, 201],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    {
      route: 'GET /api/v1/users/:id',
      case: 'the contributor of office A1',
      request: (_actor, _f, { org }) =>
        call('GET', `/api/v1/users/${org.user('officeA1', 'contributor').id}`),
      expect: statuses({
        national: [404, 404, 200],
        regionA: [404, 404, 200],
        regionB: [404, 404, 404],
        officeA1: [200, 404, 200],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    {
      route: 'PATCH /api/v1/users/:id',
      case: 'change the role of a contributor of office A1',
      request: async (_actor, _f, env) =>
        call('PATCH', `/api/v1/users/${(await freshOfficeA1User(env)).id}`, { role: 'reviewer' }),
      expect: statuses({
        national: [404, 404, 200],
        regionA: [404, 404, 200],
        regionB: [404, 404, 404],
        officeA1: [404, 404, 200],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    {
      route: 'PATCH /api/v1/users/:id',
      case: 'disable a contributor of office A1',
      request: async (_actor, _f, env) =>
        call('PATCH', `/api/v1/users/${(await freshOfficeA1User(env)).id}`, { disabled: true }),
      expect: statuses({
        national: [404, 404, 200],
        regionA: [404, 404, 200],
        regionB: [404, 404, 404],
        officeA1: [404, 404, 200],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    {
      route: 'POST /api/v1/users/:id/password',
      case: 'a temporary password for a contributor of office A1',
      request: async (_actor, _f, env) =>
        call('POST', `/api/v1/users/${(await freshOfficeA1User(env)).id}/password`, {
          password: 'sementara-untuk-matriks',
        }),
      expect: statuses({
        national: [404, 404, 200],
        regionA: [404, 404, 200],
        regionB: [404, 404, 404],
        officeA1: [404, 404, 200],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    {
      route: 'POST /api/v1/users/:id/password',
      case: 'a temporary password for an admin of office A1 (admins of one unit never reset each other)',
      request: async (_actor, _f, env) =>
        call(
          'POST',
          `/api/v1/users/${(await createTestUser(env.ctx, { unit: env.org.units.officeA1, role: 'admin' })).id}/password`,
          { password: 'sementara-untuk-matriks' },
        ),
      expect: statuses({
        national: [404, 404, 200],
        regionA: [404, 404, 200],
        regionB: [404, 404, 404],
        officeA1: [404, 404, 403],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    {
      route: 'POST /api/v1/users/:id/password',
      case: 'a temporary password for a national admin (only the command line resets one)',
      request: async (_actor, _f, env) =>
        call(
          'POST',
          `/api/v1/users/${(await createTestUser(env.ctx, { unit: env.org.units.national, role: 'admin' })).id}/password`,
          { password: 'sementara-untuk-matriks' },
        ),
      expect: statuses({
        national: [404, 404, 403],
        regionA: [404, 404, 404],
        regionB: [404, 404, 404],
        officeA1: [404, 404, 404],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    {
      route: 'POST /api/v1/users/:id/password',
      case: 'own (that is POST /auth/password)',
      request: (actor) =>
        call('POST', `/api/v1/users/${actor.user?.id ?? crypto.randomUUID()}/password`, {
          password: 'sementara-untuk-matriks',
        }),
      expect: everyone(403),
    },
    {
      route: 'PATCH /api/v1/users/:id',
      case: 'own name',
      request: (actor) =>
        call('PATCH', `/api/v1/users/${actor.user?.id ?? crypto.randomUUID()}`, { name: 'Nama Sendiri' }),
      expect: everyone(200),
    },
    {
      route: 'PATCH /api/v1/users/:id',
      case: 'own role',
      request: (actor) =>
        call('PATCH', `/api/v1/users/${actor.user?.id ?? crypto.randomUUID()}`, { role: 'admin' }),
      expect: everyone(403),
    },

    // ── sign-in ───────────────────────────────────────────────────────────
    {
      route: 'POST /api/v1/auth/login',
      case: 'own credentials (anonymous: a national contributor’s)',
      request: (actor, _f, { org }) =>
        call('POST', '/api/v1/auth/login', {
          email: (actor.user ?? org.user('national', 'contributor')).email,
          password: TEST_PASSWORD,
        }),
      expect: everyone(200, { anonymous: 200 }),
    },
    {
      route: 'POST /api/v1/auth/logout',
      request: () => call('POST', '/api/v1/auth/logout'),
      expect: everyone(204, { anonymous: 204 }),
    },
    {
      route: 'GET /api/v1/me',
      request: () => call('GET', '/api/v1/me'),
      expect: everyone(200),
    },
    {
      route: 'POST /api/v1/auth/password',
      request: () =>
        call('POST', '/api/v1/auth/password', { currentPassword: TEST_PASSWORD, newPassword: TEST_PASSWORD }),
      expect: everyone(204),
    },

    // ── API tokens ────────────────────────────────────────────────────────
    {
      route: 'POST /api/v1/tokens',
      request: () => call('POST', '/api/v1/tokens', { name: 'matriks', currentPassword: TEST_PASSWORD }),
      expect: everyone(201),
    },
    {
      route: 'GET /api/v1/tokens',
      request: () => call('GET', '/api/v1/tokens'),
      expect: everyone(200),
    },
    {
      route: 'DELETE /api/v1/tokens/:id',
      case: 'own token',
      request: async (actor, _f, env) =>
        call(
          'DELETE',
          `/api/v1/tokens/${actor.user ? await freshToken(env, actor.user.id) : crypto.randomUUID()}`,
        ),
      expect: everyone(204),
    },
    {
      route: 'DELETE /api/v1/tokens/:id',
      case: 'a token of the contributor of office A1',
      request: async (_actor, _f, env) =>
        call('DELETE', `/api/v1/tokens/${await freshToken(env, env.org.user('officeA1', 'contributor').id)}`),
      expect: statuses({
        national: [404, 404, 404],
        regionA: [404, 404, 404],
        regionB: [404, 404, 404],
        officeA1: [204, 404, 404],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },

    // ── audit ─────────────────────────────────────────────────────────────
    {
      route: 'GET /api/v1/audit',
      case: 'own subtree',
      request: () => call('GET', '/api/v1/audit'),
      expect: statuses({
        national: [403, 403, 200],
        regionA: [403, 403, 200],
        regionB: [403, 403, 200],
        officeA1: [403, 403, 200],
        officeA2: [403, 403, 200],
        officeB1: [403, 403, 200],
        officeB2: [403, 403, 200],
      }),
    },
    {
      route: 'GET /api/v1/audit',
      case: 'region A',
      request: (_actor, _f, { org }) => call('GET', `/api/v1/audit?unitId=${org.units.regionA.id}`),
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
  ],
});
