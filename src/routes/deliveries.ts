import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireActor } from '../http/auth';
import { idParams } from '../schemas/common';
import {
  confirmBody,
  deliveryDetail,
  deliveryListQuery,
  deliveryPage,
  freeSlotsQuery,
  freeSlotsView,
  metricsRefreshView,
  optionalVersion,
  rescheduleBody,
  slotSharesView,
} from '../schemas/deliveries';
import {
  cancelDelivery,
  confirmDelivery,
  confirmRetracted,
  listDeliveries,
  listFreeSlots,
  listSlotShares,
  loadDeliveryDetail,
  rescheduleDelivery,
  retryDelivery,
} from '../services/deliveries';
import { MetricsRefreshThrottled, refreshDeliveryMetrics } from '../services/delivery-metrics';

/** Deliveries: the engine's work as people see and steer it. */
export const deliveryRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/deliveries',
    {
      schema: {
        tags: ['deliveries'],
        querystring: deliveryListQuery,
        response: { 200: deliveryPage },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const { unit, channel, post, ...filters } = request.query;
      return listDeliveries(ctx, actor, { ...filters, unitId: unit, channelId: channel, postId: post });
    },
  );

  app.get(
    '/deliveries/:id',
    { schema: { tags: ['deliveries'], params: idParams, response: { 200: deliveryDetail } } },
    async (request) => {
      return loadDeliveryDetail(ctx, requireActor(request), request.params.id);
    },
  );

  app.post(
    '/deliveries/:id/retry',
    {
      schema: {
        tags: ['deliveries'],
        description:
          'A failed or needs_attention delivery is scheduled again now, with a fresh attempt budget.',
        params: idParams,
        body: optionalVersion,
        response: { 200: deliveryDetail },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const { id } = request.params;
      await retryDelivery(ctx, actor, id, request.body?.version);
      return loadDeliveryDetail(ctx, actor, id);
    },
  );

  app.post(
    '/deliveries/:id/metrics/refresh',
    {
      schema: {
        tags: ['deliveries'],
        description:
          'Reads a published delivery’s figures from its platform now (kept as the `now` snapshot). Whoever reads the delivery may; on-demand reads are limited per platform (429 with Retry-After).',
        params: idParams,
        response: {
          200: metricsRefreshView,
        },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      try {
        return await refreshDeliveryMetrics(ctx, actor, request.params.id);
      } catch (error) {
        if (error instanceof MetricsRefreshThrottled) reply.header('retry-after', String(error.retryAfter));
        throw error;
      }
    },
  );

  app.post(
    '/deliveries/:id/cancel',
    {
      schema: {
        tags: ['deliveries'],
        params: idParams,
        body: optionalVersion,
        response: { 200: deliveryDetail },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const { id } = request.params;
      await cancelDelivery(ctx, actor, id, request.body?.version);
      return loadDeliveryDetail(ctx, actor, id);
    },
  );

  app.post(
    '/deliveries/:id/confirm',
    {
      schema: {
        tags: ['deliveries'],
        description: 'Someone checked the platform and found the post: record it as published at this URL.',
        params: idParams,
        body: confirmBody,
        response: { 200: deliveryDetail },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const { id } = request.params;
      await confirmDelivery(ctx, actor, id, request.body.url, request.body.version);
      return loadDeliveryDetail(ctx, actor, id);
    },
  );

  app.post(
    '/deliveries/:id/confirm-retracted',
    {
      schema: {
        tags: ['deliveries'],
        description:
          'Someone removed the post from the platform by hand (or checked it is gone): record the delivery as retracted.',
        params: idParams,
        body: optionalVersion,
        response: { 200: deliveryDetail },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const { id } = request.params;
      await confirmRetracted(ctx, actor, id, request.body?.version);
      return loadDeliveryDetail(ctx, actor, id);
    },
  );

  app.patch(
    '/deliveries/:id',
    {
      schema: {
        tags: ['deliveries'],
        description: 'Moves a scheduled delivery to another time.',
        params: idParams,
        body: rescheduleBody,
        response: { 200: deliveryDetail },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const { id } = request.params;
      await rescheduleDelivery(ctx, actor, id, new Date(request.body.dueAt), request.body.version);
      return loadDeliveryDetail(ctx, actor, id);
    },
  );

  app.get(
    '/channels/:id/free-slots',
    {
      schema: {
        tags: ['channels'],
        description: "The channel's posting slots in [from, to) that nothing is booked on yet.",
        params: idParams,
        querystring: freeSlotsQuery,
        response: { 200: freeSlotsView },
      },
    },
    async (request) => {
      const { from, to } = request.query;
      const slots = await listFreeSlots(ctx, requireActor(request), request.params.id, {
        from: from ? new Date(from) : undefined,
        to: to ? new Date(to) : undefined,
      });
      return { slots: slots.map((slot) => slot.toISOString()) };
    },
  );

  app.get(
    '/channels/:id/shares',
    {
      schema: {
        tags: ['channels'],
        description:
          "Each office's share of the channel's slots over the fair-share window: used (published or under way) in the last `windowDays`, and booked from now on.",
        params: idParams,
        response: {
          200: slotSharesView,
        },
      },
    },
    async (request) => {
      return listSlotShares(ctx, requireActor(request), request.params.id);
    },
  );
};
