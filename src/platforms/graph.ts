import type { AxiosResponse } from 'axios';
import { isAxiosError } from 'axios';
import { classifyHttpError, createHttpClient, header, retryAfter } from './http';
import { RECONCILE_SKEW_MS, sleep, textFingerprint } from './shared';
import { type DeliveryMetrics, type ErrorClass, type PlatformContext, PlatformError } from './types';

/**
 * What Facebook, Instagram and Threads share: Meta's Graph API. One client shape (token as the
 * documented `access_token` parameter), one error classifier (Graph error codes and usage
 * headers), the container status poll, listing and matching recent posts, insights parsing.
 */

interface GraphErrorBody {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  error_user_msg?: string;
  is_transient?: boolean;
  fbtrace_id?: string;
}

export interface GraphApi {
  get<T>(path: string, params?: Record<string, string | number>): Promise<T>;
  post<T>(path: string, body?: Record<string, unknown>): Promise<T>;
  /** DELETE of a node; false when the node does not exist (any more): a repeated delete is done. */
  delete(path: string): Promise<boolean>;
}

export function graphApi(
  baseUrl: string,
  accessToken: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): GraphApi {
  const client = createHttpClient(baseUrl, options);
  return {
    get: <T>(path: string, params: Record<string, string | number> = {}) =>
      graphCall(() => client.get<T>(path, { params: { ...params, access_token: accessToken } })),
    post: <T>(path: string, body: Record<string, unknown> = {}) =>
      graphCall(() => client.post<T>(path, body, { params: { access_token: accessToken } })),
    async delete(path: string) {
      try {
        await client.delete(path, { params: { access_token: accessToken } });
        return true;
      } catch (error) {
        if (isMissingNode(error)) return false;
        throw new PlatformError(classifyGraphError(error));
      }
    },
  };
}

/** Graph's answer for a node that is gone: 404, or code 100 with subcode 33 ("does not exist"). */
function isMissingNode(error: unknown): boolean {
  if (!isAxiosError(error) || !error.response) return false;
  if (error.response.status === 404) return true;
  const body = graphErrorOf(error.response.data);
  return body?.code === 100 && body.error_subcode === 33;
}

/**
 * Runs one Graph request and classifies its failure on the spot. The axios error is not kept as the
 * cause: its config holds the URL with the access token (or the app secret), which must never reach a log.
 */
export async function graphCall<T>(request: () => Promise<AxiosResponse<T>>): Promise<T> {
  try {
    return (await request()).data;
  } catch (error) {
    throw new PlatformError(classifyGraphError(error));
  }
}

/** Throttling codes: app (4), user (17), page (32), per-hour API (613), IG publishing (9), business use case (80000-80014). */
const THROTTLE_CODES = new Set([4, 9, 17, 32, 613]);
const isThrottle = (code: number) => THROTTLE_CODES.has(code) || (code >= 80000 && code <= 80014);
/** Invalid or expired token (190), invalid session (102). */
const AUTH_CODES = new Set([102, 190]);
/** Unknown error (1), service unavailable (2), Instagram "media not ready" (9007). */
const RETRY_CODES = new Set([1, 2, 9007]);
/** Bad parameter (100), permission refused for this content (10, 200-299), policy block (368), duplicate (506). */
const isInvalid = (code: number) =>
  code === 100 || code === 10 || (code >= 200 && code <= 299) || code === 368 || code === 506;

/** Without an estimate from Meta, a throttled call waits this long. */
const DEFAULT_THROTTLE_MS = 10 * 60_000;

function graphErrorOf(data: unknown): GraphErrorBody | null {
  if (!data || typeof data !== 'object') return null;
  const error = (data as { error?: unknown }).error;
  return error && typeof error === 'object' ? (error as GraphErrorBody) : null;
}

const describe = (error: GraphErrorBody) =>
  `Graph error ${error.code ?? '?'}${error.error_subcode ? `/${error.error_subcode}` : ''}: ${
    error.error_user_msg || error.message || 'no message'
  }`;

interface Usage {
  call_count?: number;
  total_time?: number;
  total_cputime?: number;
  estimated_time_to_regain_access?: number;
}

function parseJson(value: string | undefined): unknown {
  if (!value) return null;
  try {
    return JSON.parse(value);
  } catch {
    return null;
  }
}

