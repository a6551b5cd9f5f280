import { Readable } from 'node:stream';
import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetPasswordCommand, UsageError } from '../../src/admin-cli';
import { apiTokens, auditEvents, users } from '../../src/db/schema';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { createTestUser, seedTestOrg, TEST_PASSWORD, type TestOrg, type TestUser } from '../helpers/org';
import { signIn, submitForm } from '../helpers/session';

/**
 * Credentials outlive nothing they should not: a new password revokes the API tokens made with the
 * old one, minting a token asks for the password, admins of one unit never reset each other, and
 * the operator resets a national admin from the command line.
 */
describe.each(testDrivers())('credentials on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    t = await createTestApp(driver);
    org = await seedTestOrg(t.ctx);
  });
  afterAll(async () => {
    await t.close();
  });

  const me = (headers: Record<string, string>) => t.app.inject({ url: '/api/v1/me', headers });
  const liveTokens = async (userId: string) =>
    (
      await t.ctx.db
        .select({ id: apiTokens.id })
        .from(apiTokens)
        .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
    ).length;
  const mint = (user: TestUser, body: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: user.headers, payload: body });

  it('mints an API token only with the current password, and stores nothing otherwise', async () => {
    const user = await createTestUser(t.ctx, { unit: org.units.officeA1, role: 'contributor' });
    const missing = await mint(user, { name: 'skrip' });
    expect(missing.statusCode).toBe(400);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect(missing.json().errors).toEqual([expect.objectContaining({ field: 'currentPassword' })]);
    const wrong = await mint(user, { name: 'skrip', currentPassword: 'bukan-kata-sandinya' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({
      code: 'wrong_password',
      errors: [expect.objectContaining({ field: 'currentPassword' })],
    });
    expect(await liveTokens(user.id)).toBe(1);
    const right = await mint(user, { name: 'skrip', currentPassword: TEST_PASSWORD });
    expect(right.statusCode).toBe(201);
    expect(await liveTokens(user.id)).toBe(2);
  });

  it('counts wrong passwords at minting like failed sign-ins', async () => {
    const user = await createTestUser(t.ctx, { unit: org.units.officeA1, role: 'contributor' });
    for (let i = 0; i < t.config.GAUNG_LOGIN_MAX_FAILURES; i += 1)
      expect((await mint(user, { name: 'tebak', currentPassword: `tebakan-${i}` })).statusCode).toBe(400);
    const throttled = await mint(user, { name: 'tebak', currentPassword: TEST_PASSWORD });
    expect(throttled.statusCode).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('revokes every API token of a person who changes their password', async () => {
    const user = await createTestUser(t.ctx, { unit: org.units.officeA1, role: 'reviewer' });
    const minted = await mint(user, { name: 'kedua', currentPassword: TEST_PASSWORD });
    const second = { authorization: `Bearer ${minted.json().secret}` };
    expect((await me(second)).statusCode).toBe(200);
    const session = await signIn(t.app, user.email, TEST_PASSWORD);
    const changed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: session.headers,
      payload: { currentPassword: TEST_PASSWORD, newPassword: 'kata-sandi-baru-sekali' },
    });
    expect(changed.statusCode).toBe(204);
    expect((await me(user.headers)).statusCode).toBe(401);
    expect((await me(second)).statusCode).toBe(401);
    expect((await me(session.cookie)).statusCode).toBe(200);
    expect(await liveTokens(user.id)).toBe(0);
    const [event] = await t.ctx.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.targetId, user.id), eq(auditEvents.action, 'auth.password_changed')));
    expect(event!.details).toMatchObject({ tokensRevoked: 2 });
  });

  it('revokes every API token of a person whose password an admin resets', async () => {
    const user = await createTestUser(t.ctx, { unit: org.units.officeA1, role: 'contributor' });
    const reset = await t.app.inject({
      method: 'POST',
      url: `/api/v1/users/${user.id}/password`,
      headers: org.user('regionA', 'admin').headers,
      payload: { password: 'sementara-dari-admin' },
    });
    expect(reset.statusCode).toBe(200);
    expect((await me(user.headers)).statusCode).toBe(401);
    expect(await liveTokens(user.id)).toBe(0);
  });

  it('lets no admin reset the password of another admin of the same unit, in the API or the pages', async () => {
    const peer = await createTestUser(t.ctx, { unit: org.units.regionA, role: 'admin' });
    const actor = org.user('regionA', 'admin');
    const [before] = await t.ctx.db.select().from(users).where(eq(users.id, peer.id));
    const api = await t.app.inject({
      method: 'POST',
      url: `/api/v1/users/${peer.id}/password`,
      headers: actor.headers,
      payload: { password: 'ambil-alih-akun-rekan' },
    });
    expect(api.statusCode).toBe(403);

    const session = await signIn(t.app, actor.email, TEST_PASSWORD);
    const page = await t.app.inject({ url: '/admin/users', headers: session.cookie });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`data-user="${peer.id}"`);
    expect(page.body).not.toContain(`/admin/users/${peer.id}/password`);
    // An office's admin below is still theirs to help.
    const below = org.user('officeA1', 'admin');
    expect(page.body).toContain(`/admin/users/${below.id}/password`);
    const form = await submitForm(t.app, session, `/admin/users/${peer.id}/password`, {
      password: 'ambil-alih-akun-rekan',
    });
    expect(form.statusCode).toBe(403);

    const [after] = await t.ctx.db.select().from(users).where(eq(users.id, peer.id));
    expect(after!.passwordHash).toBe(before!.passwordHash);
    expect((await me(peer.headers)).statusCode).toBe(200);
  });

  describe('npm run admin:reset-password', () => {
    const run = async (argv: string[], stdin = '') => {
      const out: string[] = [];
      await resetPasswordCommand(t.ctx, argv, { stdin: Readable.from([stdin]), out: (l) => out.push(l) });
      return out.join('\n');
    };

    it('sets a national admin’s password read from stdin, ends their tokens and records it', async () => {
      const admin = await createTestUser(t.ctx, { unit: org.units.national, role: 'admin' });
      const out = await run(['--email', admin.email.toUpperCase(), '--stdin'], 'kata-sandi-dari-operator\n');
      expect(out).not.toContain('kata-sandi-dari-operator');
      expect((await me(admin.headers)).statusCode).toBe(401);
      const session = await signIn(t.app, admin.email, 'kata-sandi-dari-operator');
      // Chosen by the operator with the person: no forced change.
      expect((await me(session.cookie)).json().user.passwordMustChange).toBe(false);
      const [event] = await t.ctx.db
        .select()
        .from(auditEvents)
        .where(and(eq(auditEvents.targetId, admin.id), eq(auditEvents.action, 'user.password_reset')));
      expect(event).toMatchObject({ actorId: null, details: { via: 'cli', tokensRevoked: 1 } });
      expect(t.logs.text).not.toContain('kata-sandi-dari-operator');
    });

    it('prints a temporary password, which must be replaced at the next sign-in', async () => {
      const admin = await createTestUser(t.ctx, { unit: org.units.national, role: 'admin' });
      const out = await run(['--email', admin.email]);
      const temporary = /temporary password of \S+: (\S+)/.exec(out)?.[1];
      expect(temporary).toMatch(/^[A-Za-z0-9_-]{20}$/);
      const session = await signIn(t.app, admin.email, temporary!);
      expect((await me(session.cookie)).json().user.passwordMustChange).toBe(true);
    });

    it('refuses an unknown address and a short password, changing nothing', async () => {
      const admin = await createTestUser(t.ctx, { unit: org.units.national, role: 'admin' });
      await expect(run(['--email', 'tidak-ada@gaung.test'])).rejects.toThrow(UsageError);
      await expect(run(['--email', admin.email, '--stdin'], 'pendek\n')).rejects.toThrow(/at least 12/);
      expect((await me(admin.headers)).statusCode).toBe(200);
    });
  });
});
