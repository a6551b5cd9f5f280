import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiTokens, users } from '../../src/db/schema';
import { sha256Hex } from '../../src/infra/crypto';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { createTestUser, seedTestOrg, TEST_PASSWORD, type TestOrg } from '../helpers/org';
import { ACCESS_TABLES } from './access/index';
import {
  ACTOR_KEYS,
  type ActorKey,
  MATRIX_APP_ENV,
  type MatrixActor,
  type MatrixEnv,
  registeredApiRoutes,
  requestMatches,
} from './access/table';

const tableRoutes = [...new Set(ACCESS_TABLES.flatMap((table) => table.rows.map((row) => row.route)))].sort();

describe.each(testDrivers())('access matrix on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let env: MatrixEnv;
  const actors: MatrixActor[] = [];
  const fixtures = new Map<string, unknown>();
  /** The hashes of the tokens the 21 users and the disabled admin call with. */
  let seeded: string[] = [];

  beforeAll(async () => {
    t = await createTestApp(driver, { env: MATRIX_APP_ENV });
    org = await seedTestOrg(t.ctx);
    env = { app: t.app, ctx: t.ctx, org };
    const revoked = await createTestUser(t.ctx, { unit: org.units.national, role: 'admin' });
    await t.ctx.db.update(apiTokens).set({ revokedAt: new Date() }).where(eq(apiTokens.userId, revoked.id));
    const disabled = await createTestUser(t.ctx, { unit: org.units.national, role: 'admin' });
    await t.ctx.db.update(users).set({ disabledAt: new Date() }).where(eq(users.id, disabled.id));
    for (const key of ACTOR_KEYS) {
      if (key === 'anonymous') actors.push({ key, user: null, headers: {} });
      else if (key === 'revoked') actors.push({ key, user: revoked, headers: revoked.headers });
      else if (key === 'disabled') actors.push({ key, user: disabled, headers: disabled.headers });
      else {
        const [unit, role] = key.split('.') as [keyof TestOrg['units'], 'contributor' | 'reviewer' | 'admin'];
        const user = org.user(unit, role);
        actors.push({ key, user, headers: user.headers });
      }
    }
    seeded = actors.filter((a) => a.user && a.key !== 'revoked').map((a) => sha256Hex(a.user!.token));
    for (const table of ACCESS_TABLES) fixtures.set(table.name, await table.setup(env));
  });
  afterAll(async () => {
    await t.close();
  });

  it('has rows for every registered API route, and none for a route that does not exist', () => {
    const registered = registeredApiRoutes(t.app);
    expect(registered).toContain('GET /api/v1/units/:id');
    expect(
      registered.filter((route) => !tableRoutes.includes(route)),
      'routes without rows in tests/integration/access/',
    ).toEqual([]);
    expect(
      tableRoutes.filter((route) => !registered.includes(route)),
      'rows for routes that are not registered',
    ).toEqual([]);
  });

  for (const table of ACCESS_TABLES)
    describe(table.name, () => {
      for (const row of table.rows)
        it(`${row.route}${row.case ? ` — ${row.case}` : ''}`, async () => {
          const actual = {} as Record<ActorKey, number>;
          for (const actor of actors) {
            const request = await row.request(actor, fixtures.get(table.name), env);
            expect(requestMatches(row.route, request), `${actor.key} calls ${row.route}`).toBe(true);
            const response = await t.app.inject({
              ...request,
              headers: { ...actor.headers, ...(request.headers as Record<string, string> | undefined) },
            });
            actual[actor.key] = response.statusCode;
            if (response.statusCode >= 500) throw new Error(`${actor.key}: ${response.body}`);
          }
          // A password change revokes its person's API tokens: the callers get theirs back for the next row.
          await t.ctx.db
            .update(apiTokens)
            .set({ revokedAt: null })
            .where(inArray(apiTokens.tokenHash, seeded));
          expect(actual).toEqual(row.expect);
        });
    });

  it('logged none of the tokens or the password used', () => {
    for (const actor of actors) if (actor.user) expect(t.logs.text).not.toContain(actor.user.token);
    expect(t.logs.text).not.toContain(TEST_PASSWORD);
  });
});
