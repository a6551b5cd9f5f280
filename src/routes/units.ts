import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireActor } from '../http/auth';
import { idParams, noQuery } from '../schemas/common';
import { createUnitBody, unitList, unitViewSchema, updateUnitBody } from '../schemas/org';
import { createUnit, listUnits, readUnit, unitView, updateUnit } from '../services/units';

/** The organisation tree. Everyone sees their own part of it and the units above them. */
export const unitRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/units',
    {
      schema: {
        tags: ['units'],
        summary:
          'The units the caller sees: their own subtree (own unit for contributors) and the units above',
        querystring: noQuery,
        response: { 200: unitList },
      },
    },
    async (request) => {
      return { units: (await listUnits(ctx, requireActor(request))).map(unitView) };
    },
  );

  app.post(
    '/units',
    {
      schema: {
        tags: ['units'],
        summary:
          'Adds a regional unit under the national one, or an office under a regional or national unit',
        body: createUnitBody,
        response: { 201: unitViewSchema },
      },
    },
    async (request, reply) => {
      const unit = await createUnit(ctx, requireActor(request), request.body, request.ip);
      return reply.code(201).send(unitView(unit));
    },
  );

  app.get(
    '/units/:id',
    {
      schema: { tags: ['units'], params: idParams, response: { 200: unitViewSchema } },
    },
    async (request) => {
      return unitView(await readUnit(ctx, requireActor(request), request.params.id));
    },
  );

  app.patch(
    '/units/:id',
    {
      schema: {
        tags: ['units'],
        summary: 'Renames, re-zones or moves a unit (with everything below it)',
        params: idParams,
        body: updateUnitBody,
        response: { 200: unitViewSchema },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      return unitView(await updateUnit(ctx, actor, request.params.id, request.body, request.ip));
    },
  );
};
