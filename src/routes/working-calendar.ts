import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HOLIDAY_KINDS } from '../domain/vocabulary';
import { requireActor } from '../http/auth';
import { calendarDate, clockTime, holidayName, reviewWaitMinutes, workDays } from '../schemas/working-time';
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

const workingHours = z.object({
  days: z.array(z.number().int()),
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
      const year = request.query.year ?? ctx.now().getUTCFullYear();
      return { year, items: await listHolidays(ctx, actor, year) };
    },
  );

  app.post(
    '/holidays',
    {
      schema: {
        tags: ['holidays'],
        body: z.strictObject({
          date: calendarDate,
          name: holidayName,
          kind: z.enum(HOLIDAY_KINDS),
        }),
        response: { 201: holidayView },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      return reply.code(201).send(await addHoliday(ctx, actor, request.body, request.ip));
    },
  );

  app.delete(
    '/holidays/:id',
    {
      schema: { tags: ['holidays'], params: z.strictObject({ id: z.uuid() }) },
    },
    async (request, reply) => {
      await removeHoliday(ctx, requireActor(request), request.params.id, request.ip);
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
      return loadWorkingHours(ctx, requireActor(request), request.params.id);
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
          days: workDays,
          start: clockTime,
          end: clockTime,
          reviewWaitMinutes,
        }),
        response: { 200: workingHours },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      return saveWorkingHours(ctx, actor, request.params.id, request.body, request.ip);
    },
  );
};
