import { classifyGraphError, graphTime } from './graph';
import { createHttpClient } from './http';
import {
  formatTimeCursor as formatCursor,
  getSourceJson,
  malformed,
  parseTimeCursor as parseCursor,
} from './source-read';
import type { PlatformContext, PostOrigin, SourceReadRequest, SourceReadResult } from './types';

/**
 * Reading an office's own account through Meta's Graph APIs (Instagram, Facebook Page, Threads):
 * a list edge read newest first, page by page with the `after` cursor while Graph offers a `next`
 * page, from `since` (the later of the request's `since` and the newest item already read), until
 * `limit` items. The cursor is the newest item's time. The access token travels as the documented
 * `access_token` parameter and never reaches a log or an error.
 */

interface GraphPage {
  data?: unknown;
  paging?: { cursors?: { after?: string }; next?: string };
}

/** Pages of 100 are Graph's largest; a read of `limit` items needs at most this many more pages than that. */
const EXTRA_PAGES = 1;

export interface GraphEdgeRead<T extends { id: string; timestamp?: string; created_time?: string }> {
  platform: string;
  baseUrl: string;
  accessToken: string;
  path: string;
  fields: string;
  /** Builds the item, or null to leave the node out entirely (nothing Gaung can use). */
  item: (node: T) => SourceReadResult['items'][number] | null;
}

const timeOf = (node: { timestamp?: string; created_time?: string }) =>
  graphTime(node.timestamp ?? node.created_time);

export async function readGraphEdge<T extends { id: string; timestamp?: string; created_time?: string }>(
  ctx: PlatformContext,
  read: GraphEdgeRead<T>,
  request: SourceReadRequest,
): Promise<SourceReadResult> {
  const client = createHttpClient(read.baseUrl, { signal: ctx.signal });
  const previous = parseCursor(request.cursor);
  const since = Math.max(request.since.getTime(), previous?.at ?? 0);
  const items: SourceReadResult['items'] = [];
  let newest = previous?.at ?? Number.NEGATIVE_INFINITY;
  let newestIds = new Set(previous?.ids ?? []);
  let after: string | undefined;
  const pages = Math.ceil(request.limit / 100) + EXTRA_PAGES;
  for (let page = 0; page < pages && items.length < request.limit; page++) {
    const { data: answer } = await getSourceJson<GraphPage>(client, read.path, {
      platform: read.platform,
      params: {
        fields: read.fields,
        since: Math.floor(since / 1000),
        limit: Math.min(100, request.limit - items.length),
        access_token: read.accessToken,
        ...(after ? { after } : {}),
      },
      classify: (error) => classifyGraphError(error),
    });
    if (!Array.isArray(answer.data)) throw malformed(read.platform, 'a page without a list of posts');
    for (const node of answer.data as T[]) {
      if (!node || typeof node.id !== 'string') throw malformed(read.platform, 'a post without an id');
      const at = timeOf(node);
      if (Number.isFinite(at)) {
        if (at < since) continue;
        // Graph times have whole seconds: of the posts at the cursor's second, those already read are left out.
        if (at === previous?.at && previous.ids.includes(node.id)) continue;
        if (at > newest) {
          newest = at;
          newestIds = new Set();
        }
        if (at === newest) newestIds.add(node.id);
      }
      const item = read.item(node);
      if (item && items.length < request.limit) items.push(item);
    }
    after = answer.paging?.next ? answer.paging.cursors?.after : undefined;
    if (!after) break;
  }
  return {
    items,
    cursor: Number.isFinite(newest) ? formatCursor(newest, [...newestIds]) : request.cursor,
  };
}

/** Whether a Graph node still exists: the node answers, or Graph says it does not exist (code 100/33, or 404). */
export async function graphNodeExists(
  ctx: PlatformContext,
  platform: string,
  baseUrl: string,
  accessToken: string,
  origin: PostOrigin,
): Promise<boolean> {
  const client = createHttpClient(baseUrl, { signal: ctx.signal });
  let gone = false;
  try {
    const { data } = await getSourceJson<{ id?: string }>(client, `/${encodeURIComponent(origin.nativeId)}`, {
      platform,
      params: { fields: 'id', access_token: accessToken },
      classify: (error) => {
        const response = (error as { response?: { status?: number; data?: unknown } }).response;
        const body = (response?.data as { error?: { code?: number; error_subcode?: number } } | undefined)
          ?.error;
        if (response?.status === 404 || (body?.code === 100 && body.error_subcode === 33)) gone = true;
        return classifyGraphError(error);
      },
    });
    return data.id === origin.nativeId;
  } catch (error) {
    if (gone) return false;
    throw error;
  }
}
