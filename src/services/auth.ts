import { and, eq, gt, isNull, lt, ne, or, sql } from 'drizzle-orm';
import { type AppContext, redisKey } from '../context';
import type { Tx } from '../db/client';
import { apiTokens, sessions, units, users } from '../db/schema';
import { AppError } from '../domain/errors';
import { type Actor, authorize } from '../domain/permissions';
import type { Locale } from '../domain/vocabulary';
import { hashPassword, randomToken, sha256Hex, verifyPassword } from '../infra/crypto';
import { recordAudit } from './audit';

type UserRow = typeof users.$inferSelect;

/**
 * Sign-in with e-mail and password into a server-side session, sign-out, and password change.
 *
 * Sessions: the cookie holds a random secret, the database its sha256. A session lives 12 hours past
 * its last use and never longer than 30 days after sign-in; signing out, changing the password (for
 * the other sessions) and disabling the user end sessions at once.
 *
 * Throttle: failed attempts count per account and per client address in Redis, so every API process
 * sees the same counts. Each attempt reserves its place in both counts before the password is
 * checked (so parallel attempts cannot slip past), and a successful one gives it back. Once either
 * count reaches its limit, attempts are refused unchecked until GAUNG_LOGIN_WINDOW_SECONDS pass
 * without a failure.
 */

export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
export const SESSION_MAX_MS = 30 * 24 * 60 * 60 * 1000;

/** When a session used at `now` expires: idle timeout, capped by the absolute lifetime. */
export const sessionExpiry = (createdAt: Date, now: Date) =>
  new Date(Math.min(now.getTime() + SESSION_IDLE_MS, createdAt.getTime() + SESSION_MAX_MS));

/** A signed-in person as every request knows them: who, where, in which language and zone, and by what means. */
export interface SignedInActor extends Actor {
  name: string;
  email: string;
  locale: Locale;
  timeZone: string;
  via: 'session' | 'token';
  /** An admin set the password (new account, reset): until the person chooses their own, a session reaches only the account page. */
  passwordMustChange: boolean;
  /** sha256 of the session secret (the sessions row id), for session-authenticated requests. */
  sessionId?: string;
  tokenId?: string;
}

const actorColumns = {
  userId: users.id,
  role: users.role,
  unitId: users.unitId,
  unitPath: units.path,
  name: users.name,
  email: users.email,
  locale: users.locale,
  timeZone: units.timeZone,
  passwordMustChange: users.passwordMustChange,
};

/** The person behind a live, unexpired API token of an enabled user, or null. */
export async function actorForToken(ctx: AppContext, secret: string): Promise<SignedInActor | null> {
  const now = ctx.now();
  const [row] = await ctx.db
    .select({ ...actorColumns, tokenId: apiTokens.id, lastUsedAt: apiTokens.lastUsedAt })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .innerJoin(units, eq(units.id, users.unitId))
    .where(
      and(
        eq(apiTokens.tokenHash, sha256Hex(secret)),
        isNull(apiTokens.revokedAt),
        isNull(users.disabledAt),
        or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now)),
      ),
    );
  if (!row) return null;
  // last_used_at is kept to the minute; writing it on every request would serialise busy tokens.
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000)
    await ctx.db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.tokenId));
  const { lastUsedAt: _, ...actor } = row;
  return { ...actor, via: 'token' };
}

/** The person behind a live session of an enabled user, or null; using it slides its expiry. */
export async function actorForSession(ctx: AppContext, secret: string): Promise<SignedInActor | null> {
  const now = ctx.now();
  const sessionId = sha256Hex(secret);
  const [row] = await ctx.db
    .select({ ...actorColumns, lastSeenAt: sessions.lastSeenAt, createdAt: sessions.createdAt })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .innerJoin(units, eq(units.id, users.unitId))
    .where(and(eq(sessions.id, sessionId), gt(sessions.expiresAt, now), isNull(users.disabledAt)));
  if (!row) return null;
  // Sliding expiry, written at most once a minute like last_used_at of tokens.
  if (now.getTime() - row.lastSeenAt.getTime() > 60_000)
    await ctx.db
      .update(sessions)
      .set({ lastSeenAt: now, expiresAt: sessionExpiry(row.createdAt, now) })
      .where(eq(sessions.id, sessionId));
  const { lastSeenAt: _, createdAt: __, ...actor } = row;
  return { ...actor, via: 'session', sessionId };
}

const invalidCredentials = () =>
  new AppError('invalid_credentials', 401, 'The e-mail address or the password is wrong');

