import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireActor } from '../http/auth';
import { blackoutList, blackoutListQuery, blackoutView, createBlackoutBody } from '../schemas/blackouts';
import { idParams } from '../schemas/common';
import { createBlackout, endBlackout, listBlackouts, loadBlackout } from '../services/blackouts';

export const blackoutRoutes: FastifyPluginAsyncZod = async (app) => {
  const ctx = app.ctx;

  app.get(
    '/blackouts',
    {
      schema: {
        tags: ['blackouts'],
        description: 'Blackouts not yet over that cover the caller’s unit or lie in its subtree',
        querystring: blackoutListQuery,
        response: { 200: blackoutList },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      return { items: await listBlackouts(ctx, actor, { includeEnded: request.query.ended === 'true' }) };
    },
  );

  app.post(
    '/blackouts',
    {
      schema: {
        tags: ['blackouts'],
        description:
          'A period in which the channels of a unit’s subtree publish nothing; covering now, it holds every publish from this moment. Admins of the unit or above it.',
        body: createBlackoutBody,
        response: { 201: blackoutView },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      return reply.code(201).send(await createBlackout(ctx, actor, request.body, request.ip));
    },
  );

  app.delete(
    '/blackouts/:id',
    {
      schema: {
        tags: ['blackouts'],
        description: 'Ends the blackout now (lifts an emergency stop); one not started yet is called off.',
        params: idParams,
        response: { 200: blackoutView },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      await endBlackout(ctx, actor, request.params.id, request.ip);
      return loadBlackout(ctx, request.params.id);
    },
  );
};