/**
 * When Meta says access returns, from the usage headers: `estimated_time_to_regain_access` (minutes)
 * in x-business-use-case-usage (per business, per use case) or x-page-usage. x-app-usage carries
 * only percentages; at 100 % the app as a whole is throttled.
 */
function graphThrottle(
  response: AxiosResponse | undefined,
  now = Date.now(),
): { until: Date | null; appExhausted: boolean } {
  const estimates: number[] = [];
  const business = parseJson(header(response, 'x-business-use-case-usage'));
  if (business && typeof business === 'object')
    for (const entries of Object.values(business as Record<string, unknown>))
      if (Array.isArray(entries))
        for (const entry of entries as Usage[]) estimates.push(entry.estimated_time_to_regain_access ?? 0);
  const page = parseJson(header(response, 'x-page-usage')) as Usage | null;
  if (page) estimates.push(page.estimated_time_to_regain_access ?? 0);
  const app = parseJson(header(response, 'x-app-usage')) as Usage | null;
  const appExhausted =
    !!app && Math.max(app.call_count ?? 0, app.total_time ?? 0, app.total_cputime ?? 0) >= 100;
  const minutes = Math.max(0, ...estimates);
  const until =
    minutes > 0 ? new Date(now + minutes * 60_000) : retryAfter(header(response, 'retry-after'), now);
  return { until, appExhausted };
}

/** The one classifier for Facebook, Instagram and Threads: the Graph error code decides, the HTTP status only breaks ties. */
export function classifyGraphError(error: unknown, now = Date.now()): ErrorClass {
  if (error instanceof PlatformError) return error.classification;
  if (!isAxiosError(error) || !error.response) return classifyHttpError(error);
  const response = error.response;
  const body = graphErrorOf(response.data);
  if (!body || typeof body.code !== 'number') return classifyHttpError(error);
  const code = body.code;
  const message = describe(body);
  const httpStatus = response.status;
  if (isThrottle(code)) {
    const { until, appExhausted } = graphThrottle(response, now);
    return {
      kind: 'rate_limited',
      until: until ?? new Date(now + DEFAULT_THROTTLE_MS),
      scope: code === 4 || appExhausted ? 'app' : 'channel',
      message,
      httpStatus,
    };
  }
  if (AUTH_CODES.has(code)) return { kind: 'auth', message, httpStatus };
  if (RETRY_CODES.has(code) || body.is_transient) return { kind: 'retry', message, httpStatus };
  if (isInvalid(code)) return { kind: 'invalid', message, httpStatus };
  return classifyHttpError(error, () => message);
}

export const invalid = (message: string) => new PlatformError({ kind: 'invalid', message });

/** Credentials of the wrong account: the channel must be connected again. */
export const wrongAccount = (message: string) => new PlatformError({ kind: 'auth', message });

/** Adapter options for the container platforms (Instagram, Threads). */
export interface ContainerOptions {
  /** Pause between two status checks of a media container. */
  pollIntervalMs?: number;
  /** Status checks before giving up (nothing is published yet, so the engine retries later). */
  maxPolls?: number;
  timeoutMs?: number;
}

export interface ContainerPoll {
  /** The status field of the container node: `status_code` (Instagram) or `status` (Threads). */
  field: 'status_code' | 'status';
  /** The field carrying the reason of an ERROR: `status` (Instagram) or `error_message` (Threads). */
  reasonField: 'status' | 'error_message';
  intervalMs: number;
  maxPolls: number;
  signal?: AbortSignal;
}

/**
 * Waits until a media container is FINISHED. Nothing is published yet, so every failure here is
 * safe to retry, except a container the platform rejected (ERROR: invalid media).
 */
export async function waitForContainer(
  api: GraphApi,
  containerId: string,
  poll: ContainerPoll,
): Promise<void> {
  for (let attempt = 0; attempt < poll.maxPolls; attempt++) {
    const node = await api.get<Record<string, string | undefined>>(`/${containerId}`, {
      fields: `${poll.field},${poll.reasonField}`,
    });
    const status = node[poll.field];
    if (status === 'FINISHED') return;
    if (status === 'ERROR')
      throw invalid(
        `the platform could not process the media: ${node[poll.reasonField] ?? 'no reason given'}`,
      );
    if (status === 'EXPIRED')
      throw new PlatformError({ kind: 'retry', message: `media container ${containerId} expired` });
    await sleep(poll.intervalMs, poll.signal);
  }
  throw new PlatformError({
    kind: 'retry',
    message: `media container ${containerId} still processing after ${poll.maxPolls} checks`,
  });
}

