import { z } from 'zod';
import { facebookSource } from './facebook-source';
import {
  classifyGraphError,
  emptyMetrics,
  type GraphApi,
  graphApi,
  graphCall,
  invalid,
  listEdge,
  reconcileSince,
  sameText,
  wrongAccount,
} from './graph';
import { createHttpClient } from './http';
import { withLink } from './shared';
import type {
  AccountInfo,
  Capabilities,
  DeliveryMetrics,
  PlatformAdapter,
  PlatformApps,
  PlatformContext,
  PublishRequest,
  PublishResult,
  RetractResult,
} from './types';

/**
 * Facebook Page through the Graph API. Text and links go to /{page-id}/feed, one photo to
 * /{page-id}/photos, several photos are uploaded unpublished and attached to one /feed post, a video
 * goes to /{page-id}/videos. Meta fetches the media itself from Gaung's signed URLs. Reconciliation
 * reads the page's recent posts and matches the delivery's message.
 */

const credentialsSchema = z.strictObject({ pageAccessToken: z.string().min(1) });
const settingsSchema = z.strictObject({ pageId: z.string().regex(/^\d+$/, 'a numeric Facebook Page id') });

const capabilities: Capabilities = {
  text: true,
  images: true,
  video: true,
  repost: false,
  quote: false,
  metrics: true,
  reconcile: 'search',
  mediaByUrl: true,
  retract: 'api',
  replies: false,
};

function client(ctx: PlatformContext, timeoutMs?: number): { api: GraphApi; pageId: string } {
  const { pageAccessToken } = credentialsSchema.parse(ctx.credentials);
  const { pageId } = settingsSchema.parse(ctx.channel.settings);
  return { api: graphApi(ctx.endpoints.graph, pageAccessToken, { timeoutMs, signal: ctx.signal }), pageId };
}

/** The post's message: text posts carry the link as `link` (a preview card); with media it goes into the text. */
const message = (request: PublishRequest) =>
  request.media.length > 0 ? withLink(request.text, request.link) : request.text;

const postUrl = (postId: string) => `https://www.facebook.com/${postId}`;

interface PagePost {
  id: string;
  message?: string;
  created_time?: string;
  permalink_url?: string;
}

