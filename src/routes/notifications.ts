import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { EMAIL_TOPICS } from '../domain/notices';
import { requireActor } from '../http/auth';
import {
  loadNoticeSettings,
  markNotificationsRead,
  notificationsOf,
  saveNoticeSettings,
  unitWebhook,
  WEBHOOK_SIGNATURE_HEADER,
} from '../services/notifications';

const notificationView = z.object({
  id: z.uuid(),
  kind: z.string(),
  postId: z.uuid().nullable(),
  deliveryId: z.uuid().nullable(),
  data: z.record(z.string(), z.unknown()),
  readAt: z.string().nullable(),
  createdAt: z.string(),
});

const noticeSettings = z.strictObject({
  emailOptOuts: z.array(z.enum(EMAIL_TOPICS)).max(EMAIL_TOPICS.length),
  dailyDigest: z.boolean(),
  weeklyDigest: z.boolean(),
});

/** The signed-in user's in-app notifications. */
export const notificationRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/notifications',
    {
      schema: {
        tags: ['notifications'],
        querystring: z.strictObject({
          unread: z
            .enum(['1', '0', 'true', 'false'])
            .optional()
            .transform((v) => v === '1' || v === 'true'),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
        response: { 200: z.object({ items: z.array(notificationView), unread: z.number().int() }) },
      },
    },
    async (request) => {
      return notificationsOf(ctx, requireActor(request), {
        unreadOnly: request.query.unread,
        limit: request.query.limit,
      });
    },
  );

  app.post(
    '/notifications/:id/read',
    {
      schema: {
        tags: ['notifications'],
        params: z.strictObject({ id: z.uuid() }),
        response: { 200: z.object({ changed: z.number().int() }) },
      },
    },
    async (request) => {
      return { changed: await markNotificationsRead(ctx, requireActor(request), request.params.id) };
    },
  );

  app.get(
    '/notifications/webhook',
    {
      schema: {
        tags: ['notifications'],
        description:
          "How a unit's webhook receiver checks that a call came from Gaung: HMAC-SHA256 with this secret over `<t>.<raw body>`, sent as `t=<unix seconds>,v1=<hex>`.",
        querystring: z.strictObject({ unit: z.uuid() }),
        response: {
          200: z.object({
            url: z.string().nullable(),
            secret: z.string(),
            signatureHeader: z.string(),
            signatureScheme: z.string(),
          }),
        },
      },
    },
    async (request) => {
      return {
        ...(await unitWebhook(ctx, requireActor(request), request.query.unit)),
        signatureHeader: WEBHOOK_SIGNATURE_HEADER,
        signatureScheme: 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">',
      };
    },
  );

  app.get(
    '/notifications/settings',
    {
      schema: {
        tags: ['notifications'],
        summary:
          'What reaches the signed-in person by e-mail: topics turned off, the daily and weekly digests',
        response: { 200: noticeSettings },
      },
    },
    async (request) => {
      return loadNoticeSettings(ctx, requireActor(request));
    },
  );

  app.put(
    '/notifications/settings',
    {
      schema: { tags: ['notifications'], body: noticeSettings, response: { 200: noticeSettings } },
    },
    async (request) => {
      return saveNoticeSettings(ctx, requireActor(request), request.body);
    },
  );

  app.post(
    '/notifications/read-all',
    {
      schema: { tags: ['notifications'], response: { 200: z.object({ changed: z.number().int() }) } },
    },
    async (request) => {
      return { changed: await markNotificationsRead(ctx, requireActor(request)) };
    },
  );
};
