import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { AppContext } from './context';
import authPlugin from './http/auth';
import { sendProblem, sendProblemOf, toProblem } from './http/problem';
import rateLimits from './http/rate-limit';
import { apiRoutes, opsRoutes } from './routes/index';
import { webRoutes } from './web/index';

declare module 'fastify' {
  interface FastifyInstance {
    ctx: AppContext;
  }
}

export type App = FastifyInstance;

/** Largest JSON body accepted; uploads go through multipart with their own limits. */
export const BODY_LIMIT = 1024 * 1024;

function handleError(
  this: FastifyInstance,
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const problem = toProblem(error);
  if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
  // A throttled answer says when to come back (sign-in throttle, per-route limits).
  const retryAfter = problem.extra?.retryAfter;
  if (problem.status === 429 && typeof retryAfter === 'number' && !reply.hasHeader('retry-after'))
    reply.header('retry-after', String(retryAfter));
  return sendProblemOf(reply, problem);
}

/**
 * GAUNG_TRUST_PROXY as Fastify takes it: the proxies' addresses as they are; a hop count as "the
 * nearest `hops` addresses are proxies" (what Fastify does with a number, which its types omit).
 */
const trustProxyOption = (setting: false | number | string[]) =>
  typeof setting === 'number' ? (_address: string, hop: number) => hop < setting : setting;

/** The HTTP app; `opsOnly` serves /healthz, /readyz and /metrics alone (a worker process's figures). */
export async function buildApp(ctx: AppContext, options: { opsOnly?: boolean } = {}): Promise<App> {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    trustProxy: trustProxyOption(ctx.config.GAUNG_TRUST_PROXY),
    bodyLimit: BODY_LIMIT,
    requestIdHeader: false,
    genReqId: () => crypto.randomUUID(),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  }).withTypeProvider<ZodTypeProvider>();

  app.decorate('ctx', ctx);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, 404, 'not_found', `No route ${request.method} ${request.url.split('?')[0]}`),
  );

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    ctx.metrics.httpRequests.inc({ method: request.method, route, status: reply.statusCode });
    ctx.metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        // Gaung is often run on plain HTTP inside an office network.
        upgradeInsecureRequests: null,
      },
    },
  });
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Gaung API',
        description: 'Submissions, review, channels and deliveries. Errors are application/problem+json.',
        version: '1',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: 'gaung_session' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  // The UI's inline bootstrap script needs its own CSP; the spec itself is at /docs/json.
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  if (options.opsOnly) {
    await app.register(opsRoutes);
    return app;
  }
  await app.register(authPlugin);
  await app.register(rateLimits);
  await app.register(opsRoutes);
  await app.register(apiRoutes);
  // The web app and the press room, outside /api/v1.
  await app.register(webRoutes);
  return app;
}
