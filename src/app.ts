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
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { AppContext } from './context';
import { AppError, type FieldError } from './domain/errors';
import { registerRoutes } from './routes/index';

declare module 'fastify' {
  interface FastifyInstance {
    ctx: AppContext;
  }
}

export type App = FastifyInstance;

/** Largest JSON body accepted; uploads go through multipart with their own limits. */
export const BODY_LIMIT = 1024 * 1024;

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function sendProblem(
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string,
  more: { errors?: FieldError[]; extra?: Record<string, unknown> } = {},
): FastifyReply {
  const problem: Problem = {
    ...more.extra,
    type: `urn:gaung:problem:${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    detail,
    instance: reply.request.url.split('?')[0],
    ...(more.errors ? { errors: more.errors } : {}),
  };
  return reply.code(status).type('application/problem+json; charset=utf-8').send(problem);
}

/** "/targets/0/channelId" → "targets.0.channelId". */
const fieldOf = (instancePath: string) => instancePath.replace(/^\//, '').replaceAll('/', '.');

function validationErrors(error: FastifyError): FieldError[] {
  if (hasZodFastifySchemaValidationErrors(error)) {
    return error.validation.flatMap((entry) => {
      // fastify-type-provider-zod puts the zod issue's code in `keyword` and its other fields in `params`.
      const issue = {
        code: entry.keyword,
        keys: entry.params.keys as string[] | undefined,
        message: entry.message ?? 'invalid',
      };
      const base = fieldOf(entry.instancePath);
      if (issue.code === 'unrecognized_keys' && issue.keys)
        return issue.keys.map((key) => ({
          field: base ? `${base}.${key}` : key,
          message: 'unknown field',
          code: 'unknown_field',
        }));
      return [
        {
          field: base || (error.validationContext ?? 'body'),
          message: entry.message ?? issue.message,
          code: issue.code,
        },
      ];
    });
  }
  return (error.validation ?? []).map((entry) => ({
    field: fieldOf(entry.instancePath) || (error.validationContext ?? 'body'),
    message: entry.message ?? 'invalid',
  }));
}

function handleError(
  this: FastifyInstance,
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (error instanceof AppError) {
    if (error.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, error.status, error.code, error.message, {
      errors: error.errors,
      extra: error.extra,
    });
  }
  if (error.validation) {
    const where = error.validationContext ?? 'body';
    return sendProblem(reply, 400, 'validation_failed', `The ${where} of the request is not valid`, {
      errors: validationErrors(error),
    });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return sendProblem(reply, 413, 'body_too_large', 'The request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return sendProblem(reply, 415, 'unsupported_media_type', 'This content type is not accepted here');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return sendProblem(reply, 400, 'malformed_body', error.message);
  }
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY')
    return sendProblem(reply, 400, 'malformed_json', 'The body is not valid JSON');
  const status = error.statusCode ?? 500;
  if (status >= 500) {
    request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, 500, 'internal', 'Something went wrong on our side; it has been logged');
  }
  return sendProblem(reply, status, (error.code ?? 'error').toLowerCase(), error.message);
}

/** The HTTP app; `opsOnly` serves /healthz, /readyz and /metrics alone (a worker process's figures). */
export async function buildApp(ctx: AppContext, options: { opsOnly?: boolean } = {}): Promise<App> {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    trustProxy: ctx.config.GAUNG_TRUST_PROXY,
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

  await registerRoutes(app, options);
  return app;
}
