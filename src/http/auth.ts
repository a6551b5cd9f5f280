import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AppContext } from '../context';
import { AppError, unauthenticated } from '../domain/errors';
import { actorForSession, actorForToken, LoginThrottled, type SignedInActor } from '../services/auth';

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

declare module 'fastify' {
  interface FastifyRequest {
    actor: SignedInActor | null;
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

const authPlugin: FastifyPluginAsync = async (app) => {
  const { ctx } = app;
  app.decorateRequest('actor', null);

  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.ownAuthorization) return;
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      const actor = match ? await actorForToken(ctx, match[1]!) : null;
      if (!actor)
        throw new AppError('invalid_token', 401, 'The bearer token is not valid, expired or revoked');
      request.actor = actor;
      return;
    }
    const secret = request.cookies[SESSION_COOKIE];
    if (!secret) return;
    request.actor = await actorForSession(ctx, secret);
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
export function assertCsrf(ctx: AppContext, actor: SignedInActor, given: unknown): void {
  if (typeof given !== 'string' || !ctx.keys.verify('csrf', actor.sessionId!, given))
    throw new AppError('csrf_failed', 403, 'Missing or wrong CSRF token; reload the page and try again');
}

export default fp(authPlugin, { name: 'auth' });

/** A refused sign-in or password check says when to try again (Retry-After), whoever renders the answer. */
export function sayWhenToRetry(reply: FastifyReply, error: unknown): void {
  if (error instanceof LoginThrottled) reply.header('retry-after', String(error.retryAfter));
}

/** Runs work that checks a password, adding Retry-After to a throttled answer before the error handler renders it. */
export async function throttled<T>(reply: FastifyReply, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    sayWhenToRetry(reply, error);
    throw error;
  }
}

export function requireActor(request: FastifyRequest): SignedInActor {
  if (!request.actor) throw unauthenticated();
  return request.actor;
}