/**
 * The permalink of a just-published post. The post exists whatever happens here, so a failure only
 * costs the pretty URL: never throw after publishing, or the engine would publish again.
 */
export async function permalinkOr(
  api: GraphApi,
  mediaId: string,
  fallback: string,
  log: PlatformContext['log'],
): Promise<string> {
  try {
    const node = await api.get<{ permalink?: string }>(`/${mediaId}`, { fields: 'permalink' });
    return node.permalink ?? fallback;
  } catch (error) {
    log.warn({ mediaId, reason: (error as Error).message }, 'published, but the permalink could not be read');
    return fallback;
  }
}

/** Whether a post's stored text is the delivery's text, as far as Meta's rewriting lets us tell. */
export const sameText = (stored: string | null | undefined, expected: string) =>
  typeof stored === 'string' && textFingerprint(stored) === textFingerprint(expected);

/** Posts created before the first attempt (minus clock skew) cannot be this delivery's. */
export const reconcileSince = (firstAttemptAt: Date) =>
  Math.floor((firstAttemptAt.getTime() - RECONCILE_SKEW_MS) / 1000);

/** Graph timestamps look like 2024-05-01T10:00:00+0000. */
export const graphTime = (value: string | undefined) =>
  value ? Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) : Number.NaN;

interface Page<T> {
  data: T[];
  paging?: { cursors?: { after?: string }; next?: string };
}

/** Reads a list edge page by page (cursor `after`), up to `maxPages` pages of 100. */
export async function listEdge<T>(
  api: GraphApi,
  path: string,
  params: Record<string, string | number>,
  maxPages = 3,
): Promise<T[]> {
  const items: T[] = [];
  let after: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const answer = await api.get<Page<T>>(path, { ...params, limit: 100, ...(after ? { after } : {}) });
    items.push(...answer.data);
    after = answer.paging?.next ? answer.paging.cursors?.after : undefined;
    if (!after) break;
  }
  return items;
}

interface PublishingLimit {
  data: { quota_usage: number; config: { quota_total: number; quota_duration: number } }[];
}

/**
 * Instagram and Threads count API-published posts in a rolling window (24 h) and report the count.
 * When it is used up, the delivery waits (rate_limited) until the oldest post of the window leaves it.
 */
export async function checkPublishingQuota(
  api: GraphApi,
  where: { limitPath: string; recentPath: string; label: string },
): Promise<void> {
  const limit = await api.get<PublishingLimit>(where.limitPath, { fields: 'quota_usage,config' });
  const entry = limit.data[0];
  if (!entry || entry.quota_usage < entry.config.quota_total) return;
  const now = Date.now();
  const window = entry.config.quota_duration;
  // The quotas are 100 (Instagram) and 250 (Threads) posts: five pages reach the oldest.
  const recent = await listEdge<{ timestamp?: string }>(
    api,
    where.recentPath,
    { fields: 'id,timestamp', since: Math.floor(now / 1000) - window },
    5,
  );
  const oldest = Math.min(...recent.map((post) => graphTime(post.timestamp)).filter(Number.isFinite));
  const frees = Number.isFinite(oldest) ? oldest + window * 1000 : now + window * 1000;
  throw new PlatformError({
    kind: 'rate_limited',
    until: new Date(Math.max(frees, now + 60_000)),
    scope: 'channel',
    message: `${where.label} publishing quota used: ${entry.quota_usage} of ${entry.config.quota_total} posts per ${
      window / 3600
    } h`,
  });
}

export interface Insight {
  name: string;
  values?: { value: number }[];
  total_value?: { value: number };
}

/** Reads `/{media-id}/insights` answers (lifetime values) into a name → number map. */
export function insightValues(data: Insight[]): Record<string, number> {
  const values: Record<string, number> = {};
  for (const insight of data) {
    const value = insight.total_value?.value ?? insight.values?.[0]?.value;
    if (typeof value === 'number') values[insight.name] = value;
  }
  return values;
}

export const emptyMetrics = (raw: Record<string, unknown>): DeliveryMetrics => ({
  impressions: null,
  likes: null,
  reposts: null,
  replies: null,
  quotes: null,
  clicks: null,
  raw,
});
