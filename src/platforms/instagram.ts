import { z } from 'zod';
import {
  type ContainerOptions,
  type ContainerPoll,
  checkPublishingQuota,
  classifyGraphError,
  emptyMetrics,
  graphApi,
  type Insight,
  insightValues,
  invalid,
  listEdge,
  permalinkOr,
  reconcileSince,
  sameText,
  waitForContainer,
} from './graph';
import { instagramSource } from './instagram-source';
import { withLink } from './shared';
import type {
  AccountInfo,
  Capabilities,
  DeliveryMetrics,
  PlatformAdapter,
  PlatformContext,
  PublishMedia,
  PublishResult,
  RetractResult,
} from './types';

/**
 * Instagram (professional account) through the Graph API: a media container per post (image,
 * reel, or carousel of up to 10 children), polled until FINISHED, then media_publish. Instagram
 * fetches the media itself from Gaung's signed URLs. Before publishing, the 24-hour publishing
 * quota is read; when it is used up the delivery waits for the window instead of failing.
 * Reconciliation reads the account's recent media and matches the caption.
 */

const credentialsSchema = z.strictObject({ accessToken: z.string().min(1) });
const settingsSchema = z.strictObject({
  igUserId: z.string().regex(/^\d+$/, 'a numeric Instagram professional account id'),
});

const capabilities: Capabilities = {
  text: false,
  images: true,
  video: true,
  repost: false,
  quote: false,
  metrics: true,
  reconcile: 'search',
  mediaByUrl: true,
  retract: 'person',
  replies: false,
};

export const INSTAGRAM_CAROUSEL_MAX = 10;

interface RecentMedia {
  id: string;
  caption?: string;
  permalink?: string;
}

export function createInstagramAdapter(options: ContainerOptions = {}): PlatformAdapter {
  const setup = (ctx: PlatformContext) => {
    const { accessToken } = credentialsSchema.parse(ctx.credentials);
    const { igUserId } = settingsSchema.parse(ctx.channel.settings);
    const api = graphApi(ctx.endpoints.graph, accessToken, {
      timeoutMs: options.timeoutMs,
      signal: ctx.signal,
    });
    const poll: ContainerPoll = {
      field: 'status_code',
      reasonField: 'status',
      intervalMs: options.pollIntervalMs ?? 5_000,
      maxPolls: options.maxPolls ?? 60,
      signal: ctx.signal,
    };
    return { api, igUserId, poll };
  };

  const child = (medium: PublishMedia) =>
    medium.kind === 'image'
      ? { image_url: medium.publicUrl(), is_carousel_item: true }
      : { media_type: 'VIDEO', video_url: medium.publicUrl(), is_carousel_item: true };

  return {
    platform: 'instagram',
    capabilities,
    credentialsSchema,
    settingsSchema,

    async publish(ctx, request): Promise<PublishResult> {
      const { api, igUserId, poll } = setup(ctx);
      const media = request.media;
      if (media.length === 0) throw invalid('an Instagram post needs at least one image or video');
      if (media.length > INSTAGRAM_CAROUSEL_MAX)
        throw invalid(`an Instagram carousel holds at most ${INSTAGRAM_CAROUSEL_MAX} items`);
      await checkPublishingQuota(api, {
        limitPath: `/${igUserId}/content_publishing_limit`,
        recentPath: `/${igUserId}/media`,
        label: 'Instagram',
      });
      const caption = withLink(request.text, request.link);
      let containerId: string;
      if (media.length === 1) {
        const medium = media[0]!;
        const body =
          medium.kind === 'image'
            ? { image_url: medium.publicUrl(), caption }
            : { media_type: 'REELS', video_url: medium.publicUrl(), caption };
        containerId = (await api.post<{ id: string }>(`/${igUserId}/media`, body)).id;
      } else {
        const children: string[] = [];
        for (const medium of media)
          children.push((await api.post<{ id: string }>(`/${igUserId}/media`, child(medium))).id);
        for (const id of children) await waitForContainer(api, id, poll);
        containerId = (
          await api.post<{ id: string }>(`/${igUserId}/media`, {
            media_type: 'CAROUSEL',
            children: children.join(','),
            caption,
          })
        ).id;
      }
      await waitForContainer(api, containerId, poll);
      const published = await api.post<{ id: string }>(`/${igUserId}/media_publish`, {
        creation_id: containerId,
      });
      return {
        remoteId: published.id,
        url: await permalinkOr(api, published.id, 'https://www.instagram.com/', ctx.log),
      };
    },

    async findPublished(ctx, request) {
      const { api, igUserId } = setup(ctx);
      const recent = await listEdge<RecentMedia>(api, `/${igUserId}/media`, {
        fields: 'id,caption,permalink,timestamp',
        since: reconcileSince(request.firstAttemptAt),
      });
      const found = recent.find((m) => sameText(m.caption, withLink(request.text, request.link)));
      return found ? { remoteId: found.id, url: found.permalink ?? 'https://www.instagram.com/' } : null;
    },

    /** The Instagram Graph API has no delete for published media: a person removes it in the app. */
    async retract(_ctx, request): Promise<RetractResult> {
      const where = request.remoteUrl ?? 'the post on the account';
      return {
        outcome: 'needs_person',
        message: `Instagram does not let Gaung delete posts. Open ${where} in the Instagram app while signed in as the account, tap ⋯ (top right of the post), choose Delete and confirm; then mark it removed here.`,
      };
    },

    async fetchMetrics(ctx, remoteId): Promise<DeliveryMetrics> {
      const { api } = setup(ctx);
      const insights = await api.get<{ data: Insight[] }>(`/${remoteId}/insights`, {
        metric: 'views,reach,likes,comments,shares,saved',
      });
      const values = insightValues(insights.data);
      return {
        ...emptyMetrics(values),
        impressions: values.views ?? null,
        likes: values.likes ?? null,
        replies: values.comments ?? null,
        reposts: values.shares ?? null,
      };
    },

    async verifyCredentials(ctx): Promise<AccountInfo> {
      const { api, igUserId } = setup(ctx);
      const account = await api.get<{ id: string; username: string; name?: string }>(`/${igUserId}`, {
        fields: 'id,username,name',
      });
      return { remoteId: account.id, handle: `@${account.username}`, name: account.name };
    },

    classifyError: (error) => classifyGraphError(error),
    source: instagramSource,
  };
}

export const instagramAdapter = createInstagramAdapter();
