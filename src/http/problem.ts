import type { FastifyError, FastifyReply } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, type FieldError } from '../domain/errors';

/** An `application/problem+json` body (RFC 9457) with Gaung's stable `code`. */
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

/** What an error means to a caller: the one mapping from errors to answers, for the API and the web app. */
export interface ProblemAnswer {
  status: number;
  code: string;
  detail: string;
  errors?: FieldError[];
  extra?: Record<string, unknown>;
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

/** Answers the problem an error maps to. */
export const sendProblemOf = (reply: FastifyReply, answer: ProblemAnswer): FastifyReply =>
  sendProblem(reply, answer.status, answer.code, answer.detail, {
    errors: answer.errors,
    extra: answer.extra,
  });

/** "/targets/0/channelId" → "targets.0.channelId". */
const fieldOf = (instancePath: string) => instancePath.replace(/^\//, '').replaceAll('/', '.');

function validationErrors(error: FastifyError): FieldError[] {
  if (hasZodFastifySchemaValidationErrors(error)) {
    return error.validation.flatMap((entry) => {
      // fastify-type-provider-zod puts the zod issue's code in `keyword` and its other fields in `params`.
      const keys = entry.params.keys as string[] | undefined;
      const base = fieldOf(entry.instancePath);
      if (entry.keyword === 'unrecognized_keys' && keys)
        return keys.map((key) => ({
          field: base ? `${base}.${key}` : key,
          message: 'unknown field',
          code: 'unknown_field',
        }));
      return [
        {
          field: base || (error.validationContext ?? 'body'),
          message: entry.message ?? 'invalid',
          code: entry.keyword,
        },
      ];
    });
  }
  return (error.validation ?? []).map((entry) => ({
    field: fieldOf(entry.instancePath) || (error.validationContext ?? 'body'),
    message: entry.message ?? 'invalid',
  }));
}

/** The problem an error maps to; 5xx details stay hidden (the caller logs the error). */
export function toProblem(error: FastifyError | Error): ProblemAnswer {
  if (error instanceof AppError)
    return {
      status: error.status,
      code: error.code,
      detail: error.message,
      errors: error.errors,
      extra: error.extra,
    };
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const where = fastifyError.validationContext ?? 'body';
    return {
      status: 400,
      code: 'validation_failed',
      detail: `The ${where} of the request is not valid`,
      errors: validationErrors(fastifyError),
    };
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'body_too_large', detail: 'The request body is too large' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        code: 'unsupported_media_type',
        detail: 'This content type is not accepted here',
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, code: 'malformed_body', detail: error.message };
  }
  if (error instanceof SyntaxError || fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY')
    return { status: 400, code: 'malformed_json', detail: 'The body is not valid JSON' };
  const status = fastifyError.statusCode ?? 500;
  if (status >= 500)
    return { status: 500, code: 'internal', detail: 'Something went wrong on our side; it has been logged' };
  return { status, code: (fastifyError.code ?? 'error').toLowerCase(), detail: error.message };
}
