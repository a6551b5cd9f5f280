import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../src/app';
import { assembleContext } from '../../src/context';
import { auditEvents, sessions, users } from '../../src/db/schema';
import { SESSION_COOKIE } from '../../src/http/auth';
import { sha256Hex } from '../../src/infra/crypto';
import { createLogger } from '../../src/logger';
import { createTestApp, LogCapture, type TestApp, testRedisTarget } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { createTestUser, seedTestOrg, TEST_PASSWORD, type TestOrg } from '../helpers/org';
import { signIn } from '../helpers/session';

const HOUR = 60 * 60 * 1000;
const WINDOW_SECONDS = 3;
const MAX_FAILURES = 10;
const MAX_FAILURES_PER_IP = 25;
const LOGIN_ENV = {
  GAUNG_TRUST_PROXY: '1',
  GAUNG_LOGIN_WINDOW_SECONDS: String(WINDOW_SECONDS),
  GAUNG_LOGIN_MAX_FAILURES: String(MAX_FAILURES),
  GAUNG_LOGIN_MAX_FAILURES_PER_IP: String(MAX_FAILURES_PER_IP),
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(testDrivers())('sign-in, sessions and the login throttle on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  /** Shifts the application's clock (sessions, expiry); Redis keeps real time. */
  let clockOffset = 0;
  /** Every secret this file handles, searched for in the logs at the end. */
  const secrets = new Set<string>([TEST_PASSWORD]);

  beforeAll(async () => {
    t = await createTestApp(driver, { env: LOGIN_ENV, now: () => new Date(Date.now() + clockOffset) });
    org = await seedTestOrg(t.ctx);
  });
  afterAll(async () => {
    await t.close();
  });

  const login = (
    email: string,
    password: string,
    options: { ip?: string; headers?: Record<string, string> } = {},
  ) => {
    secrets.add(password);
    return t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: options.ip ?? '127.0.0.1',
      headers: options.headers,
      payload: { email, password },
    });
  };
  const remember = <S extends { secret: string; csrfToken: string }>(session: S): S => {
    secrets.add(session.secret);
    secrets.add(sha256Hex(session.secret));
    secrets.add(session.csrfToken);
    return session;
  };

  it('signs in into a server-side session behind an HttpOnly, SameSite=Lax cookie, Secure behind HTTPS', async () => {
    const user = org.user('officeA1', 'reviewer');
    const plain = await login(user.email.toUpperCase(), TEST_PASSWORD, { ip: '10.1.0.1' });
    expect(plain.statusCode).toBe(200);
    const cookie = plain.cookies.find((c) => c.name === SESSION_COOKIE)!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', maxAge: 30 * 24 * 3600 });
    expect(cookie.secure).toBeFalsy();
    const body = plain.json();
    expect(body.user).toMatchObject({ id: user.id, email: user.email, role: 'reviewer' });
    expect(body.unit).toMatchObject({ id: org.units.officeA1.id, timeZone: 'Asia/Jakarta' });
    expect(body.csrfToken).toEqual(expect.any(String));
    remember({ secret: cookie.value, csrfToken: body.csrfToken });

    const [row] = await t.ctx.db
      .select()
      .from(sessions)
      .where(eq(sessions.id, sha256Hex(cookie.value)));
    expect(row).toMatchObject({ userId: user.id, ip: '10.1.0.1' });
    expect(JSON.stringify(await t.ctx.db.select().from(sessions))).not.toContain(cookie.value);

    const secure = await login(user.email, TEST_PASSWORD, { headers: { 'x-forwarded-proto': 'https' } });
    const secureCookie = secure.cookies.find((c) => c.name === SESSION_COOKIE)!;
    expect(secureCookie.secure).toBe(true);
    remember({ secret: secureCookie.value, csrfToken: secure.json().csrfToken });

    const trail = await t.ctx.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, 'auth.login'), eq(auditEvents.actorId, user.id)));
    expect(trail.map((e) => e.ip)).toContain('10.1.0.1');
    expect(trail[0]!.unitId).toBe(org.units.officeA1.id);
  });

  it('takes sign-ins as JSON only, and replaces the session a browser already had', async () => {
    const user = org.user('officeA2', 'admin');
    const form = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `email=${encodeURIComponent(user.email)}&password=${encodeURIComponent(TEST_PASSWORD)}`,
    });
    expect(form.statusCode).toBe(415);
    expect(form.cookies).toEqual([]);
    const first = remember(await signIn(t.app, user.email, TEST_PASSWORD));
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: first.cookie,
      payload: { email: user.email, password: TEST_PASSWORD },
    });
    expect(again.statusCode).toBe(200);
    remember({
      secret: again.cookies.find((c) => c.name === SESSION_COOKIE)!.value,
      csrfToken: again.json().csrfToken,
    });
    expect((await t.app.inject({ url: '/api/v1/me', headers: first.cookie })).statusCode).toBe(401);
  });

  it('answers /me with the user, the unit and its time zone, and the CSRF token for sessions only', async () => {
    const user = org.user('officeB2', 'contributor');
    const session = remember(await signIn(t.app, user.email, TEST_PASSWORD));
    const viaCookie = await t.app.inject({ url: '/api/v1/me', headers: session.cookie });
    expect(viaCookie.json()).toMatchObject({
      user: { id: user.id },
      unit: { id: org.units.officeB2.id, timeZone: 'Asia/Jayapura' },
      csrfToken: session.csrfToken,
    });
    const viaToken = await t.app.inject({ url: '/api/v1/me', headers: user.headers });
    expect(viaToken.json()).not.toHaveProperty('csrfToken');
    expect((await t.app.inject({ url: '/api/v1/me' })).statusCode).toBe(401);
  });

  it('requires the CSRF token for cookie-authenticated writes, not for Bearer ones', async () => {
    const user = org.user('officeA2', 'contributor');
    const session = remember(await signIn(t.app, user.email, TEST_PASSWORD));
    const other = remember(await signIn(t.app, org.user('officeA2', 'reviewer').email, TEST_PASSWORD));
    const rename = (headers: Record<string, string>) =>
      t.app.inject({
        method: 'PATCH',
        url: `/api/v1/users/${user.id}`,
        headers,
        payload: { name: 'Nama Baru' },
      });
    const missing = await rename(session.cookie);
    expect(missing.statusCode).toBe(403);
    expect(missing.json().code).toBe('csrf_failed');
    expect((await rename({ ...session.cookie, 'x-csrf-token': other.csrfToken })).statusCode).toBe(403);
    expect((await rename({ ...session.cookie, 'x-csrf-token': 'x' })).statusCode).toBe(403);
    const [unchanged] = await t.ctx.db.select().from(users).where(eq(users.id, user.id));
    expect(unchanged!.name).not.toBe('Nama Baru');
    expect((await rename(session.headers)).statusCode).toBe(200);
    expect((await rename(user.headers)).statusCode).toBe(200);
  });

  it('signs out: the session ends at once and the cookie is cleared', async () => {
    const user = org.user('regionB', 'reviewer');
    const session = remember(await signIn(t.app, user.email, TEST_PASSWORD));
    const forged = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: session.cookie,
    });
    expect(forged.statusCode).toBe(403);
    const out = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: session.headers });
    expect(out.statusCode).toBe(204);
    expect(out.cookies.find((c) => c.name === SESSION_COOKIE)?.value).toBe('');
    expect(
      await t.ctx.db
        .select()
        .from(sessions)
        .where(eq(sessions.id, sha256Hex(session.secret))),
    ).toEqual([]);
    expect((await t.app.inject({ url: '/api/v1/me', headers: session.cookie })).statusCode).toBe(401);
  });

  it('changes the password after checking the current one and ends the other sessions', async () => {
    const user = await createTestUser(t.ctx, { unit: org.units.regionA, role: 'contributor' });
    const here = remember(await signIn(t.app, user.email, TEST_PASSWORD));
    const elsewhere = remember(await signIn(t.app, user.email, TEST_PASSWORD));
    const newPassword = 'sandi-baru-yang-panjang-789';
    secrets.add(newPassword);
    const change = (currentPassword: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/password',
        headers: here.headers,
        payload: { currentPassword, newPassword },
      });
    secrets.add('bukan-sandi-ini');
    const wrong = await change('bukan-sandi-ini');
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ code: 'wrong_password', errors: [{ field: 'currentPassword' }] });
    expect((await change(TEST_PASSWORD)).statusCode).toBe(204);
    expect((await t.app.inject({ url: '/api/v1/me', headers: here.cookie })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/api/v1/me', headers: elsewhere.cookie })).statusCode).toBe(401);
    expect((await login(user.email, TEST_PASSWORD, { ip: '10.1.0.2' })).statusCode).toBe(401);
    expect((await login(user.email, newPassword, { ip: '10.1.0.2' })).statusCode).toBe(200);
    const [event] = await t.ctx.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, 'auth.password_changed'), eq(auditEvents.actorId, user.id)));
    expect(event!.details).toEqual({ sessionsEnded: 1, tokensRevoked: 1 });
  });

  it('lets an admin set a temporary password that must be replaced before the session reaches anything else', async () => {
    const user = await createTestUser(t.ctx, { unit: org.units.officeA1, role: 'contributor' });
    const before = remember(await signIn(t.app, user.email, TEST_PASSWORD));
    for (let i = 0; i < 3; i += 1) await login(user.email, 'salah-sandi-lagi-000', { ip: '10.3.0.1' });
    const temporary = 'sementara-dari-admin-42';
    const reset = (headers: Record<string, string>, id = user.id) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/users/${id}/password`,
        headers,
        payload: { password: temporary },
      });
    secrets.add(temporary);

    const admin = org.user('regionA', 'admin');
    expect((await reset(user.headers)).statusCode).toBe(403);
    const done = await reset(admin.headers);
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toMatchObject({ id: user.id, passwordMustChange: true });
    expect((await t.app.inject({ url: '/api/v1/me', headers: before.cookie })).statusCode).toBe(401);
    expect((await login(user.email, TEST_PASSWORD, { ip: '10.3.0.2' })).statusCode).toBe(401);

    const session = remember(await signIn(t.app, user.email, temporary));
    const me = await t.app.inject({ url: '/api/v1/me', headers: session.cookie });
    expect(me.json()).toMatchObject({ user: { passwordMustChange: true } });
    const blocked = await t.app.inject({ url: '/api/v1/posts', headers: session.cookie });
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json()).toMatchObject({ code: 'password_change_required' });
    const page = await t.app.inject({ url: '/posts', headers: session.cookie });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/account?ok=passwordMustChange');
    expect((await t.app.inject({ url: '/account', headers: session.cookie })).statusCode).toBe(200);
    // The person's API tokens were made with the old password: the reset revoked them.
    expect((await t.app.inject({ url: '/api/v1/posts', headers: user.headers })).statusCode).toBe(401);

    const own = 'pilihan-saya-sendiri-77';
    secrets.add(own);
    const change = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: session.headers,
      payload: { currentPassword: temporary, newPassword: own },
    });
    expect(change.statusCode, change.body).toBe(204);
    expect((await t.app.inject({ url: '/api/v1/posts', headers: session.cookie })).statusCode).toBe(200);
    const [row] = await t.ctx.db.select().from(users).where(eq(users.id, user.id));
    expect(row!.passwordMustChange).toBe(false);
    const [event] = await t.ctx.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, 'user.password_reset'), eq(auditEvents.targetId, user.id)));
    expect(event).toMatchObject({ actorId: admin.id, details: { sessionsEnded: 1, tokensRevoked: 1 } });
  });

  it('asks a person created by an admin to choose their own password first', async () => {
    const admin = org.user('officeA1', 'admin');
    const first = 'pertama-dari-admin-99';
    secrets.add(first);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: admin.headers,
      payload: {
        email: `baru.${Date.now()}@gaung.test`,
        name: 'Petugas Baru',
        role: 'contributor',
        unitId: org.units.officeA1.id,
        password: first,
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ passwordMustChange: true });
    const session = remember(await signIn(t.app, (created.json() as { email: string }).email, first));
    expect((await t.app.inject({ url: '/api/v1/reviews', headers: session.cookie })).statusCode).toBe(403);
  });

  it('keeps a session 12 hours past its last use, and never beyond 30 days', async () => {
    const user = org.user('national', 'contributor');
    const session = remember(await signIn(t.app, user.email, TEST_PASSWORD));
    const me = () => t.app.inject({ url: '/api/v1/me', headers: session.cookie });
    try {
      clockOffset = 11 * HOUR;
      expect((await me()).statusCode).toBe(200);
      clockOffset = 22 * HOUR;
      expect((await me()).statusCode, 'used 11 h ago: still alive').toBe(200);
      clockOffset = 22 * HOUR + 12 * HOUR + 60_000;
      expect((await me()).statusCode, 'idle for 12 h').toBe(401);

      const busy = remember(await signIn(t.app, user.email, TEST_PASSWORD));
      const start = clockOffset;
      for (let used = 0; used < 30 * 24 * HOUR - 11 * HOUR; used += 11 * HOUR) {
        clockOffset = start + used;
        expect((await t.app.inject({ url: '/api/v1/me', headers: busy.cookie })).statusCode).toBe(200);
      }
      clockOffset = start + 30 * 24 * HOUR + 60_000;
      expect(
        (await t.app.inject({ url: '/api/v1/me', headers: busy.cookie })).statusCode,
        'older than 30 days',
      ).toBe(401);
    } finally {
      clockOffset = 0;
    }
  });

  it('answers an unknown e-mail exactly like a wrong password, and audits both', async () => {
    const user = org.user('officeB1', 'admin');
    const unknown = await login('tidak-ada@gaung.test', 'salah-salah-salah', { ip: '10.2.0.1' });
    const wrong = await login(user.email, 'salah-salah-salah', { ip: '10.2.0.1' });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toEqual(wrong.json());
    expect(wrong.json().code).toBe('invalid_credentials');
    expect(Object.keys(unknown.headers).sort()).toEqual(Object.keys(wrong.headers).sort());
    const failures = await t.ctx.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, 'auth.login_failed'));
    expect(failures).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          unitId: null,
          ip: '10.2.0.1',
          details: { email: 'tidak-ada@gaung.test', reason: 'unknown_email' },
        }),
        expect.objectContaining({
          unitId: org.units.officeB1.id,
          actorId: user.id,
          details: { email: user.email, reason: 'wrong_password' },
        }),
      ]),
    );
    const events = await t.app.inject({
      url: '/api/v1/audit?action=auth.login_failed',
      headers: org.user('national', 'admin').headers,
    });
    expect(events.json().events.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(events.json())).not.toContain('salah-salah-salah');
  });

  it('throttles 50 wrong passwords in a row; the right one works again once the window passes', async () => {
    const user = await createTestUser(t.ctx, { unit: org.units.officeA1, role: 'contributor' });
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let attempt = 0; attempt < 50; attempt++) {
      const response = await login(user.email, `tebakan-${attempt}`, { ip: '10.3.0.1' });
      statuses.push(response.statusCode);
      if (response.statusCode === 429) {
        retryAfter = response.headers['retry-after'] as string;
        expect(response.headers['content-type']).toContain('application/problem+json');
        expect(response.json().code).toBe('too_many_attempts');
      }
    }
    expect(statuses).toEqual([...Array(MAX_FAILURES).fill(401), ...Array(50 - MAX_FAILURES).fill(429)]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(WINDOW_SECONDS);
    expect((await login(user.email, TEST_PASSWORD, { ip: '10.3.0.2' })).statusCode, 'refused unchecked').toBe(
      429,
    );

    let after = 429;
    for (let tries = 0; after === 429 && tries < 60; tries++) {
      await sleep(500);
      after = (await login(user.email, TEST_PASSWORD, { ip: '10.3.0.2' })).statusCode;
    }
    expect(after).toBe(200);
  });

  it('throttles one address guessing across many accounts', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < MAX_FAILURES_PER_IP + 2; attempt++)
      statuses.push(
        (await login(`orang-${attempt}@gaung.test`, 'salah-lagi-salah', { ip: '10.4.0.1' })).statusCode,
      );
    expect(statuses.slice(0, MAX_FAILURES_PER_IP).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(MAX_FAILURES_PER_IP)).toEqual([429, 429]);
    const fine = await login(org.user('regionA', 'contributor').email, TEST_PASSWORD, { ip: '10.4.0.2' });
    expect(fine.statusCode, 'another address is not affected').toBe(200);
    remember({
      secret: fine.cookies.find((c) => c.name === SESSION_COOKIE)!.value,
      csrfToken: fine.json().csrfToken,
    });
  });

  it('evaluates at most the limit of a burst of 200 parallel wrong passwords, and so for password changes', async () => {
    const user = await createTestUser(t.ctx, { unit: org.units.officeA2, role: 'contributor' });
    const burst = await Promise.all(
      Array.from({ length: 200 }, (_, i) => login(user.email, `serbuan-${i}`, { ip: '10.5.0.1' })),
    );
    const statuses = burst.map((response) => response.statusCode);
    expect(statuses.filter((s) => s === 401)).toHaveLength(MAX_FAILURES);
    expect(statuses.filter((s) => s === 429)).toHaveLength(200 - MAX_FAILURES);
    const failures = await t.ctx.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, 'auth.login_failed'), eq(auditEvents.actorId, user.id)));
    expect(failures, 'passwords checked').toHaveLength(MAX_FAILURES);

    const other = await createTestUser(t.ctx, { unit: org.units.officeA2, role: 'contributor' });
    const session = remember(await signIn(t.app, other.email, TEST_PASSWORD));
    const changes = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/password',
          headers: session.headers,
          payload: { currentPassword: `serbuan-sandi-${i}`, newPassword: 'sandi-baru-yang-panjang-456' },
        }),
      ),
    );
    const changeStatuses = changes.map((response) => response.statusCode);
    expect(changeStatuses.filter((s) => s === 400)).toHaveLength(MAX_FAILURES);
    expect(changeStatuses.filter((s) => s === 429)).toHaveLength(60 - MAX_FAILURES);
  });

  it('never counts successful sign-ins towards the limit of the address an office shares', async () => {
    const user = await createTestUser(t.ctx, { unit: org.units.officeB2, role: 'contributor' });
    const ip = '10.6.0.1';
    for (let attempt = 0; attempt < MAX_FAILURES_PER_IP - 1; attempt++)
      expect((await login(`tamu-${attempt}@gaung.test`, 'salah-di-kantor', { ip })).statusCode).toBe(401);
    for (let attempt = 0; attempt < 5; attempt++) {
      const fine = await login(user.email, TEST_PASSWORD, { ip });
      expect(fine.statusCode).toBe(200);
      remember({
        secret: fine.cookies.find((c) => c.name === SESSION_COOKIE)!.value,
        csrfToken: fine.json().csrfToken,
      });
    }
    expect((await login('tamu-akhir@gaung.test', 'salah-di-kantor', { ip })).statusCode).toBe(401);
    expect((await login('tamu-lagi@gaung.test', 'salah-di-kantor', { ip })).statusCode).toBe(429);
  });

  it('holds the throttle across two server processes sharing Redis', async () => {
    const user = await createTestUser(t.ctx, { unit: org.units.officeB1, role: 'reviewer' });
    const servers = await startTwoServers(t);
    try {
      const attempt = async (server: Server, password: string) => {
        secrets.add(password);
        const response = await fetch(`${server.url}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: user.email, password }),
        });
        return response.status;
      };
      const statuses: number[] = [];
      for (let i = 0; i < MAX_FAILURES; i++)
        statuses.push(await attempt(servers[i % 2]!, `salah-proses-${i}`));
      expect(statuses).toEqual(Array(MAX_FAILURES).fill(401));
      expect(await attempt(servers[0]!, 'salah-proses-lagi')).toBe(429);
      expect(await attempt(servers[1]!, TEST_PASSWORD)).toBe(429);
      for (const server of servers)
        for (const secret of secrets) expect(server.output()).not.toContain(secret);
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  });

  it('writes no password, token, session id or CSRF token to the logs', async () => {
    for (const key of ['national', 'officeA1'] as const) secrets.add(org.user(key, 'admin').token);
    expect(t.logs.lines.length).toBeGreaterThan(50);
    for (const secret of secrets) expect(t.logs.text, 'a secret was logged').not.toContain(secret);
  });
});

