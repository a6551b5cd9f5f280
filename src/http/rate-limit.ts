import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { redisKey } from '../context';
import { AppError } from '../domain/errors';

/**
 * Per-route limits on what costs Gaung or a platform real work: reading a feed before adding it,
 * rendering previews, asking a platform who a channel is. A route opts in with
 * `config: { rateLimit: ROUTE_LIMITS.… }`, so the limit travels with the route wherever it is
 * mounted or renamed. Counts live in Redis under Gaung's key prefix (one counter per route and
 * caller: the signed-in person, else the client address), so every API process shares them; on a
 * Cluster the hash-tagged prefix keeps them in Gaung's slot. Over the limit: 429 problem+json
 * `rate_limited` with Retry-After.
 */

export const ROUTE_LIMITS = {
  /** Adding an office feed or source: the address is fetched and parsed before anything is stored. */
  sourceAdd: { max: 20, timeWindow: 60 * 60 * 1000 },
  /** Rendering a post for every target platform. */
  preview: { max: 60, timeWindow: 60 * 1000 },
  /** Asking the platform whose account a channel's credentials open. */
  channelVerify: { max: 10, timeWindow: 60 * 1000 },
} as const;

const rateLimits: FastifyPluginAsync = async (app) => {
  const { ctx } = app;
  await app.register(rateLimit, {
    global: false,
    redis: ctx.redis,
    nameSpace: `${redisKey(ctx, 'rate-limit')}:`,
    // After the caller is known (onRequest), before the body is validated: bad bodies count too.
    hook: 'preValidation',
    keyGenerator: (request) => (request.actor ? `user:${request.actor.userId}` : `ip:${request.ip}`),
    // Redis down: the request goes through rather than the app failing with it.
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      new AppError('rate_limited', 429, `Too many requests here; try again in ${context.after}`, {
        extra: { retryAfter: Math.max(1, Math.ceil(context.ttl / 1000)) },
      }),
  });
};

export default fp(rateLimits, { name: 'rate-limits' });
