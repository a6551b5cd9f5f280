import { z } from 'zod';
import { graphNodeExists, readGraphEdge } from './graph-source';
import type { SourceItem, SourceMedia, SourceReader } from './types';

/**
 * An office's Instagram professional account as a source: `GET /{ig-user-id}/media`, newest first.
 * A carousel is one item with each child's file; a reel or video is its video file with the
 * thumbnail as its still. Stories are never read (the media edge leaves them out, and one that
 * came anyway would be marked `story`). A medium whose file Instagram withholds (copyrighted
 * audio) is named and skipped.
 */

const credentials = z.object({ accessToken: z.string().min(1) });
const settings = z.object({
  igUserId: z.string().regex(/^\d+$/, 'a numeric Instagram professional account id'),
});

interface IgChild {
  id: string;
  media_type?: string;
  media_url?: string;
  thumbnail_url?: string;
}

export interface IgSourceNode extends IgChild {
  caption?: string;
  media_product_type?: string;
  permalink?: string;
  timestamp?: string;
  username?: string;
  children?: { data?: IgChild[] };
}

export const INSTAGRAM_SOURCE_FIELDS =
  'id,caption,media_type,media_product_type,media_url,thumbnail_url,permalink,timestamp,username,children{media_type,media_url,thumbnail_url}';

function medium(node: IgChild): SourceMedia {
  const kind = node.media_type === 'VIDEO' ? 'video' : 'image';
  if (!node.media_url)
    return {
      url: node.thumbnail_url ?? '',
      kind,
      altText: '',
      skippedReason: `Instagram gives no file for medium ${node.id} (it may carry copyrighted audio)`,
    };
  return {
    url: node.media_url,
    kind,
    altText: '',
    ...(kind === 'video' && node.thumbnail_url ? { thumbnailUrl: node.thumbnail_url } : {}),
  };
}

export function instagramItem(node: IgSourceNode): SourceItem {
  const publishedAt = node.timestamp
    ? new Date(node.timestamp.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))
    : null;
  const media =
    node.media_type === 'CAROUSEL_ALBUM' ? (node.children?.data ?? []).map(medium) : [medium(node)];
  return {
    key: node.id,
    url: node.permalink ?? null,
    publishedAt,
    text: node.caption ?? '',
    media,
    origin: {
      platform: 'instagram',
      nativeId: node.id,
      url: node.permalink ?? null,
      authorHandle: node.username ? `@${node.username}` : null,
      publishedAt: (publishedAt ?? new Date()).toISOString(),
    },
    kind: node.media_product_type === 'STORY' ? 'story' : 'post',
  };
}

export const instagramSource: SourceReader = {
  readSource(ctx, request) {
    const { accessToken } = credentials.parse(ctx.credentials);
    const { igUserId } = settings.parse(ctx.channel.settings);
    return readGraphEdge<IgSourceNode>(
      ctx,
      {
        platform: 'Instagram',
        baseUrl: ctx.endpoints.graph,
        accessToken,
        path: `/${igUserId}/media`,
        fields: INSTAGRAM_SOURCE_FIELDS,
        item: instagramItem,
      },
      request,
    );
  },
  originExists(ctx, origin) {
    const { accessToken } = credentials.parse(ctx.credentials);
    return graphNodeExists(ctx, 'Instagram', ctx.endpoints.graph, accessToken, origin);
  },
};