interface Server {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Two API servers on the test's database and Redis prefix: real child processes on PostgreSQL; on
 * PGlite (one process per database by design) two app instances on two contexts.
 */
async function startTwoServers(t: TestApp): Promise<Server[]> {
  const redis = inject('redisOptions');
  if (t.database.url && redis.host && !redis.path)
    return Promise.all([0, 1].map(() => spawnServer(t, redis)));
  return Promise.all(
    [0, 1].map(async () => {
      const logs = new LogCapture();
      const ctx = await assembleContext({
        config: t.config,
        log: createLogger('info', logs),
        database: t.database,
        redisTarget: testRedisTarget(),
        keys: t.ctx.keys,
      });
      const app = await buildApp(ctx);
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      return {
        url,
        output: () => logs.text,
        async stop() {
          await app.close();
          await Promise.all(Object.values(ctx.queues).map((queue) => queue.close()));
          ctx.redis.disconnect();
        },
      };
    }),
  );
}

async function spawnServer(
  t: TestApp,
  redis: { host?: string; port?: number; password?: string },
): Promise<Server> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gaung-auth-'));
  const redisUrl = new URL(`redis://${redis.host}:${redis.port ?? 6379}`);
  if (redis.password) redisUrl.password = redis.password;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts', '--role=api'], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: t.database.url!,
      REDIS_URL: redisUrl.toString(),
      GAUNG_REDIS_PREFIX: t.config.GAUNG_REDIS_PREFIX,
      GAUNG_SECRET_KEY: t.config.GAUNG_SECRET_KEY,
      GAUNG_DATA_DIR: dataDir,
      ...LOGIN_ENV,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000);
    const check = () => {
      const line = output.split('\n').find((l) => l.includes('Gaung is listening'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { address: string }).address);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
