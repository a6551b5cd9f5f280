import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../domain/errors';
import { cookieOptions, csrfTokenFor, requireActor, SESSION_COOKIE, throttled } from '../http/auth';
import { email, newPassword } from '../schemas/org';
import { changePassword, login, logout, SESSION_MAX_MS } from '../services/auth';
import { loadUnit, unitView } from '../services/units';
import { readUser, userView } from '../services/users';
import { unitViewSchema } from './units';
import { userViewSchema } from './users';

const meSchema = z.object({
  user: userViewSchema,
  unit: unitViewSchema,
  csrfToken: z
    .string()
    .optional()
    .describe('For cookie-authenticated writes: send it as the x-csrf-token header or the _csrf form field'),
});

/** Sign-in into a cookie session, sign-out, who-am-I, and password change. */
export const authRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.post(
    '/auth/login',
    {
      // JSON only: a cross-site form cannot send it, so nobody can be signed in to someone else's account.
      config: { csrf: false, beforePasswordChange: true },
      schema: {
        tags: ['auth'],
        summary: 'Signs in and sets the session cookie; answers the user and the CSRF token',
        body: z.strictObject({ email, password: z.string().min(1).max(256) }),
        response: { 200: meSchema },
      },
    },
    async (request, reply) => {
      if (request.headers['content-type']?.split(';')[0]?.trim().toLowerCase() !== 'application/json')
        throw new AppError('unsupported_media_type', 415, 'Sign in with a JSON body');
      const previous = request.cookies[SESSION_COOKIE];
      const signedIn = await throttled(
        reply,
        login(ctx, request.body, { ip: request.ip, userAgent: request.headers['user-agent'] ?? null }),
      );
      if (previous) await logout(ctx, previous, request.ip);
      reply.setCookie(SESSION_COOKIE, signedIn.sessionSecret, {
        ...cookieOptions(request),
        maxAge: SESSION_MAX_MS / 1000,
      });
      const unit = await loadUnit(ctx, signedIn.user.unitId);
      return {
        user: userView(signedIn.user),
        unit: unitView(unit),
        csrfToken: csrfTokenFor(ctx, signedIn.sessionId),
      };
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { beforePasswordChange: true },
      schema: {
        tags: ['auth'],
        summary: 'Ends the session of the cookie (a no-op for Bearer tokens) and clears the cookie',
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const secret = request.cookies[SESSION_COOKIE];
      if (secret) await logout(ctx, secret, request.ip);
      reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/me',
    {
      config: { beforePasswordChange: true },
      schema: {
        tags: ['auth'],
        summary: 'The signed-in user and their unit (with its time zone)',
        querystring: z.strictObject({}),
        response: { 200: meSchema },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const user = await readUser(ctx, actor, actor.userId);
      return {
        user: userView(user),
        unit: unitView(await loadUnit(ctx, user.unitId)),
        ...(actor.sessionId ? { csrfToken: csrfTokenFor(ctx, actor.sessionId) } : {}),
      };
    },
  );

  app.post(
    '/auth/password',
    {
      config: { beforePasswordChange: true },
      schema: {
        tags: ['auth'],
        summary: "Changes the caller's password and ends their other sessions",
        body: z.strictObject({ currentPassword: z.string().min(1).max(256), newPassword }),
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await throttled(reply, changePassword(ctx, requireActor(request), request.body, request.ip));
      return reply.code(204).send(null);
    },
  );
};
