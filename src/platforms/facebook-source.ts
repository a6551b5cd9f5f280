import { z } from 'zod';
import { graphNodeExists, readGraphEdge } from './graph-source';
import { withLink } from './shared';
import type { SourceItem, SourceMedia, SourceReader } from './types';

/**
 * An office's Facebook Page as a source: `GET /{page-id}/published_posts` (what the Page itself
 * posted, not visitors), newest first. A post's photos, album (subattachments) or video become its
 * media; a shared link goes into the text; a share of another post is marked `repost`. The post's
 * `from` (the Page, with its name) is the origin's author: a Page has a name, and rarely a username.
 */

const credentials = z.object({ pageAccessToken: z.string().min(1) });
const settings = z.object({ pageId: z.string().regex(/^\d+$/, 'a numeric Facebook Page id') });

interface Attachment {
  media_type?: string;
  media?: { image?: { src?: string }; source?: string };
  url?: string;
  subattachments?: { data?: Attachment[] };
}

export interface PageSourceNode {
  id: string;
  message?: string;
  permalink_url?: string;
  created_time?: string;
  parent_id?: string;
  from?: { id: string; name?: string };
  attachments?: { data?: Attachment[] };
}

export const FACEBOOK_SOURCE_FIELDS =
  'id,message,permalink_url,created_time,parent_id,from{id,name},attachments{media_type,media,subattachments,url}';

function media(attachment: Attachment): SourceMedia[] {
  switch (attachment.media_type) {
    case 'album':
      return (attachment.subattachments?.data ?? []).flatMap(media);
    case 'photo':
      return attachment.media?.image?.src
        ? [{ url: attachment.media.image.src, kind: 'image', altText: '' }]
        : [];
    case 'video': {
      const still = attachment.media?.image?.src;
      if (attachment.media?.source)
        return [
          {
            url: attachment.media.source,
            kind: 'video',
            altText: '',
            ...(still ? { thumbnailUrl: still } : {}),
          },
        ];
      return [
        {
          url: still ?? attachment.url ?? '',
          kind: 'video',
          altText: '',
          skippedReason: 'Facebook gives no file for this video (a live video or one shared from elsewhere)',
        },
      ];
    }
    default:
      return [];
  }
}

export function facebookItem(node: PageSourceNode): SourceItem {
  const publishedAt = node.created_time
    ? new Date(node.created_time.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))
    : null;
  const attachments = node.attachments?.data ?? [];
  const link = attachments.find((a) => a.media_type === 'link')?.url ?? null;
  const url = node.permalink_url ?? `https://www.facebook.com/${node.id}`;
  return {
    key: node.id,
    url,
    publishedAt,
    text: withLink(node.message ?? '', link),
    media: attachments.flatMap(media),
    origin: {
      platform: 'facebook',
      nativeId: node.id,
      url,
      authorHandle: node.from?.name?.trim() || null,
      publishedAt: (publishedAt ?? new Date()).toISOString(),
    },
    kind: node.parent_id ? 'repost' : 'post',
  };
}

export const facebookSource: SourceReader = {
  readSource(ctx, request) {
    const { pageAccessToken } = credentials.parse(ctx.credentials);
    const { pageId } = settings.parse(ctx.channel.settings);
    return readGraphEdge<PageSourceNode>(
      ctx,
      {
        platform: 'Facebook',
        baseUrl: ctx.endpoints.graph,
        accessToken: pageAccessToken,
        path: `/${pageId}/published_posts`,
        fields: FACEBOOK_SOURCE_FIELDS,
        item: facebookItem,
      },
      request,
    );
  },
  originExists(ctx, origin) {
    const { pageAccessToken } = credentials.parse(ctx.credentials);
    return graphNodeExists(ctx, 'Facebook', ctx.endpoints.graph, pageAccessToken, origin);
  },
};
