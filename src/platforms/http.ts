import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import axios, { type AxiosInstance, type AxiosResponse, isAxiosError } from 'axios';
import type { ErrorClass, NetworkReach } from './types';

/**
 * What every axios-based adapter shares: clients with timeouts and keep-alive, and the generic part
 * of error classification (the network layer and plain HTTP statuses). Each adapter first reads its
 * platform's own error shapes, then falls back to `classifyHttpError`.
 */

const internal = new net.BlockList();
for (const [address, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const)
  internal.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of [
  ['::', 127],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  internal.addSubnet(address, prefix, 'ipv6');

export const isInternalAddress = (address: string) =>
  internal.check(address, net.isIPv6(address) ? 'ipv6' : 'ipv4');

/** A refusal names the host, never the address it resolved to: that would let anyone map the internal DNS. */
export class InternalAddressError extends Error {
  readonly code = 'EINTERNAL';
  constructor(host: string, why: string) {
    super(`${host} ${why}; Gaung connects only to public addresses here`);
    this.name = this.constructor.name;
  }
}

/** Where refusals are logged with the address the name resolved to (set once by the process). */
let logRefusal: (detail: { host: string; address: string }) => void = () => {};
export function onInternalAddressRefused(log: (detail: { host: string; address: string }) => void): void {
  logRefusal = log;
}

/** dns.lookup, refusing internal addresses. */
const publicLookup = ((
  hostname: string,
  options: dns.LookupOptions,
  callback: (...args: unknown[]) => void,
) => {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error);
    const refused = addresses.find((entry) => isInternalAddress(entry.address));
    if (refused) {
      logRefusal({ host: hostname, address: refused.address });
      return callback(new InternalAddressError(hostname, 'resolves to an internal address'));
    }
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}) as unknown as net.LookupFunction;

const AGENTS: Record<NetworkReach, { httpAgent: http.Agent; httpsAgent: https.Agent }> = {
  any: {
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64 }),
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 64 }),
  },
  public: {
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64, lookup: publicLookup }),
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 64, lookup: publicLookup }),
  },
};

/** Why a URL may not be reached from a `public` client, judged from its host alone; null if it may. */
export function internalUrlProblem(url: string): string | null {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return 'is this machine';
  return net.isIP(host) && isInternalAddress(host) ? 'is an internal network address' : null;
}

/** Long enough for a slow upload chunk; a request that takes longer is treated as an unknown outcome. */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * A client with timeouts and keep-alive. `reach` is given for addresses someone typed in (webhooks,
 * feeds, Mastodon instances, PDSes): such a client never goes through an environment proxy
 * (`HTTP(S)_PROXY`), since the address check would then see the proxy instead of the target. Clients
 * of the fixed platform hosts (no `reach`) honour the proxy settings.
 */
export function createHttpClient(
  baseURL: string,
  options: { timeoutMs?: number; signal?: AbortSignal; reach?: NetworkReach } = {},
): AxiosInstance {
  const reach = options.reach ?? 'any';
  if (reach === 'public') {
    const problem = internalUrlProblem(baseURL);
    if (problem) throw new InternalAddressError(new URL(baseURL).hostname, problem);
  }
  return axios.create({
    baseURL,
    timeout: options.timeoutMs ?? REQUEST_TIMEOUT_MS,
    ...AGENTS[reach],
    signal: options.signal,
    ...(options.reach ? { proxy: false as const } : {}),
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
  const refused = error instanceof InternalAddressError ? error : isAxiosError(error) ? error.cause : null;
  if (refused instanceof InternalAddressError) return { kind: 'invalid', message: refused.message };
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
