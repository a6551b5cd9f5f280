import { inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client';
import { apiTokens, sessions, users } from '../../src/db/schema';
import { sha256Hex } from '../../src/infra/crypto';
import { messagesFor } from '../../src/web/i18n/index';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { createTestUser, seedTestOrg, TEST_PASSWORD, type TestOrg } from '../helpers/org';
import { signIn, type TestSession } from '../helpers/session';
import {
  ACTOR_KEYS,
  type ActorKey,
  MATRIX_APP_ENV,
  type MatrixActor,
  type MatrixEnv,
  registeredWebRoutes,
  requestMatches,
} from './access/table';
import { WEB_ACCESS_TABLES } from './access/web/index';
import { type WebRequest, webInject } from './access/web/table';

/**
 * Web routes (pages, forms, the queue dashboard) called by every kind of caller with a session
 * cookie, with the exact status expected for each (tables in access/web/). Every registered web
 * route needs a row, and a route is public only by its row. A refused form changes nothing in the
 * database, and every form acting for a session is refused for a missing or forged CSRF token
 * alone: the same valid form goes through with the session's token.
 */

const tableRoutes = [
  ...new Set(WEB_ACCESS_TABLES.flatMap((table) => table.rows.map((row) => row.route))),
].sort();

type WebActor = MatrixActor & { csrfToken: string | null; session: TestSession | null };

/** Tables whose rows change with every request (sessions slide, sign-ins are logged) are left out. */
const VOLATILE = new Set(['sessions', 'audit_events']);

const csrfTexts = (['id', 'en'] as const).map((locale) => messagesFor(locale).problems.csrf_failed);

describe.each(testDrivers())('web access matrix on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let env: MatrixEnv;
  const actors: WebActor[] = [];
  const fixtures = new Map<string, unknown>();
  let passwordHash: string;
  let tables: string[];

  /** A digest of every table's rows, in one query: equal before and after means the request stored nothing. */
  async function fingerprint(): Promise<string> {
    const digests = tables
      .map(
        (table) =>
          `select '${table}:' || md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as d from "${table}" t`,
      )
      .join(' union all ');
    const [row] = await queryRows<{ d: string }>(
      t.ctx.db,
      sql.raw(`select string_agg(d, ',') as d from (${digests}) x`),
    );
    return row!.d;
  }

  /** Whether a response turned the caller away (refused, or sent to sign in). */
  const refused = (status: number, location: unknown) =>
    status >= 400 || (status === 303 && String(location).startsWith('/login'));

  async function signInAs(key: ActorKey, email: string): Promise<WebActor['session']> {
    const session = await signIn(t.app, email, TEST_PASSWORD);
    const actor = actors.find((a) => a.key === key);
    if (actor) Object.assign(actor, { session, csrfToken: session.csrfToken, headers: session.cookie });
    return session;
  }

  /**
   * After a row: a password changed or a session ended by the row is put back, so every caller
   * calls the next row as before (sign-out, a new password of one's own, a password reset).
   */
  async function restoreCallers() {
    const people = actors.filter((a) => a.key !== 'revoked' && a.key !== 'anonymous' && a.user);
    await t.ctx.db
      .update(users)
      .set({ passwordHash, passwordMustChange: false })
      .where(
        inArray(
          users.id,
          people.map((a) => a.user!.id),
        ),
      );
    await t.ctx.db
      .update(apiTokens)
      .set({ revokedAt: null })
      .where(
        inArray(
          apiTokens.userId,
          people.map((a) => a.user!.id),
        ),
      );
    const live = new Set(
      (
        await t.ctx.db
          .select({ id: sessions.id })
          .from(sessions)
          .where(
            inArray(
              sessions.id,
              people.flatMap((a) => (a.session ? [sha256Hex(a.session.secret)] : [])),
            ),
          )
      ).map((row) => row.id),
    );
    for (const actor of people)
      if (actor.key !== 'disabled' && actor.session && !live.has(sha256Hex(actor.session.secret)))
        await signInAs(actor.key, actor.user!.email);
  }

  beforeAll(async () => {
    t = await createTestApp(driver, { env: MATRIX_APP_ENV });
    org = await seedTestOrg(t.ctx);
    env = { app: t.app, ctx: t.ctx, org };
    const [hashRow] = await t.ctx.db
      .select({ hash: users.passwordHash })
      .from(users)
      .where(inArray(users.id, [org.user('national', 'admin').id]));
    passwordHash = hashRow!.hash!;
    for (const key of ACTOR_KEYS) {
      if (key === 'anonymous') {
        actors.push({ key, user: null, headers: {}, csrfToken: null, session: null });
        continue;
      }
      const user =
        key === 'revoked' || key === 'disabled'
          ? await createTestUser(t.ctx, { unit: org.units.national, role: 'admin' })
          : org.user(...(key.split('.') as [keyof TestOrg['units'], 'contributor' | 'reviewer' | 'admin']));
      actors.push({ key, user, headers: {}, csrfToken: null, session: null });
      await signInAs(key, user.email);
    }
    // A session that signed out, and the session of an admin disabled since.
    const revoked = actors.find((a) => a.key === 'revoked')!;
    await t.app.inject(webInject({ method: 'POST', url: '/logout', form: {} }, revoked));
    const disabled = actors.find((a) => a.key === 'disabled')!;
    await t.ctx.db
      .update(users)
      .set({ disabledAt: new Date() })
      .where(inArray(users.id, [disabled.user!.id]));
    tables = (
      await queryRows<{ name: string }>(
        t.ctx.db,
        sql`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
      )
    )
      .map((row) => row.name)
      .filter((name) => !VOLATILE.has(name));
    for (const table of WEB_ACCESS_TABLES) fixtures.set(table.name, await table.setup(env));
    // Two dozen sign-ins, each hashing a password.
  }, 600_000);
  afterAll(async () => {
    await t.close();
  });

  it('has rows for every registered web route, and none for a route that does not exist', () => {
    const registered = registeredWebRoutes(t.app);
    expect(registered).toContain('GET /posts/:id');
    expect(registered).toContain('POST /admin/users/:id/password');
    expect(
      registered.filter((route) => !tableRoutes.includes(route)),
      'web routes without rows in tests/integration/access/web/',
    ).toEqual([]);
    expect(
      tableRoutes.filter((route) => !registered.includes(route)),
      'rows for routes that are not registered',
    ).toEqual([]);
  });

  for (const table of WEB_ACCESS_TABLES)
    describe(table.name, () => {
      for (const row of table.rows)
        it(`${row.route}${row.case ? ` — ${row.case}` : ''}`, async () => {
          const actual = {} as Record<ActorKey, number>;
          const changed: string[] = [];
          for (const actor of actors) {
            const request = await row.request(actor, fixtures.get(table.name), env);
            expect(requestMatches(row.route, request), `${actor.key} calls ${row.route}`).toBe(true);
            const writes = request.method !== 'GET';
            const before = writes ? await fingerprint() : '';
            const response = await t.app.inject(webInject(request, actor));
            actual[actor.key] = response.statusCode;
            if (response.statusCode >= 500) throw new Error(`${actor.key}: ${response.body}`);
            if (
              writes &&
              refused(response.statusCode, response.headers.location) &&
              before !== (await fingerprint())
            )
              changed.push(`${actor.key} → ${response.statusCode}`);
          }
          await restoreCallers();
          expect(actual).toEqual(row.expect);
          expect(changed, 'refused requests that changed stored rows').toEqual([]);
        });
    });

  /**
   * Every form that acts for a session, each with a caller it reaches (not refused 403/404 for who
   * they are): with that caller's token it gets what its row says, without it 403 csrf_failed.
   * Signing in and Telegram's webhook act for no session.
   */
  const sessionless = new Set(['POST /login', 'POST /hooks/telegram/source']);
  const writes = WEB_ACCESS_TABLES.flatMap((table) =>
    table.rows
      .filter((row) => !row.route.startsWith('GET ') && !sessionless.has(row.route))
      .map((row) => ({ table, row })),
  );
  const forms = writes.map(({ table, row }) => ({
    table,
    row,
    caller: ACTOR_KEYS.find(
      (key) =>
        key !== 'anonymous' &&
        key !== 'revoked' &&
        key !== 'disabled' &&
        ![403, 404].includes(row.expect[key]),
    ),
  }));

  it('has a caller for every form that acts for a session', () => {
    expect(forms.filter((f) => f.caller === undefined).map((f) => f.row.route)).toEqual([]);
  });

  it.each(forms.map((f) => [`${f.row.route}${f.row.case ? ` — ${f.row.case}` : ''}`, f] as const))(
    'refuses %s for its CSRF token alone',
    async (_name, { table, row, caller }) => {
      const actor = actors.find((a) => a.key === caller)!;
      const request: WebRequest = await row.request(actor, fixtures.get(table.name), env);
      for (const token of [null, 'forged-csrf-token']) {
        const before = await fingerprint();
        const response = await t.app.inject(webInject(request, actor, token));
        expect(
          response.statusCode,
          `${caller} with ${token ?? 'no token'}: ${response.body.slice(0, 300)}`,
        ).toBe(403);
        if (response.headers['content-type']?.toString().includes('json'))
          expect((response.json() as { code: string }).code).toBe('csrf_failed');
        else
          expect(
            csrfTexts.some((text) => response.body.includes(text)),
            response.body.slice(0, 500),
          ).toBe(true);
        expect(await fingerprint()).toBe(before);
      }
      const done = await t.app.inject(webInject(request, actor));
      await restoreCallers();
      expect(done.statusCode, done.body.slice(0, 500)).toBe(row.expect[caller!]);
    },
  );
});
