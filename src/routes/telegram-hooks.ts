import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AppError } from '../domain/errors';
import { telegramUpdateBody } from '../schemas/telegram-hooks';
import {
  isTelegramHookSecret,
  receiveTelegramUpdate,
  TELEGRAM_HOOK_PATH,
} from '../services/telegram-sources';

const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

/** One update is one Message: far below the app's limit, which is for whole posts. */
const UPDATE_BODY_LIMIT = 128 * 1024;

/**
 * Telegram's deliveries to the source bot's webhook, outside /api/v1. No person calls it: the only
 * credential is the secret token Gaung gave setWebhook, checked before the body is read. The update
 * is stored and answered at once; the bot's round brings its post in.
 */
export const telegramHookRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;
  app.post(
    TELEGRAM_HOOK_PATH,
    {
      schema: { hide: true, body: telegramUpdateBody },
      bodyLimit: UPDATE_BODY_LIMIT,
      config: { ownAuthorization: true },
      onRequest: async (request) => {
        if (!isTelegramHookSecret(ctx, request.headers[SECRET_HEADER]))
          throw new AppError(
            'invalid_secret_token',
            401,
            "The request does not carry the webhook's secret token",
            {
              errors: [{ field: SECRET_HEADER, message: 'missing or wrong', code: 'invalid_secret_token' }],
            },
          );
      },
    },
    async (request, reply) => {
      await receiveTelegramUpdate(ctx, request.body);
      return reply.code(200).send();
    },
  );
};
