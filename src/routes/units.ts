import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { UNIT_KINDS } from '../domain/vocabulary';
import { requireActor } from '../http/auth';
import { unitSlug as slug, timeZone, unitName } from '../schemas/org';
import { createUnit, listUnits, readUnit, unitView, updateUnit } from '../services/units';

export const unitViewSchema = z.object({
  id: z.uuid(),
  parentId: z.uuid().nullable(),
  kind: z.enum(UNIT_KINDS),
  name: z.string(),
  slug: z.string(),
  timeZone: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const idParams = z.strictObject({ id: z.uuid() });

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
        querystring: z.strictObject({}),
        response: { 200: z.object({ units: z.array(unitViewSchema) }) },
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
        body: z.strictObject({
          parentId: z.uuid(),
          kind: z.enum(['regional', 'office']),
          name: unitName,
          slug,
          timeZone: timeZone.optional().describe("Defaults to the parent's time zone"),
        }),
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
        body: z.strictObject({
          name: unitName.optional(),
          slug: slug.optional(),
          timeZone: timeZone.optional(),
          parentId: z.uuid().optional(),
        }),
        response: { 200: unitViewSchema },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      return unitView(await updateUnit(ctx, actor, request.params.id, request.body, request.ip));
    },
  );
};
