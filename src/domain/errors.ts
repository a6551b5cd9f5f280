/** A field-level validation problem, reported in problem+json `errors`. */
export interface FieldError {
  field: string;
  message: string;
  code?: string;
}

/**
 * A failure the caller can act on. `code` is stable (clients branch on it); the HTTP layer maps
 * `status` and renders the error as application/problem+json.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly errors: FieldError[] | undefined;
  readonly extra: Record<string, unknown> | undefined;

  constructor(
    code: string,
    status: number,
    message: string,
    options: { errors?: FieldError[]; extra?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = this.constructor.name;
    this.code = code;
    this.status = status;
    this.errors = options.errors;
    this.extra = options.extra;
  }

  /** The status under the name libraries' own error handlers read (the queue dashboard's), so a 403 stays a 403. */
  get statusCode(): number {
    return this.status;
  }
}

export const notFound = (what: string) => new AppError('not_found', 404, `${what} not found`);

/** 404 naming the request field that referred to something missing or hidden (the same answer for both). */
export const notFoundAt = (what: string, field: string) =>
  new AppError('not_found', 404, `${what} not found`, {
    errors: [{ field, message: `no such ${what.toLowerCase()}`, code: 'not_found' }],
  });

export const forbidden = (message = 'You may not do this') => new AppError('forbidden', 403, message);

export const unauthenticated = (message = 'Sign in first') => new AppError('unauthenticated', 401, message);

export const invalid = (errors: FieldError[], message = 'The request is not valid') =>
  new AppError('validation_failed', 400, message, { errors });

export const unprocessable = (code: string, message: string, extra?: Record<string, unknown>) =>
  new AppError(code, 422, message, { extra });

/** Optimistic concurrency: the client edited or decided on a version that is no longer current. */
export const staleVersion = (currentVersion: number) =>
  new AppError('stale_version', 409, 'This was changed by someone else; reload and try again', {
    extra: { currentVersion },
  });

export const conflict = (code: string, message: string, extra?: Record<string, unknown>) =>
  new AppError(code, 409, message, { extra });
