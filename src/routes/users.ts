import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LOCALES, ROLES } from '../domain/vocabulary';
import { requireActor } from '../http/auth';
import { email, newPassword, personName } from '../schemas/org';
import { createUser, listUsers, readUser, resetPassword, updateUser, userView } from '../services/users';

export const userViewSchema = z.object({
  id: z.uuid(),
  unitId: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  locale: z.enum(LOCALES),
  disabled: z.boolean(),
  disabledAt: z.string().nullable(),
  passwordMustChange: z.boolean().describe('Set by an admin; the person must choose their own password'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const idParams = z.strictObject({ id: z.uuid() });

/** People and their roles. Admins manage the users of their own subtree. */
export const userRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: "Users of a subtree (default: the caller's unit and below); admins only",
        querystring: z.strictObject({
          unitId: z.uuid().optional(),
          role: z.enum(ROLES).optional(),
          disabled: z
            .enum(['true', 'false'])
            .transform((v) => v === 'true')
            .optional(),
          q: z.string().trim().min(1).max(100).optional(),
          cursor: z.string().max(254).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
        response: { 200: z.object({ users: z.array(userViewSchema), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await listUsers(ctx, requireActor(request), request.query);
      return { users: page.users.map(userView), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        body: z.strictObject({
          email,
          name: personName,
          role: z.enum(ROLES),
          unitId: z.uuid(),
          locale: z.enum(LOCALES).optional(),
          password: newPassword.describe('The first password; the person changes it after signing in'),
        }),
        response: { 201: userViewSchema },
      },
    },
    async (request, reply) => {
      const user = await createUser(ctx, requireActor(request), request.body, request.ip);
      return reply.code(201).send(userView(user));
    },
  );

  app.get(
    '/users/:id',
    { schema: { tags: ['users'], params: idParams, response: { 200: userViewSchema } } },
    async (request) => {
      return userView(await readUser(ctx, requireActor(request), request.params.id));
    },
  );

  app.patch(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Name and locale (the user or an admin); role, unit and access (an admin over them)',
        params: idParams,
        body: z.strictObject({
          name: personName.optional(),
          locale: z.enum(LOCALES).optional(),
          role: z.enum(ROLES).optional(),
          unitId: z.uuid().optional(),
          disabled: z.boolean().optional(),
        }),
        response: { 200: userViewSchema },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      return userView(await updateUser(ctx, actor, request.params.id, request.body, request.ip));
    },
  );

  app.post(
    '/users/:id/password',
    {
      schema: {
        tags: ['users'],
        summary: 'Sets a temporary password for someone else (an admin of a higher rank over them)',
        description:
          'Ends their sessions, revokes their API tokens and clears the failed sign-ins counted against them; they must choose their own password after signing in. An admin of the same unit answers 403: admins of one unit never reset each other (a national admin is reset with `npm run admin:reset-password`). Your own password changes at POST /auth/password.',
        params: idParams,
        body: z.strictObject({ password: newPassword }),
        response: { 200: userViewSchema },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      return userView(await resetPassword(ctx, actor, request.params.id, request.body.password, request.ip));
    },
  );
};