/** Refused before the password is even looked at; `retryAfter` in whole seconds. */
export class LoginThrottled extends AppError {
  readonly retryAfter: number;
  constructor(retryAfter: number) {
    super('too_many_attempts', 429, 'Too many failed sign-ins; try again later', { extra: { retryAfter } });
    this.retryAfter = retryAfter;
  }
}

const accountKey = (ctx: AppContext, email: string) =>
  redisKey(ctx, 'login-failures', 'account', sha256Hex(email.toLowerCase()));
/** Clears the failed sign-ins counted against an account (after an admin reset its password). */
export async function forgetFailedLogins(ctx: AppContext, email: string): Promise<void> {
  await ctx.redis.del(accountKey(ctx, email));
}

const addressKey = (ctx: AppContext, ip: string) => redisKey(ctx, 'login-failures', 'ip', ip);

// One key per call, so the counters also work on Redis Cluster. An attempt is reserved before the
// password is checked: the count goes up first, and an attempt over the limit takes its reservation
// back and is refused, so a burst of parallel attempts evaluates at most `limit` of them.
const RESERVE_ATTEMPT = `
local n = redis.call('INCR', KEYS[1])
if n > tonumber(ARGV[2]) then
  redis.call('DECR', KEYS[1])
  return -math.max(redis.call('PTTL', KEYS[1]), 1000)
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return n`;
// Gives a reservation back; a counter that has expired meanwhile stays gone.
const RELEASE_ATTEMPT = `if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end return 0`;

/**
 * Reserves one attempt on every counter, or none: refused (LoginThrottled) when any counter is at
 * its limit. A failed attempt keeps its reservation; a successful one gives it back.
 */
async function reserveAttempt(ctx: AppContext, keys: Array<{ key: string; limit: number }>): Promise<void> {
  const window = String(ctx.config.GAUNG_LOGIN_WINDOW_SECONDS);
  const taken: string[] = [];
  for (const { key, limit } of keys) {
    const result = Number(await ctx.redis.eval(RESERVE_ATTEMPT, 1, key, window, String(limit)));
    if (result < 0) {
      await releaseAttempt(ctx, taken);
      throw new LoginThrottled(Math.ceil(-result / 1000));
    }
    taken.push(key);
  }
}

async function releaseAttempt(ctx: AppContext, keys: string[]): Promise<void> {
  await Promise.all(keys.map((key) => ctx.redis.eval(RELEASE_ATTEMPT, 1, key)));
}

let dummyHash: Promise<string> | undefined;

/** Spends the same scrypt work as a real check, so an unknown e-mail answers no faster than a wrong password. */
async function verifyAgainst(password: string, stored: string | undefined): Promise<boolean> {
  dummyHash ??= hashPassword(randomToken());
  const ok = await verifyPassword(password, stored ?? (await dummyHash));
  return ok && stored !== undefined;
}

export interface ClientInfo {
  ip: string;
  userAgent: string | null;
}

export interface SignedIn {
  user: UserRow;
  /** Goes into the cookie only; the database keeps its sha256. */
  sessionSecret: string;
  sessionId: string;
}

export async function login(
  ctx: AppContext,
  credentials: { email: string; password: string },
  client: ClientInfo,
): Promise<SignedIn> {
  const email = credentials.email.toLowerCase();
  const { GAUNG_LOGIN_MAX_FAILURES: perAccount, GAUNG_LOGIN_MAX_FAILURES_PER_IP: perAddress } = ctx.config;
  const keys = { account: accountKey(ctx, email), address: addressKey(ctx, client.ip) };
  await reserveAttempt(ctx, [
    { key: keys.account, limit: perAccount },
    { key: keys.address, limit: perAddress },
  ]);
  const [user] = await ctx.db
    .select()
    .from(users)
    .where(eq(sql`lower(${users.email})`, email));
  const passwordOk = await verifyAgainst(credentials.password, user?.passwordHash);
  if (!user || !passwordOk || user.disabledAt) {
    const reason = !user ? 'unknown_email' : !passwordOk ? 'wrong_password' : 'disabled';
    await recordAudit(ctx, ctx.db, {
      actorId: user?.id ?? null,
      unitId: user?.unitId ?? null,
      action: 'auth.login_failed',
      targetType: 'user',
      targetId: user?.id,
      ip: client.ip,
      details: { email, reason },
    });
    throw invalidCredentials();
  }
  // Success clears the account's failures and never counts towards the address shared behind a NAT.
  await Promise.all([ctx.redis.del(keys.account), releaseAttempt(ctx, [keys.address])]);
  const sessionSecret = randomToken();
  const sessionId = sha256Hex(sessionSecret);
  const now = ctx.now();
  await ctx.db.transaction(async (tx) => {
    await tx.delete(sessions).where(and(eq(sessions.userId, user.id), lt(sessions.expiresAt, now)));
    await tx.insert(sessions).values({
      id: sessionId,
      userId: user.id,
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, 500) ?? null,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: sessionExpiry(now, now),
    });
    await recordAudit(ctx, tx, {
      actorId: user.id,
      unitId: user.unitId,
      action: 'auth.login',
      targetType: 'user',
      targetId: user.id,
      ip: client.ip,
    });
  });
  return { user, sessionSecret, sessionId };
}

