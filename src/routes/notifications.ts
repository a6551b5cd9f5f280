import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireActor } from '../http/auth';
import { idParams } from '../schemas/common';
import {
  changedCount,
  noticeSettings,
  notificationListQuery,
  notificationPage,
  webhookQuery,
  webhookView,
} from '../schemas/notifications';
import {
  loadNoticeSettings,
  markNotificationsRead,
  notificationsOf,
  saveNoticeSettings,
  unitWebhook,
  WEBHOOK_SIGNATURE_HEADER,
} from '../services/notifications';

/** The signed-in user's in-app notifications. */
export const notificationRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/notifications',
    {
      schema: {
        tags: ['notifications'],
        querystring: notificationListQuery,
        response: { 200: notificationPage },
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
        params: idParams,
        response: { 200: changedCount },
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
        querystring: webhookQuery,
        response: {
          200: webhookView,
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
      schema: { tags: ['notifications'], response: { 200: changedCount } },
    },
    async (request) => {
      return { changed: await markNotificationsRead(ctx, requireActor(request)) };
    },
  );
};
