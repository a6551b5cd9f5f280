import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HOLIDAY_KINDS } from '../domain/vocabulary';
import { authorize, requireActor } from '../http/auth';
import { loadUnit } from '../services/units';
import {
  addHoliday,
  listHolidays,
  loadWorkingHours,
  removeHoliday,
  saveWorkingHours,
} from '../services/working-calendar';

const holidayView = z.object({
  id: z.uuid(),
  date: z.string(),
  name: z.string(),
  kind: z.enum(HOLIDAY_KINDS),
});

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine(
    (value) =>
      !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) &&
      new Date(`${value}T00:00:00Z`).toISOString().startsWith(value),
    'is not a calendar date',
  );

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be a time as HH:MM');

const workingHours = z.object({
  days: z.array(z.number().int().min(1).max(7)).min(1).max(7),
  start: z.string(),
  end: z.string(),
  reviewWaitMinutes: z.number().int(),
  timeZone: z.string(),
});

/** The days off of the organisation, and each unit's working hours and waiting limit. */
export const workingCalendarRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/holidays',
    {
      schema: {
        tags: ['holidays'],
        summary: "The organisation's public holidays and collective leave days of a year",
        querystring: z.strictObject({ year: z.coerce.number().int().min(2000).max(2100).optional() }),
        response: { 200: z.object({ year: z.number().int(), items: z.array(holidayView) }) },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      authorize(actor, 'holiday.read', { type: 'holidays' }, 'Holiday');
      const year = request.query.year ?? ctx.now().getUTCFullYear();
      return { year, items: await listHolidays(ctx, year) };
    },
  );

  app.post(
    '/holidays',
    {
      schema: {
        tags: ['holidays'],
        body: z.strictObject({
          date: isoDate,
          name: z.string().trim().min(1).max(120),
          kind: z.enum(HOLIDAY_KINDS),
        }),
        response: { 201: holidayView },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      authorize(actor, 'holiday.manage', { type: 'holidays' }, 'Holiday');
      return reply.code(201).send(await addHoliday(ctx, actor, request.body, request.ip));
    },
  );

  app.delete(
    '/holidays/:id',
    {
      schema: { tags: ['holidays'], params: z.strictObject({ id: z.uuid() }) },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      authorize(actor, 'holiday.manage', { type: 'holidays' }, 'Holiday');
      await removeHoliday(ctx, actor, request.params.id, request.ip);
      return reply.code(204).send();
    },
  );

  app.get(
    '/units/:id/working-hours',
    {
      schema: {
        tags: ['units'],
        params: z.strictObject({ id: z.uuid() }),
        response: { 200: workingHours },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const unit = await loadUnit(ctx, request.params.id);
      authorize(actor, 'unit.read', { type: 'unit', unitPath: unit.path }, 'Unit');
      return loadWorkingHours(ctx, unit.id);
    },
  );

  app.put(
    '/units/:id/working-hours',
    {
      schema: {
        tags: ['units'],
        summary:
          "Sets a unit's working days and hours (in its time zone) and how long a post may wait for it",
        params: z.strictObject({ id: z.uuid() }),
        body: z.strictObject({
          days: z.array(z.number().int().min(1).max(7)).min(1).max(7),
          start: clock,
          end: clock,
          reviewWaitMinutes: z.number().int().min(15).max(10_080),
        }),
        response: { 200: workingHours },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const unit = await loadUnit(ctx, request.params.id);
      authorize(actor, 'unit.update', { type: 'unit', unitPath: unit.path }, 'Unit');
      return saveWorkingHours(ctx, actor, unit.id, request.body, request.ip);
    },
  );
};
