import { and, eq, gt, isNull, or } from 'drizzle-orm';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AppContext } from '../context';
import { apiTokens, sessions, units, users } from '../db/schema';
import { AppError, unauthenticated } from '../domain/errors';
import type { Actor } from '../domain/permissions';
import type { Locale } from '../domain/vocabulary';
import { sha256Hex } from '../infra/crypto';
import { sessionExpiry } from '../services/auth';

/**
 * Who is calling: a session cookie (browser) or a Bearer token (automation). Routes call
 * `requireActor`; the use cases in src/services authorize with `authorize` from src/domain/permissions.ts.
 */

export const SESSION_COOKIE = 'gaung_session';
export const CSRF_HEADER = 'x-csrf-token';

/** The session cookie as sign-in sets it (the web app's sign-in form sets the same). */
export const cookieOptions = (request: FastifyRequest) => ({
  httpOnly: true,
  sameSite: 'lax' as const,
  path: '/',
  // request.protocol follows X-Forwarded-Proto when GAUNG_TRUST_PROXY is on.
  secure: request.protocol === 'https',
});

export interface RequestActor extends Actor {
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

declare module 'fastify' {
  interface FastifyRequest {
    actor: RequestActor | null;
  }
  interface FastifyContextConfig {
    /** `false` for routes a cross-site page cannot call anyway (sign-in takes JSON only). */
    csrf?: boolean;
    /** `true` for what a session still reaches before its person replaced an admin-set password. */
    beforePasswordChange?: boolean;
    /** The route reads the Authorization header itself (/metrics and its scrape token): no person signs in there. */
    ownAuthorization?: boolean;
  }
}

export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The CSRF token of a session: an HMAC of its id, so nothing more needs storing. */
export const csrfTokenFor = (ctx: AppContext, sessionId: string) => ctx.keys.sign('csrf', sessionId);

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

async function actorFromToken(ctx: AppContext, secret: string): Promise<RequestActor | null> {
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

async function actorFromSession(ctx: AppContext, secret: string): Promise<RequestActor | null> {
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
  return {
    ...actor,
    via: 'session',
    sessionId,
  };
}

const authPlugin: FastifyPluginAsync = async (app) => {
  const { ctx } = app;
  app.decorateRequest('actor', null);

  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.ownAuthorization) return;
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      const actor = match ? await actorFromToken(ctx, match[1]!) : null;
      if (!actor)
        throw new AppError('invalid_token', 401, 'The bearer token is not valid, expired or revoked');
      request.actor = actor;
      return;
    }
    const secret = request.cookies[SESSION_COOKIE];
    if (!secret) return;
    request.actor = await actorFromSession(ctx, secret);
  });

  // A password set by an admin is known to two people: the session may only go and replace it.
  // Tokens are unaffected: the person made them with a password of their own.
  app.addHook('preHandler', async (request, reply) => {
    const actor = request.actor;
    if (actor?.via !== 'session' || !actor.passwordMustChange) return;
    if (request.routeOptions.config.beforePasswordChange) return;
    const page = !request.url.startsWith('/api/') && !request.url.startsWith('/ui/');
    if (page && request.method === 'GET') return reply.redirect('/account?ok=passwordMustChange', 303);
    throw new AppError(
      'password_change_required',
      403,
      'Choose your own password first: the current one was set by an administrator (POST /api/v1/auth/password)',
    );
  });

  // Cookie-authenticated writes need the session's CSRF token (header, or `_csrf` in a form).
  app.addHook('preHandler', async (request) => {
    const actor = request.actor;
    if (actor?.via !== 'session' || SAFE_METHODS.has(request.method)) return;
    if (request.routeOptions.config.csrf === false) return;
    const body = request.body as { _csrf?: unknown } | undefined;
    assertCsrf(ctx, actor, request.headers[CSRF_HEADER] ?? body?._csrf);
  });
};

/** Throws unless `given` is the CSRF token of the actor's session. */
export function assertCsrf(ctx: AppContext, actor: RequestActor, given: unknown): void {
  if (typeof given !== 'string' || !ctx.keys.verify('csrf', actor.sessionId!, given))
    throw new AppError('csrf_failed', 403, 'Missing or wrong CSRF token; reload the page and try again');
}

export default fp(authPlugin, { name: 'auth' });

export function requireActor(request: FastifyRequest): RequestActor {
  if (!request.actor) throw unauthenticated();
  return request.actor;
}
