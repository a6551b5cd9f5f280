import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireActor, throttled } from '../http/auth';
import { createToken, listTokens, revokeToken, tokenView } from '../services/tokens';

const tokenViewSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string().describe('The first characters of the secret, to tell tokens apart'),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

const idParams = z.strictObject({ id: z.uuid() });

/** The caller's own API tokens (for scripts: `Authorization: Bearer gaung_…`). */
export const tokenRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.post(
    '/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Creates an API token; the secret is in this answer only',
        description:
          "Asks for the caller's current password (wrong ones count as failed sign-ins). A password change or reset revokes every token of the user.",
        body: z.strictObject({
          name: z.string().trim().min(1).max(100),
          expiresAt: z.iso.datetime({ offset: true }).optional(),
          currentPassword: z.string().min(1).max(300),
        }),
        response: { 201: z.object({ token: tokenViewSchema, secret: z.string() }) },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const { name, expiresAt, currentPassword } = request.body;
      const created = await throttled(
        reply,
        createToken(
          ctx,
          actor,
          { name, expiresAt: expiresAt ? new Date(expiresAt) : undefined, currentPassword },
          request.ip,
        ),
      );
      return reply.code(201).send({ token: tokenView(created.token), secret: created.secret });
    },
  );

  app.get(
    '/tokens',
    {
      schema: {
        tags: ['tokens'],
        querystring: z.strictObject({}),
        response: { 200: z.object({ tokens: z.array(tokenViewSchema) }) },
      },
    },
    async (request) => {
      return { tokens: (await listTokens(ctx, requireActor(request))).map(tokenView) };
    },
  );

  app.delete(
    '/tokens/:id',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Revokes a token at once',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await revokeToken(ctx, requireActor(request), request.params.id, request.ip);
      return reply.code(204).send(null);
    },
  );
};
