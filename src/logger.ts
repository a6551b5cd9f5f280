import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Logs never carry a secret. Request and response headers are not logged at all (see the
 * serializers); every other logged value passes through `scrub`, which censors secret-looking
 * fields at any depth and reduces HTTP client errors to their method, URL, status and body. These
 * paths redact the bindings of child loggers, which pino writes without `formatters.log`.
 */
const REDACT = [
  'password',
  'newPassword',
  'currentPassword',
  'token',
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'appPassword',
  'botToken',
  'secret',
  'clientSecret',
  'credentials',
  'authorization',
  'cookie',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.appPassword',
  '*.botToken',
  '*.secret',
  '*.clientSecret',
  '*.credentials',
  '*.authorization',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

const SECRET_QUERY = /([?&](?:code|state|token|access_token|sig|signature|password|oauth_verifier)=)[^&#]*/gi;

/** A URL with secret-bearing query parameters censored. */
export const redactUrl = (url: string) => url.replace(SECRET_QUERY, '$1[Redacted]');

const CENSOR = '[Redacted]';

/**
 * Keys whose values are secrets wherever they appear in a logged object (compared without case,
 * `-` or `_`): `password`, `newPassword`, `x-api-key`, `set-cookie`, `clientSecret`, `tokens`…
 */
const SECRET_KEY =
  /(password|passwd|passphrase|secret|secrets|token|tokens|authorization|cookie|cookies|credential|credentials|apikey|privatekey|passwordhash|tokenhash|signature)$/;
const isSecretKey = (key: string) => SECRET_KEY.test(key.toLowerCase().replace(/[-_]/g, ''));

/** Credentials that show up inside text: Bearer and Basic values, Gaung's API tokens, secret query parameters. */
const SECRET_IN_TEXT = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+|\bgaung_[A-Za-z0-9_-]{16,}/g;
const scrubText = (text: string) =>
  redactUrl(text).replace(SECRET_IN_TEXT, (_found, scheme?: string) =>
    scheme ? `${scheme} ${CENSOR}` : `gaung_${CENSOR}`,
  );

/**
 * What an HTTP client error carries besides its message, and must never be logged: the request
 * configuration with its headers (AxiosError's `config`, the socket's `_header`), the request and
 * response objects, and the response headers (twitter-api-v2's `headers`).
 */
const HTTP_BAGGAGE = new Set([
  'config',
  'request',
  'response',
  'headers',
  'rawHeaders',
  '_header',
  'socket',
  'agent',
  '_options',
  'toJSON',
]);

const MAX_DEPTH = 8;
const MAX_TEXT = 4000;

type Seen = WeakSet<object>;

function httpSummary(error: Record<string, unknown>): Record<string, unknown> {
  const config = error.config as { method?: string; url?: string; baseURL?: string } | undefined;
  const response = error.response as { status?: number; statusCode?: number; data?: unknown } | undefined;
  const summary: Record<string, unknown> = {};
  if (config?.method) summary.method = config.method.toUpperCase();
  if (config?.url) {
    const url =
      config.baseURL && !/^[a-z]+:/i.test(config.url) ? `${config.baseURL}${config.url}` : config.url;
    // The query may carry credentials of platforms that take them there (access_token=…).
    summary.url = url.split('?')[0];
  }
  const status = response?.status ?? response?.statusCode;
  if (typeof status === 'number') summary.status = status;
  if (config && response && response.data !== undefined && !('data' in error)) summary.data = response.data;
  return summary;
}

/** An error as data: type, message, stack, its own fields and cause, never a request or its headers. */
function serializeError(error: Error, depth: number, seen: Seen): Record<string, unknown> {
  const fields = error as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {
    type: error.constructor?.name ?? error.name,
    message: scrubText(String(error.message)),
    ...(error.stack ? { stack: scrubText(error.stack) } : {}),
  };
  for (const [key, value] of Object.entries(httpSummary(fields)))
    out[key] = scrub(value, depth + 1, seen, key);
  for (const key of Object.keys(fields)) {
    if (HTTP_BAGGAGE.has(key) || key in out) continue;
    out[key] = scrub(fields[key], depth + 1, seen, key);
  }
  if (error.cause !== undefined) out.cause = scrub(error.cause, depth + 1, seen, 'cause');
  return out;
}

/**
 * A copy of a logged value with secrets censored at any depth: values under secret-looking keys,
 * credentials inside text, and HTTP client errors reduced to what they say about the failure.
 * Streams and sockets are named, not walked.
 */
export function scrub(value: unknown, depth = 0, seen: Seen = new WeakSet(), key?: string): unknown {
  if (
    key !== undefined &&
    isSecretKey(key) &&
    value !== null &&
    value !== undefined &&
    typeof value !== 'boolean'
  )
    return CENSOR;
  if (typeof value === 'string')
    return scrubText(value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value);
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Deep]';
  if (value instanceof Date) return value;
  if (value instanceof URL) return redactUrl(value.href);
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value))
    return `[${value.constructor.name} ${value.byteLength} bytes]`;
  seen.add(value);
  try {
    if (value instanceof Error) return serializeError(value, depth, seen);
    if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1, seen));
    if (value instanceof Map) return scrub(Object.fromEntries(value), depth, seen);
    if (value instanceof Set) return scrub([...value], depth, seen);
    const prototype = Object.getPrototypeOf(value);
    const plain = prototype === Object.prototype || prototype === null;
    // Requests, responses, sockets and other emitters hold headers and connections: name them only.
    if (!plain && typeof (value as { on?: unknown }).on === 'function')
      return `[${(value as object).constructor?.name ?? 'Object'}]`;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (!plain && HTTP_BAGGAGE.has(k)) continue;
      out[k] = scrub(v, depth + 1, seen, k);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/** Fields the request and response serializers reduce to safe shapes of their own. */
const SERIALIZED_APART = new Set(['req', 'res']);

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      // Bindings of child loggers do not pass through `formatters.log`; these paths cover them.
      redact: { paths: REDACT, censor: CENSOR },
      formatters: {
        log: (object) => {
          const out: Record<string, unknown> = {};
          for (const [key, value] of Object.entries(object))
            out[key] = SERIALIZED_APART.has(key) ? value : scrub(value, 0, new WeakSet(), key);
          return out;
        },
      },
      serializers: {
        req: (req: { method: string; url: string; ip?: string; id?: string }) => ({
          id: req.id,
          method: req.method,
          url: redactUrl(req.url),
          ip: req.ip,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        // Errors were made data by `formatters.log`; one logged some other way still goes through scrub.
        err: (error: unknown) => (error instanceof Error ? scrub(error) : error),
      },
    },
    destination,
  );
}
