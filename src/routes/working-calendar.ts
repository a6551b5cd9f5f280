import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireActor } from '../http/auth';
import { idParams } from '../schemas/common';
import {
  holidayBody,
  holidayList,
  holidayListQuery,
  holidayView,
  workingHours,
  workingHoursBody,
} from '../schemas/working-time';
import {
  addHoliday,
  listHolidays,
  loadWorkingHours,
  removeHoliday,
  saveWorkingHours,
} from '../services/working-calendar';

/** The days off of the organisation, and each unit's working hours and waiting limit. */
export const workingCalendarRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/holidays',
    {
      schema: {
        tags: ['holidays'],
        summary: "The organisation's public holidays and collective leave days of a year",
        querystring: holidayListQuery,
        response: { 200: holidayList },
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
        body: holidayBody,
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
      schema: { tags: ['holidays'], params: idParams },
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
        params: idParams,
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
        params: idParams,
        body: workingHoursBody,
        response: { 200: workingHours },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      return saveWorkingHours(ctx, actor, request.params.id, request.body, request.ip);
    },
  );
};
