import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFoundAt } from '../domain/errors';
import { isTimeZone } from '../domain/org';
import { authorize } from '../domain/permissions';
import { UNIT_KINDS } from '../domain/vocabulary';
import { requireActor } from '../http/auth';
import { unitName, unitSlug } from '../schemas/org';
import { createUnit, findUnit, listVisibleUnits, loadUnit, unitView, updateUnit } from '../services/units';

const slug = unitSlug;

const timeZone = z
  .string()
  .max(64)
  .refine(isTimeZone, 'must be an IANA time zone such as Asia/Jakarta, Asia/Makassar or Asia/Jayapura');

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
      const actor = requireActor(request);
      authorize(actor, 'unit.read', { type: 'unit', unitPath: actor.unitPath }, 'Unit');
      return { units: (await listVisibleUnits(ctx, actor)).map(unitView) };
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
      const actor = requireActor(request);
      const parent = await findUnit(ctx.db, request.body.parentId);
      if (!parent) throw notFoundAt('Unit', 'parentId');
      authorize(actor, 'unit.create', { type: 'unit', unitPath: parent.path }, 'Unit', 'parentId');
      const unit = await createUnit(ctx, actor, request.body, request.ip);
      return reply.code(201).send(unitView(unit));
    },
  );

  app.get(
    '/units/:id',
    {
      schema: { tags: ['units'], params: idParams, response: { 200: unitViewSchema } },
    },
    async (request) => {
      const actor = requireActor(request);
      const unit = await loadUnit(ctx, request.params.id);
      authorize(actor, 'unit.read', { type: 'unit', unitPath: unit.path }, 'Unit');
      return unitView(unit);
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
      const unit = await loadUnit(ctx, request.params.id);
      authorize(actor, 'unit.update', { type: 'unit', unitPath: unit.path }, 'Unit');
      const { parentId } = request.body;
      if (parentId !== undefined && parentId !== unit.parentId) {
        const parent = await findUnit(ctx.db, parentId);
        if (!parent) throw notFoundAt('Unit', 'parentId');
        authorize(actor, 'unit.create', { type: 'unit', unitPath: parent.path }, 'Unit', 'parentId');
      }
      return unitView(await updateUnit(ctx, actor, unit.id, request.body, request.ip));
    },
  );
};