export function createFacebookAdapter(options: { timeoutMs?: number } = {}): PlatformAdapter {
  return {
    platform: 'facebook',
    capabilities,
    credentialsSchema,
    settingsSchema,

    async publish(ctx, request): Promise<PublishResult> {
      const { api, pageId } = client(ctx, options.timeoutMs);
      const images = request.media.filter((m) => m.kind === 'image');
      const videos = request.media.filter((m) => m.kind === 'video');
      const text = message(request);
      if (videos.length > 0) {
        if (videos.length > 1 || images.length > 0)
          throw invalid('a Facebook Page post carries either photos or one video');
        const video = await api.post<{ id: string }>(`/${pageId}/videos`, {
          file_url: videos[0]!.publicUrl(),
          description: text,
        });
        return { remoteId: video.id, url: `https://www.facebook.com/${pageId}/videos/${video.id}` };
      }
      if (images.length === 1) {
        const image = images[0]!;
        const photo = await api.post<{ id: string; post_id: string }>(`/${pageId}/photos`, {
          url: image.publicUrl(),
          caption: text,
          ...(image.altText ? { alt_text_custom: image.altText } : {}),
        });
        return { remoteId: photo.post_id, url: postUrl(photo.post_id) };
      }
      const attached: { media_fbid: string }[] = [];
      for (const image of images) {
        const photo = await api.post<{ id: string }>(`/${pageId}/photos`, {
          url: image.publicUrl(),
          published: false,
          ...(image.altText ? { alt_text_custom: image.altText } : {}),
        });
        attached.push({ media_fbid: photo.id });
      }
      const post = await api.post<{ id: string }>(`/${pageId}/feed`, {
        message: text,
        ...(attached.length > 0 ? { attached_media: attached } : {}),
        ...(attached.length === 0 && request.link ? { link: request.link } : {}),
      });
      return { remoteId: post.id, url: postUrl(post.id) };
    },

    async findPublished(ctx, request) {
      const { api, pageId } = client(ctx, options.timeoutMs);
      const posts = await listEdge<PagePost>(api, `/${pageId}/posts`, {
        since: reconcileSince(request.firstAttemptAt),
        fields: 'id,message,created_time,permalink_url',
      });
      const expected = message(request);
      const found = posts.find((post) => sameText(post.message, expected));
      return found ? { remoteId: found.id, url: found.permalink_url ?? postUrl(found.id) } : null;
    },

    /** DELETE /{post-id} (a video is its own node); a post already gone counts as done. */
    async retract(ctx, request): Promise<RetractResult> {
      if (!request.remoteId)
        return {
          outcome: 'needs_person',
          message: `Gaung does not know the post id (it was confirmed by hand); delete ${request.remoteUrl ?? 'the post'} on the Page, then confirm here`,
        };
      await client(ctx, options.timeoutMs).api.delete(`/${request.remoteId}`);
      return { outcome: 'retracted' };
    },

    async fetchMetrics(ctx, remoteId): Promise<DeliveryMetrics> {
      const { api } = client(ctx, options.timeoutMs);
      // Page posts are `{page}_{post}`; videos are their own node, which has no share count.
      const isPost = remoteId.includes('_');
      const fields = [
        'reactions.summary(total_count).limit(0)',
        'comments.summary(total_count).limit(0)',
        ...(isPost ? ['shares'] : []),
      ];
      const node = await api.get<{
        reactions?: { summary?: { total_count?: number } };
        comments?: { summary?: { total_count?: number } };
        shares?: { count?: number };
      }>(`/${remoteId}`, { fields: fields.join(',') });
      return {
        ...emptyMetrics(node as Record<string, unknown>),
        likes: node.reactions?.summary?.total_count ?? null,
        replies: node.comments?.summary?.total_count ?? null,
        // The Graph API omits `shares` on a post nobody shared.
        reposts: isPost ? (node.shares?.count ?? 0) : null,
      };
    },

    async verifyCredentials(ctx): Promise<AccountInfo> {
      const { api, pageId } = client(ctx, options.timeoutMs);
      const me = await api.get<{ id: string; name: string }>('/me', { fields: 'id,name' });
      if (me.id !== pageId)
        throw wrongAccount(`the token belongs to ${me.name} (${me.id}), not to page ${pageId}`);
      return { remoteId: me.id, handle: me.name, name: me.name };
    },

    classifyError: (error) => classifyGraphError(error),
    source: facebookSource,
  };
}

export const facebookAdapter = createFacebookAdapter();

export interface ConnectedPage {
  pageId: string;
  name: string;
  /** Long-lived page token: derived from a long-lived user token, it does not expire. */
  pageAccessToken: string;
  /** The Instagram professional account linked to the page, for an Instagram channel. */
  instagram: { igUserId: string; username: string } | null;
}

/**
 * The Meta connect flow: exchanges the short-lived user token from Facebook Login for a long-lived
 * one (fb_exchange_token with the operator's app), then lists the pages the user manages with their
 * page tokens. Failures are PlatformErrors, classified like every Graph call.
 */
export async function connectMetaPages(
  graphUrl: string,
  app: PlatformApps['meta'],
  shortLivedUserToken: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<ConnectedPage[]> {
  if (!app) throw invalid('no Meta app is configured (GAUNG_META_APP_ID, GAUNG_META_APP_SECRET)');
  const http = createHttpClient(graphUrl, options);
  const exchange = await graphCall(() =>
    http.get<{ access_token: string }>('/oauth/access_token', {
      params: {
        grant_type: 'fb_exchange_token',
        client_id: app.appId,
        client_secret: app.appSecret,
        fb_exchange_token: shortLivedUserToken,
      },
    }),
  );
  const user = graphApi(graphUrl, exchange.access_token, options);
  const accounts = await user.get<{
    data: {
      id: string;
      name: string;
      access_token: string;
      instagram_business_account?: { id: string; username?: string };
    }[];
  }>('/me/accounts', { fields: 'id,name,access_token,instagram_business_account{id,username}', limit: 100 });
  return accounts.data.map((page) => ({
    pageId: page.id,
    name: page.name,
    pageAccessToken: page.access_token,
    instagram: page.instagram_business_account
      ? {
          igUserId: page.instagram_business_account.id,
          username: page.instagram_business_account.username ?? '',
        }
      : null,
  }));
}
