import type { AxiosInstance, AxiosResponse } from 'axios';
import { isAxiosError } from 'axios';
import { SOURCE_ANSWER_MAX_BYTES } from './shared';
import { type ErrorClass, PlatformError } from './types';

/**
 * What the source readers of the JSON platforms share: one GET that refuses an answer larger than
 * SOURCE_ANSWER_MAX_BYTES (the download is cut, nothing is parsed) and one that is not JSON, and a
 * classification of failures that never keeps the request (its URL can carry a token).
 */

const MEGABYTES = SOURCE_ANSWER_MAX_BYTES / 1024 / 1024;

export const oversized = (platform: string) =>
  new PlatformError({
    kind: 'invalid',
    message: `${platform} sent an answer larger than ${MEGABYTES} MB; it was refused`,
  });

export const malformed = (platform: string, what = 'an answer that is not JSON') =>
  new PlatformError({ kind: 'retry', message: `${platform} sent ${what}` });

/** A read changes nothing at the platform: an answer that never came is worth another try, not reconciliation. */
export function readClass(classification: ErrorClass): ErrorClass {
  return classification.kind === 'unknown' ? { ...classification, kind: 'retry' } : classification;
}

function parse(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * GET `path` and parse the answer as a JSON object. Failures are classified by `classify`, which
 * sees the axios error with its body already parsed; the error itself is not kept as a cause.
 */
export async function getSourceJson<T>(
  client: AxiosInstance,
  path: string,
  options: {
    platform: string;
    params?: Record<string, string | number>;
    headers?: Record<string, string>;
    classify: (error: unknown) => ErrorClass;
  },
): Promise<{ data: T; headers: Record<string, string> }> {
  let response: AxiosResponse<unknown>;
  try {
    response = await client.get(path, {
      params: options.params,
      headers: options.headers,
      responseType: 'text',
      transformResponse: [(body: unknown) => body],
      maxContentLength: SOURCE_ANSWER_MAX_BYTES,
    });
  } catch (error) {
    if (error instanceof PlatformError) throw error;
    if (isAxiosError(error) && /maxContentLength/i.test(error.message)) throw oversized(options.platform);
    if (isAxiosError(error) && error.response) error.response.data = parse(error.response.data) ?? '';
    throw new PlatformError(readClass(options.classify(error)));
  }
  const data = parse(response.data);
  if (data === null || typeof data !== 'object') throw malformed(options.platform);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers ?? {}))
    if (value !== undefined && value !== null) headers[name.toLowerCase()] = String(value);
  return { data: data as T, headers };
}

/**
 * A cursor for platforms whose posts carry whole-second times and no sortable id (Graph, YouTube
 * feeds): the newest post's time and the ids read at that second (`<ISO time> <id>,<id>`).
 */
export const formatTimeCursor = (at: number, ids: string[]) =>
  `${new Date(at).toISOString()} ${ids.join(',')}`;

export function parseTimeCursor(cursor: string | null): { at: number; ids: string[] } | null {
  if (!cursor) return null;
  const [time = '', ids = ''] = cursor.split(' ');
  const at = Date.parse(time);
  return Number.isFinite(at) ? { at, ids: ids.split(',').filter(Boolean) } : null;
}
