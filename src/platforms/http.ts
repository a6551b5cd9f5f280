import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse, isAxiosError } from 'axios';
import type { ErrorClass } from './types';

/**
 * What every axios-based adapter shares: clients with timeouts and keep-alive, and the generic part
 * of error classification (the network layer and plain HTTP statuses). Each adapter first reads its
 * platform's own error shapes, then falls back to `classifyHttpError`.
 */

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64 });

/** Long enough for a slow upload chunk; a request that takes longer is treated as an unknown outcome. */
export const REQUEST_TIMEOUT_MS = 30_000;

export function createHttpClient(
  baseURL: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): AxiosInstance {
  return axios.create({
    baseURL,
    timeout: options.timeoutMs ?? REQUEST_TIMEOUT_MS,
    httpAgent,
    httpsAgent,
    signal: options.signal,
    maxRedirects: 0,
    maxBodyLength: Number.POSITIVE_INFINITY,
    maxContentLength: 50 * 1024 * 1024,
    headers: { 'user-agent': 'Gaung/0.1 (+https://github.com/gaung)' },
  });
}

/** Errors raised before any byte of the request left: retrying cannot duplicate anything. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_INVALID_URL',
]);

/** Parses Retry-After (seconds or an HTTP date) into an absolute time. */
export function retryAfter(value: string | undefined | null, now = Date.now()): Date | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return new Date(now + Math.max(0, seconds) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : new Date(date);
}

export const header = (response: AxiosResponse | undefined, name: string): string | undefined => {
  const value = response?.headers?.[name.toLowerCase()];
  return value === undefined || value === null ? undefined : String(value);
};

/**
 * Classifies a failure by transport and status alone. A timeout or a connection reset after the
 * request was sent is `unknown`: the platform may have stored the post.
 */
export function classifyHttpError(
  error: unknown,
  describe: (response: AxiosResponse) => string = defaultMessage,
): ErrorClass {
  if (!isAxiosError(error)) return { kind: 'retry', message: (error as Error)?.message ?? String(error) };
  const response = error.response;
  if (!response) {
    const code = error.code ?? '';
    if (NOT_SENT.has(code)) return { kind: 'retry', message: `${code}: ${error.message}` };
    return {
      kind: 'unknown',
      message: `no answer (${code || error.message}); the request may have been received`,
    };
  }
  const status = response.status;
  const message = describe(response);
  if (status === 429) {
    const until = retryAfter(header(response, 'retry-after')) ?? new Date(Date.now() + 60_000);
    return { kind: 'rate_limited', until, scope: 'channel', message, httpStatus: status };
  }
  if (status === 401) return { kind: 'auth', message, httpStatus: status };
  if (status === 408 || status >= 500) return { kind: 'retry', message, httpStatus: status };
  return { kind: 'invalid', message, httpStatus: status };
}

function defaultMessage(response: AxiosResponse): string {
  const data = response.data as unknown;
  if (typeof data === 'string' && data.length > 0) return `HTTP ${response.status}: ${data.slice(0, 300)}`;
  if (data && typeof data === 'object')
    return `HTTP ${response.status}: ${JSON.stringify(data).slice(0, 300)}`;
  return `HTTP ${response.status}`;
}
