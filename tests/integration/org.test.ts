import { eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiTokens, auditEvents, sessions, units, users } from '../../src/db/schema';
import { decide } from '../../src/domain/permissions';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import {
  createTestUnit,
  createTestUser,
  seedTestOrg,
  TEST_PASSWORD,
  type TestOrg,
  UNIT_KEYS,
} from '../helpers/org';
import { signIn } from '../helpers/session';

describe.each(testDrivers())('units, users, tokens and audit on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  const admin = () => org.user('national', 'admin').headers;

  beforeAll(async () => {
    t = await createTestApp(driver);
    org = await seedTestOrg(t.ctx);
  });
  afterAll(async () => {
    await t.close();
  });

  const api = (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    headers: Record<string, string>,
    payload?: object,
  ) => t.app.inject({ method, url: `/api/v1${url}`, headers, ...(payload ? { payload } : {}) });

  describe('units', () => {
    it('lists exactly the units decide lets each user read', async () => {
      const all = await t.ctx.db.select().from(units);
      for (const key of UNIT_KEYS)
        for (const role of ['contributor', 'reviewer', 'admin'] as const) {
          const user = org.user(key, role);
          const response = await api('GET', '/units', user.headers);
          expect(response.statusCode).toBe(200);
          const listed = (response.json().units as Array<{ id: string }>).map((u) => u.id).sort();
          const actor = { userId: user.id, role, unitId: org.units[key].id, unitPath: org.units[key].path };
          const expected = all
            .filter((u) => decide(actor, 'unit.read', { type: 'unit', unitPath: u.path }) === 'allow')
            .map((u) => u.id)
            .sort();
          expect(listed, `${key}.${role}`).toEqual(expected);
        }
    });

    it('creates an office that inherits the time zone of its region, or takes an explicit one', async () => {
      const inherited = await api('POST', '/units', admin(), {
        parentId: org.units.regionB.id,
        kind: 'office',
        name: 'Kantor Imigrasi Kelas I TPI Denpasar',
        slug: 'kanim-denpasar',
      });
      expect(inherited.statusCode).toBe(201);
      expect(inherited.json()).toMatchObject({
        kind: 'office',
        parentId: org.units.regionB.id,
        timeZone: 'Asia/Makassar',
        slug: 'kanim-denpasar',
      });
      const explicit = await api('POST', '/units', admin(), {
        parentId: org.units.regionB.id,
        kind: 'office',
        name: 'Kantor Merauke',
        slug: 'kanim-merauke',
        timeZone: 'Asia/Jayapura',
      });
      expect(explicit.json().timeZone).toBe('Asia/Jayapura');
      const [row] = await t.ctx.db.select().from(units).where(eq(units.id, explicit.json().id));
      expect(row!.path).toBe(`${org.units.regionB.path}${row!.id}/`);
    });

    it('refuses an unknown time zone, a taken slug, an office as parent and a second national unit', async () => {
      const base = { parentId: org.units.regionA.id, kind: 'office', name: 'Kantor X' };
      const zone = await api('POST', '/units', admin(), {
        ...base,
        slug: 'kantor-x',
        timeZone: 'Asia/Atlantis',
      });
      expect(zone.statusCode).toBe(400);
      expect(zone.json().errors).toEqual([expect.objectContaining({ field: 'timeZone' })]);

      const taken = await api('POST', '/units', admin(), { ...base, slug: 'kanim-denpasar' });
      expect(taken.statusCode).toBe(409);
      expect(taken.json()).toMatchObject({ code: 'slug_taken', errors: [{ field: 'slug' }] });

      const underOffice = await api('POST', '/units', admin(), {
        ...base,
        parentId: org.units.officeA1.id,
        slug: 'kantor-y',
      });
      expect(underOffice.statusCode).toBe(422);
      expect(underOffice.json()).toMatchObject({ code: 'invalid_parent', errors: [{ field: 'parentId' }] });

      const regionalUnderRegional = await api('POST', '/units', admin(), {
        ...base,
        kind: 'regional',
        slug: 'kanwil-z',
      });
      expect(regionalUnderRegional.statusCode).toBe(422);

      const national = await api('POST', '/units', admin(), { ...base, kind: 'national', slug: 'pusat-2' });
      expect(national.statusCode).toBe(400);
      expect(national.json().errors).toEqual([expect.objectContaining({ field: 'kind' })]);
      await expect(
        createTestUnit(t.ctx, { name: 'Nasional Dua', kind: 'national' }),
        'the database keeps a single root too',
      ).rejects.toThrow();
    });

    it('moves an office with a new path and refuses making a unit its own ancestor', async () => {
      const office = await createTestUnit(t.ctx, {
        name: 'Kantor Pindah',
        kind: 'office',
        parent: org.units.regionA,
      });
      const moved = await api('PATCH', `/units/${office.id}`, admin(), { parentId: org.units.regionB.id });
      expect(moved.statusCode).toBe(200);
      expect(moved.json().parentId).toBe(org.units.regionB.id);
      const [row] = await t.ctx.db.select().from(units).where(eq(units.id, office.id));
      expect(row!.path).toBe(`${org.units.regionB.path}${office.id}/`);

      for (const target of [org.units.regionA, org.units.officeA1]) {
        const cycle = await api('PATCH', `/units/${org.units.regionA.id}`, admin(), { parentId: target.id });
        expect(cycle.statusCode).toBe(422);
        expect(cycle.json()).toMatchObject({ code: 'unit_cycle', errors: [{ field: 'parentId' }] });
      }
      const root = await api('PATCH', `/units/${org.units.national.id}`, admin(), {
        parentId: org.units.regionA.id,
      });
      expect(root.statusCode).toBe(422);
    });

    it('rewrites the paths of every unit below a moved one', async () => {
      // The API builds nothing below an office; a deeper tree is written directly so the rewrite is exercised.
      const parent = await createTestUnit(t.ctx, {
        name: 'Kantor Induk',
        kind: 'office',
        parent: org.units.regionA,
      });
      const child = await createTestUnit(t.ctx, { name: 'Pos Lintas Batas', kind: 'office', parent });
      const grandchild = await createTestUnit(t.ctx, { name: 'Pos Kecil', kind: 'office', parent: child });
      const moved = await api('PATCH', `/units/${parent.id}`, admin(), { parentId: org.units.regionB.id });
      expect(moved.statusCode).toBe(200);
      const rows = await t.ctx.db
        .select()
        .from(units)
        .where(like(units.path, `${org.units.regionB.path}${parent.id}/%`));
      expect(Object.fromEntries(rows.map((u) => [u.id, u.path]))).toEqual({
        [parent.id]: `${org.units.regionB.path}${parent.id}/`,
        [child.id]: `${org.units.regionB.path}${parent.id}/${child.id}/`,
        [grandchild.id]: `${org.units.regionB.path}${parent.id}/${child.id}/${grandchild.id}/`,
      });
      const cycle = await api('PATCH', `/units/${parent.id}`, admin(), { parentId: grandchild.id });
      expect(cycle.statusCode).toBe(422);
      expect(cycle.json().code).toBe('unit_cycle');
    });

    it('lets a regional admin rename their region but not move an office out of it', async () => {
      const regional = org.user('regionA', 'admin').headers;
      const renamed = await api('PATCH', `/units/${org.units.regionA.id}`, regional, {
        name: 'Kanwil A (Jawa)',
      });
      expect(renamed.statusCode).toBe(200);
      const away = await api('PATCH', `/units/${org.units.officeA2.id}`, regional, {
        parentId: org.units.regionB.id,
      });
      expect(away.statusCode).toBe(404);
      expect(away.json().errors).toEqual([expect.objectContaining({ field: 'parentId' })]);
      const [row] = await t.ctx.db.select().from(units).where(eq(units.id, org.units.officeA2.id));
      expect(row!.parentId).toBe(org.units.regionA.id);
      const events = await t.ctx.db
        .select()
        .from(auditEvents)
        .where(eq(auditEvents.targetId, org.units.regionA.id));
      expect(events.find((e) => e.action === 'unit.updated')?.details).toMatchObject({
        changes: { name: { from: 'Kanwil A', to: 'Kanwil A (Jawa)' } },
      });
    });
  });

  describe('users', () => {
    it('creates a user with a hashed password, unique e-mail whatever the case', async () => {
      const created = await api('POST', '/users', org.user('regionA', 'admin').headers, {
        email: 'Siti.Nuraini@Imigrasi.example',
        name: "Siti Nur'aini, S.H.",
        role: 'reviewer',
        unitId: org.units.officeA1.id,
        locale: 'en',
        password: 'kata-sandi-awal-123',
      });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({
        email: 'siti.nuraini@imigrasi.example',
        name: "Siti Nur'aini, S.H.",
        locale: 'en',
        disabled: false,
      });
      expect(created.json()).not.toHaveProperty('passwordHash');
      const [row] = await t.ctx.db.select().from(users).where(eq(users.id, created.json().id));
      expect(row!.passwordHash).toMatch(/^scrypt\$/);

      const again = await api('POST', '/users', admin(), {
        email: 'SITI.NURAINI@imigrasi.example',
        name: 'Siti Lain',
        role: 'contributor',
        unitId: org.units.officeB1.id,
        password: 'kata-sandi-awal-456',
      });
      expect(again.statusCode).toBe(409);
      expect(again.json()).toMatchObject({ code: 'email_taken', errors: [{ field: 'email' }] });
      await signIn(t.app, 'siti.nuraini@imigrasi.example', 'kata-sandi-awal-123');
    });

    it('keeps admins inside their subtree', async () => {
      const regional = org.user('regionA', 'admin').headers;
      const outside = await api('POST', '/users', regional, {
        email: 'luar@gaung.test',
        name: 'Orang Luar',
        role: 'admin',
        unitId: org.units.national.id,
        password: 'kata-sandi-awal-123',
      });
      expect(outside.statusCode).toBe(403);
      const otherRegion = await api('POST', '/users', regional, {
        email: 'luar2@gaung.test',
        name: 'Orang Luar',
        role: 'contributor',
        unitId: org.units.officeB1.id,
        password: 'kata-sandi-awal-123',
      });
      expect(otherRegion.statusCode).toBe(404);

      const target = await createTestUser(t.ctx, { unit: org.units.officeA1, role: 'contributor' });
      const promote = await api('PATCH', `/users/${target.id}`, regional, { role: 'admin' });
      expect(promote.statusCode).toBe(200);
      expect(promote.json().role).toBe('admin');
      const exported = await api('PATCH', `/users/${target.id}`, regional, { unitId: org.units.officeB1.id });
      expect(exported.statusCode).toBe(404);
      expect(exported.json().errors).toEqual([expect.objectContaining({ field: 'unitId' })]);
      const upward = await api('PATCH', `/users/${target.id}`, regional, { unitId: org.units.national.id });
      expect(upward.statusCode).toBe(403);
      const self = await api('PATCH', `/users/${org.user('regionA', 'admin').id}`, regional, {
        role: 'contributor',
      });
      expect(self.statusCode).toBe(403);
      const [row] = await t.ctx.db.select().from(users).where(eq(users.id, target.id));
      expect(row!.unitId).toBe(org.units.officeA1.id);
    });

    it('lets a user change their own name and locale, nothing else', async () => {
      const me = await createTestUser(t.ctx, { unit: org.units.officeB2, role: 'contributor' });
      const profile = await api('PATCH', `/users/${me.id}`, me.headers, { name: 'Nama Baru', locale: 'en' });
      expect(profile.statusCode).toBe(200);
      expect(profile.json()).toMatchObject({ name: 'Nama Baru', locale: 'en', role: 'contributor' });
      expect((await api('PATCH', `/users/${me.id}`, me.headers, { role: 'admin' })).statusCode).toBe(403);
      expect((await api('GET', `/users/${me.id}`, me.headers)).statusCode).toBe(200);
    });

    it('disabling a user ends their sessions and stops their tokens at once; enabling restores the token', async () => {
      const person = await createTestUser(t.ctx, { unit: org.units.officeA2, role: 'reviewer' });
      const session = await signIn(t.app, person.email, TEST_PASSWORD);
      expect((await api('GET', '/me', session.cookie)).statusCode).toBe(200);
      const disabled = await api('PATCH', `/users/${person.id}`, org.user('officeA2', 'admin').headers, {
        disabled: true,
      });
      expect(disabled.statusCode).toBe(200);
      expect(disabled.json().disabled).toBe(true);
      expect(await t.ctx.db.select().from(sessions).where(eq(sessions.userId, person.id))).toEqual([]);
      expect((await api('GET', '/me', session.cookie)).statusCode).toBe(401);
      expect((await api('GET', '/me', person.headers)).statusCode).toBe(401);
      const login = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: person.email, password: TEST_PASSWORD },
      });
      expect(login.statusCode).toBe(401);
      expect(login.json().code).toBe('invalid_credentials');
      await api('PATCH', `/users/${person.id}`, org.user('officeA2', 'admin').headers, { disabled: false });
      expect((await api('GET', '/me', person.headers)).statusCode).toBe(200);
    });

    it('lists the users of a subtree to its admins, page by page', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `/users?unitId=${org.units.regionB.id}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page = await api('GET', query, org.user('regionB', 'admin').headers);
        expect(page.statusCode).toBe(200);
        const body = page.json() as {
          users: Array<{ id: string; email: string }>;
          nextCursor: string | null;
        };
        seen.push(...body.users.map((u) => u.id));
        cursor = body.nextCursor;
      } while (cursor);
      const expected = await t.ctx.db
        .select({ id: users.id })
        .from(users)
        .innerJoin(units, eq(units.id, users.unitId))
        .where(like(units.path, `${org.units.regionB.path}%`));
      expect(seen.sort()).toEqual(expected.map((u) => u.id).sort());
      const admins = await api('GET', '/users?role=admin', org.user('regionB', 'admin').headers);
      expect(admins.json().users.every((u: { role: string }) => u.role === 'admin')).toBe(true);
      expect((await api('GET', '/users', org.user('regionB', 'reviewer').headers)).statusCode).toBe(403);
    });
  });

  describe('API tokens', () => {
    it('shows the secret once, stores only its hash, lists, expires and revokes', async () => {
      const owner = org.user('officeB1', 'contributor');
      const created = await api('POST', '/tokens', owner.headers, {
        name: 'cron unggah',
        currentPassword: TEST_PASSWORD,
      });
      expect(created.statusCode).toBe(201);
      const { token, secret } = created.json() as { token: { id: string; prefix: string }; secret: string };
      expect(secret).toMatch(/^gaung_[A-Za-z0-9_-]{43}$/);
      expect(secret.startsWith(token.prefix)).toBe(true);
      const [row] = await t.ctx.db.select().from(apiTokens).where(eq(apiTokens.id, token.id));
      expect(JSON.stringify(row)).not.toContain(secret);

      const bearer = { authorization: `Bearer ${secret}` };
      expect((await api('GET', '/me', bearer)).json().user.id).toBe(owner.id);
      const listed = await api('GET', '/tokens', owner.headers);
      const mine = listed.json().tokens.find((x: { id: string }) => x.id === token.id);
      expect(mine).toMatchObject({ name: 'cron unggah', revokedAt: null });
      expect(mine.lastUsedAt).not.toBeNull();
      expect(JSON.stringify(listed.json())).not.toContain(secret);

      expect(
        (await api('DELETE', `/tokens/${token.id}`, org.user('officeB1', 'admin').headers)).statusCode,
      ).toBe(404);
      expect((await api('DELETE', `/tokens/${token.id}`, owner.headers)).statusCode).toBe(204);
      const after = await api('GET', '/me', bearer);
      expect(after.statusCode).toBe(401);
      expect(after.json().code).toBe('invalid_token');

      const past = await api('POST', '/tokens', owner.headers, {
        name: 'lama',
        currentPassword: TEST_PASSWORD,
        expiresAt: '2020-01-01T00:00:00Z',
      });
      expect(past.statusCode).toBe(400);
      expect(past.json().errors).toEqual([expect.objectContaining({ field: 'expiresAt' })]);
      const soon = await api('POST', '/tokens', owner.headers, {
        name: 'sebentar',
        currentPassword: TEST_PASSWORD,
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      });
      expect(soon.statusCode).toBe(201);
      await t.ctx.db
        .update(apiTokens)
        .set({ expiresAt: new Date(Date.now() - 1_000) })
        .where(eq(apiTokens.id, soon.json().token.id));
      expect((await api('GET', '/me', { authorization: `Bearer ${soon.json().secret}` })).statusCode).toBe(
        401,
      );

      const trail = await t.ctx.db.select().from(auditEvents).where(eq(auditEvents.targetId, token.id));
      expect(trail.map((e) => e.action).sort()).toEqual(['token.created', 'token.revoked']);
      expect(trail.every((e) => e.ip === '127.0.0.1' && e.actorId === owner.id)).toBe(true);
    });
  });

  describe('audit', () => {
    it('shows admins the events of their subtree, filtered and page by page', async () => {
      const regional = org.user('regionA', 'admin').headers;
      const mine = await api('GET', '/audit?limit=200', regional);
      expect(mine.statusCode).toBe(200);
      const inScope = new Set(
        (
          await t.ctx.db
            .select()
            .from(units)
            .where(like(units.path, `${org.units.regionA.path}%`))
        ).map((u) => u.id),
      );
      const events = mine.json().events as Array<{ id: string; unit: { id: string } | null; action: string }>;
      expect(events.length).toBeGreaterThan(0);
      expect(events.every((e) => e.unit && inScope.has(e.unit.id))).toBe(true);

      const national = await api('GET', '/audit?action=unit.created&limit=1', admin());
      const first = national.json() as { events: Array<{ action: string; id: string }>; nextCursor: string };
      expect(first.events).toHaveLength(1);
      expect(first.events[0]!.action).toBe('unit.created');
      const second = await api(
        'GET',
        `/audit?action=unit.created&limit=1&cursor=${first.nextCursor}`,
        admin(),
      );
      expect(Number(second.json().events[0].id)).toBeLessThan(Number(first.events[0]!.id));

      const future = await api(
        'GET',
        `/audit?from=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`,
        admin(),
      );
      expect(future.json().events).toEqual([]);

      expect((await api('GET', `/audit?unitId=${org.units.regionB.id}`, regional)).statusCode).toBe(404);
      expect((await api('GET', '/audit', org.user('regionA', 'reviewer').headers)).statusCode).toBe(403);
    });
  });
});
