import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireActor } from '../http/auth';
import { idParams } from '../schemas/common';
import {
  createUserBody,
  resetPasswordBody,
  updateUserBody,
  userListQuery,
  userPage,
  userViewSchema,
} from '../schemas/org';
import { createUser, listUsers, readUser, resetPassword, updateUser, userView } from '../services/users';

/** People and their roles. Admins manage the users of their own subtree. */
export const userRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: "Users of a subtree (default: the caller's unit and below); admins only",
        querystring: userListQuery,
        response: { 200: userPage },
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
        body: createUserBody,
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
        body: updateUserBody,
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
        body: resetPasswordBody,
        response: { 200: userViewSchema },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      return userView(await resetPassword(ctx, actor, request.params.id, request.body.password, request.ip));
    },
  );
};
