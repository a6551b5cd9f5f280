import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DELIVERY_EVENTS } from '../domain/delivery-machine';
import {
  ATTEMPT_OUTCOMES,
  DELIVERY_MODES,
  DELIVERY_STATUSES,
  PLATFORMS,
  SNAPSHOT_WINDOWS,
} from '../domain/vocabulary';
import { requireActor } from '../http/auth';
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

const isoTime = z.iso.datetime({ offset: true });
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048);

const statusList = z
  .string()
  .transform((value) => value.split(',').map((s) => s.trim()))
  .pipe(z.array(z.enum(DELIVERY_STATUSES)).min(1))
  .describe('One status or several, comma-separated');

const deliverySummary = z.object({
  id: z.uuid(),
  postId: z.uuid(),
  unit: z.object({ id: z.uuid(), name: z.string() }).describe('The office the post came from'),
  channel: z.object({ id: z.uuid(), name: z.string(), platform: z.enum(PLATFORMS) }),
  mode: z.enum(DELIVERY_MODES),
  status: z.enum(DELIVERY_STATUSES),
  dueAt: z.string(),
  slotted: z.boolean(),
  attempts: z.number().int().describe('Attempts that counted against the retry budget'),
  excerpt: z.string(),
  remoteUrl: z.string().nullable(),
  publishedAt: z.string().nullable(),
  lastError: z.string().nullable(),
  lastErrorCode: z.string().nullable(),
  platformOptions: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe("The reviewer's platform choices (TikTok: privacyLevel, allowComment, allowDuet, allowStitch)"),
  version: z.number().int(),
  updatedAt: z.string(),
});

const deliveryDetail = deliverySummary.extend({
  renderedText: z.string(),
  leaseUntil: z.string().nullable(),
  actions: z.array(z.enum(DELIVERY_EVENTS)).describe('What the caller may do now'),
  attemptHistory: z.array(
    z.object({
      number: z.number().int(),
      startedAt: z.string(),
      endedAt: z.string().nullable(),
      outcome: z.enum(ATTEMPT_OUTCOMES).nullable(),
      httpStatus: z.number().int().nullable(),
      error: z.string().nullable(),
      errorCode: z.string().nullable(),
      worker: z.string().nullable(),
    }),
  ),
  events: z.array(
    z.object({
      id: z.number().int(),
      from: z.enum(DELIVERY_STATUSES).nullable(),
      to: z.enum(DELIVERY_STATUSES),
      reason: z.string().nullable(),
      actor: z.object({ id: z.uuid(), name: z.string() }).nullable(),
      at: z.string(),
    }),
  ),
});

const idParams = z.strictObject({ id: z.uuid() });
const optionalVersion = z
  .strictObject({ version: z.number().int().min(1).optional().describe('Refuse (409) if it changed since') })
  .nullish();

/** Deliveries: the engine's work as people see and steer it. */
export const deliveryRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/deliveries',
    {
      schema: {
        tags: ['deliveries'],
        querystring: z.strictObject({
          status: statusList.optional(),
          channel: z.uuid().optional(),
          unit: z.uuid().optional().describe('Originating unit and its subtree'),
          post: z.uuid().optional(),
          from: isoTime.optional().describe('Due at or after'),
          to: isoTime.optional().describe('Due before'),
          sort: z
            .enum(['due', 'attention'])
            .default('due')
            .describe('`attention`: failed and needs_attention first, then unknown, then the rest'),
          cursor: z.string().max(300).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
        response: { 200: z.object({ items: z.array(deliverySummary), nextCursor: z.string().nullable() }) },
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

  const snapshotView = z.object({
    window: z.enum(SNAPSHOT_WINDOWS),
    takenAt: z.string(),
    impressions: z.number().nullable(),
    likes: z.number().nullable(),
    reposts: z.number().nullable(),
    replies: z.number().nullable(),
    quotes: z.number().nullable(),
    clicks: z.number().nullable(),
  });

  app.post(
    '/deliveries/:id/metrics/refresh',
    {
      schema: {
        tags: ['deliveries'],
        description:
          'Reads a published delivery’s figures from its platform now (kept as the `now` snapshot). Whoever reads the delivery may; on-demand reads are limited per platform (429 with Retry-After).',
        params: idParams,
        response: {
          200: z.object({ deliveryId: z.uuid(), snapshots: z.array(snapshotView) }),
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
        body: z.strictObject({ url: httpUrl, version: z.number().int().min(1).optional() }),
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
        body: z.strictObject({ dueAt: isoTime, version: z.number().int().min(1) }),
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
        querystring: z.strictObject({
          from: isoTime.optional().describe('Default: now'),
          to: isoTime.optional().describe('Default: seven days after `from`; at most 62 days after it'),
        }),
        response: { 200: z.object({ slots: z.array(z.string()) }) },
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
          200: z.object({
            windowDays: z.number().int(),
            shares: z.array(
              z.object({
                unit: z.object({ id: z.string(), name: z.string() }),
                used: z.number().int(),
                booked: z.number().int(),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      return listSlotShares(ctx, requireActor(request), request.params.id);
    },
  );
};
