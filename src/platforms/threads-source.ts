import { z } from 'zod';
import { graphNodeExists, readGraphEdge } from './graph-source';
import type { SourceItem, SourceMedia, SourceReader } from './types';

/**
 * An office's Threads account as a source: `GET /{threads-user-id}/threads`, newest first. A
 * carousel is one item with each child's file; a repost of someone else's thread (REPOST_FACADE)
 * is marked `repost` and a reply `reply`, so the source skips them unless told otherwise. The
 * origin's id is the Threads media id, which is what a native repost (`POST /{id}/repost`) takes.
 */

const credentials = z.object({ accessToken: z.string().min(1) });
const settings = z.object({ userId: z.string().regex(/^\d+$/, 'a numeric Threads user id') });

interface ThreadsChild {
  id: string;
  media_type?: string;
  media_url?: string;
  thumbnail_url?: string;
  alt_text?: string;
}

export interface ThreadsSourceNode extends ThreadsChild {
  text?: string;
  permalink?: string;
  timestamp?: string;
  username?: string;
  is_quote_post?: boolean;
  quoted_post?: { id: string };
  reposted_post?: { id: string };
  is_reply?: boolean;
  children?: { data?: ThreadsChild[] };
}

export const THREADS_SOURCE_FIELDS =
  'id,media_type,media_url,permalink,text,timestamp,username,thumbnail_url,alt_text,' +
  'children{media_type,media_url,thumbnail_url,alt_text},is_quote_post,quoted_post,reposted_post,is_reply';

function medium(node: ThreadsChild): SourceMedia[] {
  if (node.media_type !== 'IMAGE' && node.media_type !== 'VIDEO') return [];
  const kind = node.media_type === 'VIDEO' ? 'video' : 'image';
  const altText = node.alt_text ?? '';
  if (!node.media_url)
    return [
      {
        url: node.thumbnail_url ?? '',
        kind,
        altText,
        skippedReason: `Threads gives no file for medium ${node.id}`,
      },
    ];
  return [
    {
      url: node.media_url,
      kind,
      altText,
      ...(kind === 'video' && node.thumbnail_url ? { thumbnailUrl: node.thumbnail_url } : {}),
    },
  ];
}

export function threadsItem(node: ThreadsSourceNode): SourceItem {
  const publishedAt = node.timestamp
    ? new Date(node.timestamp.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))
    : null;
  const ref: Record<string, string> = {};
  if (node.quoted_post?.id) ref.quotedPostId = node.quoted_post.id;
  if (node.reposted_post?.id) ref.repostedPostId = node.reposted_post.id;
  return {
    key: node.id,
    url: node.permalink ?? null,
    publishedAt,
    text: node.text ?? '',
    media: node.media_type === 'CAROUSEL_ALBUM' ? (node.children?.data ?? []).flatMap(medium) : medium(node),
    origin: {
      platform: 'threads',
      nativeId: node.id,
      url: node.permalink ?? null,
      authorHandle: node.username ? `@${node.username}` : null,
      publishedAt: (publishedAt ?? new Date()).toISOString(),
      ...(Object.keys(ref).length > 0 ? { ref } : {}),
    },
    kind: node.media_type === 'REPOST_FACADE' ? 'repost' : node.is_reply ? 'reply' : 'post',
  };
}

export const threadsSource: SourceReader = {
  readSource(ctx, request) {
    const { accessToken } = credentials.parse(ctx.credentials);
    const { userId } = settings.parse(ctx.channel.settings);
    return readGraphEdge<ThreadsSourceNode>(
      ctx,
      {
        platform: 'Threads',
        baseUrl: ctx.endpoints.threads,
        accessToken,
        path: `/${userId}/threads`,
        fields: THREADS_SOURCE_FIELDS,
        item: threadsItem,
      },
      request,
    );
  },
  originExists(ctx, origin) {
    const { accessToken } = credentials.parse(ctx.credentials);
    return graphNodeExists(ctx, 'Threads', ctx.endpoints.threads, accessToken, origin);
  },
};