/** Ends the session behind a cookie; a cookie that matches none ends nothing. */
export async function logout(ctx: AppContext, sessionSecret: string, ip: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const [ended] = await tx
      .delete(sessions)
      .where(eq(sessions.id, sha256Hex(sessionSecret)))
      .returning({ userId: sessions.userId });
    if (!ended) return;
    const [user] = await tx.select({ unitId: users.unitId }).from(users).where(eq(users.id, ended.userId));
    await recordAudit(ctx, tx, {
      actorId: ended.userId,
      unitId: user?.unitId ?? null,
      action: 'auth.logout',
      targetType: 'user',
      targetId: ended.userId,
      ip,
    });
  });
}

/**
 * Checks the caller's current password before something only its owner may do (a new password, a
 * new API token). Wrong passwords count against the account like failed sign-ins, so a stolen
 * session or token cannot be used to guess the password.
 */
export async function confirmPassword(
  ctx: AppContext,
  actor: Pick<Actor, 'userId'> & { email: string },
  password: string,
  field = 'currentPassword',
): Promise<UserRow> {
  const key = accountKey(ctx, actor.email);
  await reserveAttempt(ctx, [{ key, limit: ctx.config.GAUNG_LOGIN_MAX_FAILURES }]);
  const [user] = await ctx.db.select().from(users).where(eq(users.id, actor.userId));
  if (!user || !(await verifyPassword(password, user.passwordHash)))
    throw new AppError('wrong_password', 400, 'The current password is wrong', {
      errors: [{ field, message: 'is wrong', code: 'wrong_password' }],
    });
  await releaseAttempt(ctx, [key]);
  return user;
}

/**
 * What a new password ends: the user's sessions (but `keepSession`, the one that changed it) and
 * every API token they have, so credentials made with the old password do not outlive it.
 */
export async function endCredentials(
  ctx: AppContext,
  tx: Tx,
  userId: string,
  keepSession?: string,
): Promise<{ sessionsEnded: number; tokensRevoked: number }> {
  const which = keepSession
    ? and(eq(sessions.userId, userId), ne(sessions.id, keepSession))
    : eq(sessions.userId, userId);
  const ended = await tx.delete(sessions).where(which).returning({ id: sessions.id });
  const revoked = await tx
    .update(apiTokens)
    .set({ revokedAt: ctx.now() })
    .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return { sessionsEnded: ended.length, tokensRevoked: revoked.length };
}

/**
 * Sets a new password after checking the current one, ends every other session of the user and
 * revokes their API tokens.
 */
export async function changePassword(
  ctx: AppContext,
  actor: Actor & { email: string; sessionId?: string },
  input: { currentPassword: string; newPassword: string },
  ip: string,
): Promise<void> {
  authorize(
    actor,
    'user.profile',
    { type: 'user', userId: actor.userId, unitPath: actor.unitPath, role: actor.role },
    'User',
  );
  const user = await confirmPassword(ctx, actor, input.currentPassword);
  const passwordHash = await hashPassword(input.newPassword);
  await ctx.db.transaction(async (tx) => {
    const now = ctx.now();
    await tx
      .update(users)
      .set({ passwordHash, passwordChangedAt: now, passwordMustChange: false, updatedAt: now })
      .where(eq(users.id, user.id));
    const ended = await endCredentials(ctx, tx, user.id, actor.sessionId);
    await recordAudit(ctx, tx, {
      actorId: user.id,
      unitId: user.unitId,
      action: 'auth.password_changed',
      targetType: 'user',
      targetId: user.id,
      ip,
      details: ended,
    });
  });
}
