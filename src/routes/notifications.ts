import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { EMAIL_TOPICS } from '../domain/notices';
import { authorize } from '../domain/permissions';
import { requireActor } from '../http/auth';
import {
  listNotifications,
  loadNoticeSettings,
  markRead,
  notificationOwner,
  saveNoticeSettings,
  WEBHOOK_SIGNATURE_HEADER,
  webhookSecret,
} from '../services/notifications';
import { loadUnit } from '../services/units';

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
      const actor = requireActor(request);
      authorize(actor, 'notification.read', { type: 'notification', userId: actor.userId }, 'Notification');
      return listNotifications(ctx, actor.userId, {
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
      const actor = requireActor(request);
      const userId = await notificationOwner(ctx, request.params.id);
      authorize(actor, 'notification.read', { type: 'notification', userId }, 'Notification');
      return { changed: await markRead(ctx, actor.userId, request.params.id) };
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
      const actor = requireActor(request);
      const unit = await loadUnit(ctx, request.query.unit);
      authorize(actor, 'unit.update', { type: 'unit', unitPath: unit.path }, 'Unit');
      return {
        url: unit.notifyWebhookUrl,
        secret: webhookSecret(ctx, unit.id),
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
      const actor = requireActor(request);
      authorize(actor, 'notification.read', { type: 'notification', userId: actor.userId }, 'Notification');
      return loadNoticeSettings(ctx, actor.userId);
    },
  );

  app.put(
    '/notifications/settings',
    {
      schema: { tags: ['notifications'], body: noticeSettings, response: { 200: noticeSettings } },
    },
    async (request) => {
      const actor = requireActor(request);
      authorize(actor, 'notification.read', { type: 'notification', userId: actor.userId }, 'Notification');
      return saveNoticeSettings(ctx, actor.userId, request.body);
    },
  );

  app.post(
    '/notifications/read-all',
    {
      schema: { tags: ['notifications'], response: { 200: z.object({ changed: z.number().int() }) } },
    },
    async (request) => {
      const actor = requireActor(request);
      authorize(actor, 'notification.read', { type: 'notification', userId: actor.userId }, 'Notification');
      return { changed: await markRead(ctx, actor.userId) };
    },
  );
};
