import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BLACKOUT_ON_END } from '../domain/vocabulary';
import { requireActor } from '../http/auth';
import { createBlackout, endBlackout, listBlackouts, loadBlackout } from '../services/blackouts';
import { idParams } from './posts';

const isoTime = z.iso.datetime({ offset: true });

export const blackoutView = z.object({
  id: z.uuid(),
  unit: z.object({ id: z.uuid(), name: z.string() }),
  startsAt: z.string(),
  endsAt: z.string().nullable().describe('Null: until it is lifted'),
  reason: z.string(),
  channelIds: z
    .array(z.uuid())
    .nullable()
    .describe("Only these channels; null: every channel of the unit's subtree"),
  onEnd: z.enum(BLACKOUT_ON_END),
  active: z.boolean().describe('Covers now'),
  emergency: z.boolean().describe('The emergency stop: the whole organisation, from now, no end'),
  createdBy: z.object({ id: z.uuid(), name: z.string() }).nullable(),
  createdAt: z.string(),
});

export const blackoutRoutes: FastifyPluginAsyncZod = async (app) => {
  const ctx = app.ctx;

  app.get(
    '/blackouts',
    {
      schema: {
        tags: ['blackouts'],
        description: 'Blackouts not yet over that cover the caller’s unit or lie in its subtree',
        querystring: z.strictObject({ ended: z.enum(['true', 'false']).default('false') }),
        response: { 200: z.object({ items: z.array(blackoutView) }) },
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
        body: z.strictObject({
          unitId: z.uuid(),
          startsAt: isoTime,
          endsAt: isoTime.nullable(),
          reason: z.string().trim().min(1).max(1_000),
          channelIds: z.array(z.uuid()).max(500).optional(),
          onEnd: z.enum(BLACKOUT_ON_END),
        }),
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
