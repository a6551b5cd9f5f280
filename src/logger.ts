import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Log paths that may carry secrets. Request and response headers are not logged at all (see the
 * serializers), but service code logs objects too, so their secret-looking fields are censored.
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

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT, censor: '[Redacted]' },
      serializers: {
        req: (req: { method: string; url: string; ip?: string; id?: string }) => ({
          id: req.id,
          method: req.method,
          url: redactUrl(req.url),
          ip: req.ip,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    destination,
  );
}
