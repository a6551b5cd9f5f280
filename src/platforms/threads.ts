import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  type ContainerOptions,
  type ContainerPoll,
  checkPublishingQuota,
  classifyGraphError,
  emptyMetrics,
  graphApi,
  graphCall,
  type Insight,
  insightValues,
  invalid,
  listEdge,
  permalinkOr,
  reconcileSince,
  sameText,
  waitForContainer,
  wrongAccount,
} from './graph';
import { createHttpClient } from './http';
import { withLink } from './shared';
import { threadsSource } from './threads-source';
import type {
  AccountInfo,
  Capabilities,
  DeliveryMetrics,
  PlatformAdapter,
  PlatformApps,
  PlatformContext,
  PlatformEndpoints,
  PublishMedia,
  PublishRequest,
  PublishResult,
  RetractResult,
} from './types';

/**
 * Threads through its Graph API: a container (TEXT, IMAGE, VIDEO or CAROUSEL of 2-20 children),
 * polled until FINISHED, then threads_publish. Threads fetches media from Gaung's signed URLs.
 * The 24-hour publishing quota is read before publishing. An account is connected through Threads'
 * authorization window; its long-lived token lasts 60 days and is refreshed (th_refresh_token) before
 * it expires.
 * Reconciliation reads the account's recent threads and matches the text.
 *
 * Repost is POST /{threads-media-id}/repost of the office's thread, by the media id its source read
 * (the origin); a quote is a thread of our own whose container names that media id as
 * `quote_post_id`. A pasted permalink carries only a shortcode, which the Threads API cannot resolve
 * for another account, so a post without a Threads origin is neither reposted nor quoted.
 */

/**
 * What Gaung asks for: reading the account and its insights, publishing (replies included, for
 * corrections) and deleting.
 */
export const THREADS_SCOPES = [
  'threads_basic',
  'threads_content_publish',
  'threads_manage_replies',
  'threads_manage_insights',
  'threads_delete',
] as const;

const credentialsSchema = z.strictObject({
  accessToken: z.string().min(1),
  /** When the long-lived token expires (ISO 8601); refreshed before then. */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});
const settingsSchema = z.strictObject({ userId: z.string().regex(/^\d+$/, 'a numeric Threads user id') });

const capabilities: Capabilities = {
  text: true,
  images: true,
  video: true,
  repost: true,
  quote: true,
  metrics: true,
  reconcile: 'search',
  mediaByUrl: true,
  retract: 'api',
  replies: true,
};

export const THREADS_CAROUSEL_MAX = 20;

/** Text posts carry the link as a preview card (link_attachment); with media it goes into the text. */
const threadText = (request: PublishRequest) =>
  request.media.length > 0 ? withLink(request.text, request.link) : request.text;

function container(medium: PublishMedia, carouselItem: boolean): Record<string, unknown> {
  return {
    ...(medium.kind === 'image'
      ? { media_type: 'IMAGE', image_url: medium.publicUrl() }
      : { media_type: 'VIDEO', video_url: medium.publicUrl() }),
    ...(medium.altText ? { alt_text: medium.altText } : {}),
    ...(carouselItem ? { is_carousel_item: true } : {}),
  };
}

/** The media id of the office's thread a repost or quote acts on: only a Threads source knows it. */
function originMediaId(request: PublishRequest): string {
  const origin = request.origin;
  if (origin?.platform !== 'threads' || !/^\d+$/.test(origin.nativeId))
    throw invalid(
      `a Threads ${request.mode === 'quote' ? 'quote' : 'repost'} needs the original as a Threads source read it (its media id)`,
    );
  return origin.nativeId;
}

/** The token endpoints live at the root of graph.threads.net, outside the versioned API. */
const tokenHost = (endpoints: PlatformEndpoints) => endpoints.threads.replace(/\/v\d+(?:\.\d+)?\/?$/, '');

function threadsApp(apps: PlatformApps): NonNullable<PlatformApps['threads']> {
  if (!apps.threads)
    throw invalid('no Threads app is configured (GAUNG_THREADS_APP_ID, GAUNG_THREADS_APP_SECRET)');
  return apps.threads;
}

/** Step 1 of connecting a Threads account: the authorization window (Threads takes no PKCE). */
export function buildThreadsAuthorizeUrl(
  endpoints: PlatformEndpoints,
  apps: PlatformApps,
  redirectUri: string,
): { url: string; state: string; codeVerifier: string } {
  const state = randomBytes(24).toString('base64url');
  const url = new URL(endpoints.threadsAuth);
  url.search = new URLSearchParams({
    client_id: threadsApp(apps).appId,
    redirect_uri: redirectUri,
    scope: THREADS_SCOPES.join(','),
    response_type: 'code',
    state,
  }).toString();
  return { url: url.toString(), state, codeVerifier: '' };
}

/**
 * Step 2: the code traded for a short-lived token (an hour), that one for a long-lived token (60
 * days, refreshed before it expires), and the account it belongs to.
 */
export async function exchangeThreadsCode(
  endpoints: PlatformEndpoints,
  apps: PlatformApps,
  callback: { code: string; redirectUri: string },
): Promise<{
  credentials: { accessToken: string; expiresAt: string };
  settings: { userId: string };
  account: AccountInfo;
}> {
  const app = threadsApp(apps);
  const http = createHttpClient(tokenHost(endpoints));
  const short = await graphCall(() =>
    // Its user_id is a JSON number too long for a double: the account is read from /me instead.
    http.post<{ access_token: string }>(
      '/oauth/access_token',
      new URLSearchParams({
        client_id: app.appId,
        client_secret: app.appSecret,
        grant_type: 'authorization_code',
        redirect_uri: callback.redirectUri,
        code: callback.code,
      }),
    ),
  );
  const long = await graphCall(() =>
    http.get<{ access_token: string; expires_in: number }>('/access_token', {
      params: {
        grant_type: 'th_exchange_token',
        client_secret: app.appSecret,
        access_token: short.access_token,
      },
    }),
  );
  const me = await graphApi(endpoints.threads, long.access_token).get<{
    id: string;
    username: string;
    name?: string;
  }>('/me', { fields: 'id,username,name' });
  return {
    credentials: {
      accessToken: long.access_token,
      expiresAt: new Date(Date.now() + long.expires_in * 1000).toISOString(),
    },
    settings: { userId: me.id },
    account: { remoteId: me.id, handle: `@${me.username}`, name: me.name },
  };
}

export function createThreadsAdapter(options: ContainerOptions = {}): PlatformAdapter {
  const setup = (ctx: PlatformContext) => {
    const { accessToken } = credentialsSchema.parse(ctx.credentials);
    const { userId } = settingsSchema.parse(ctx.channel.settings);
    const api = graphApi(ctx.endpoints.threads, accessToken, {
      timeoutMs: options.timeoutMs,
      signal: ctx.signal,
    });
    const poll: ContainerPoll = {
      field: 'status',
      reasonField: 'error_message',
      intervalMs: options.pollIntervalMs ?? 5_000,
      maxPolls: options.maxPolls ?? 60,
      signal: ctx.signal,
    };
    return { api, userId, poll };
  };

  /**
   * A thread of the channel's own: a container (TEXT, IMAGE, VIDEO, or CAROUSEL of prepared
   * children), polled until FINISHED, then threads_publish. `extra` goes on the top container (a
   * quote's `quote_post_id`).
   */
  async function publishThread(
    ctx: PlatformContext,
    request: PublishRequest,
    extra: Record<string, string>,
  ): Promise<PublishResult> {
    const { api, userId, poll } = setup(ctx);
    const media = request.media;
    const text = threadText(request);
    if (media.length > THREADS_CAROUSEL_MAX)
      throw invalid(`a Threads carousel holds at most ${THREADS_CAROUSEL_MAX} items`);
    await checkPublishingQuota(api, {
      limitPath: `/${userId}/threads_publishing_limit`,
      recentPath: `/${userId}/threads`,
      label: 'Threads',
    });
    let body: Record<string, unknown>;
    const reply = request.replyTo ? { reply_to_id: request.replyTo.remoteId } : {};
    if (media.length === 0)
      body = {
        media_type: 'TEXT',
        text,
        ...(request.link ? { link_attachment: request.link } : {}),
        ...reply,
      };
    else if (media.length === 1) body = { ...container(media[0]!, false), text, ...reply };
    else {
      const children: string[] = [];
      for (const medium of media)
        children.push((await api.post<{ id: string }>(`/${userId}/threads`, container(medium, true))).id);
      for (const id of children) await waitForContainer(api, id, poll);
      body = { media_type: 'CAROUSEL', children: children.join(','), text, ...reply };
    }
    const containerId = (await api.post<{ id: string }>(`/${userId}/threads`, { ...body, ...extra })).id;
    await waitForContainer(api, containerId, poll);
    const published = await api.post<{ id: string }>(`/${userId}/threads_publish`, {
      creation_id: containerId,
    });
    return {
      remoteId: published.id,
      url: await permalinkOr(api, published.id, 'https://www.threads.net/', ctx.log),
    };
  }

  return {
    platform: 'threads',
    capabilities,
    credentialsSchema,
    settingsSchema,

    publish: (ctx, request) => publishThread(ctx, request, {}),

    /** Our text and media as a thread of the channel's own, quoting the office's thread. */
    async quote(ctx, request) {
      return publishThread(ctx, request, { quote_post_id: originMediaId(request) });
    },

    async repost(ctx, request): Promise<PublishResult> {
      const { api } = setup(ctx);
      const reposted = await api.post<{ id: string }>(`/${originMediaId(request)}/repost`, {});
      return { remoteId: reposted.id, url: request.origin?.url ?? 'https://www.threads.net/' };
    },

    async findPublished(ctx, request) {
      const { api, userId } = setup(ctx);
      if (request.mode === 'repost') {
        const mediaId = originMediaId(request);
        const recent = await listEdge<{ id: string; media_type?: string; reposted_post?: { id: string } }>(
          api,
          `/${userId}/threads`,
          { fields: 'id,media_type,reposted_post,timestamp', since: reconcileSince(request.firstAttemptAt) },
        );
        const found = recent.find(
          (thread) => thread.media_type === 'REPOST_FACADE' && thread.reposted_post?.id === mediaId,
        );
        return found ? { remoteId: found.id, url: request.origin?.url ?? 'https://www.threads.net/' } : null;
      }
      // A quote is ours with the same text that quotes the same thread.
      const quoted = request.mode === 'quote' ? originMediaId(request) : null;
      const recent = await listEdge<{
        id: string;
        text?: string;
        permalink?: string;
        quoted_post?: { id: string };
      }>(api, `/${userId}/threads`, {
        fields: `id,text,permalink,timestamp${quoted ? ',quoted_post' : ''}`,
        since: reconcileSince(request.firstAttemptAt),
      });
      const expected = threadText(request);
      const found = recent.find(
        (thread) => sameText(thread.text, expected) && (!quoted || thread.quoted_post?.id === quoted),
      );
      return found ? { remoteId: found.id, url: found.permalink ?? 'https://www.threads.net/' } : null;
    },

    /**
     * DELETE /{threads-media-id}: needs the threads_delete permission (channels connected before it
     * was asked for must reconnect, which the refusal says) and allows 100 deletes a day per account.
     */
    async retract(ctx, request): Promise<RetractResult> {
      if (!request.remoteId)
        return {
          outcome: 'needs_person',
          message: `Gaung does not know the thread id (it was confirmed by hand); delete ${request.remoteUrl ?? 'the thread'} in Threads, then confirm here`,
        };
      await setup(ctx).api.delete(`/${request.remoteId}`);
      return { outcome: 'retracted' };
    },

    async fetchMetrics(ctx, remoteId): Promise<DeliveryMetrics> {
      const { api } = setup(ctx);
      const insights = await api.get<{ data: Insight[] }>(`/${remoteId}/insights`, {
        metric: 'views,likes,replies,reposts,quotes,shares',
      });
      const values = insightValues(insights.data);
      return {
        ...emptyMetrics(values),
        impressions: values.views ?? null,
        likes: values.likes ?? null,
        replies: values.replies ?? null,
        reposts: values.reposts ?? null,
        quotes: values.quotes ?? null,
      };
    },

    async verifyCredentials(ctx): Promise<AccountInfo> {
      const { api, userId } = setup(ctx);
      const me = await api.get<{ id: string; username: string; name?: string }>('/me', {
        fields: 'id,username,name',
      });
      if (me.id !== userId)
        throw wrongAccount(`the token belongs to @${me.username} (${me.id}), not to user ${userId}`);
      return { remoteId: me.id, handle: `@${me.username}`, name: me.name };
    },

    /**
     * Exchanges the long-lived token for a fresh one (valid another 60 days). When another process
     * rotated it first, its result is kept and its expiry reported.
     */
    async refreshCredentials(ctx) {
      const { accessToken } = credentialsSchema.parse(ctx.credentials);
      const http = createHttpClient(tokenHost(ctx.endpoints), {
        timeoutMs: options.timeoutMs,
        signal: ctx.signal,
      });
      const data = await graphCall(() =>
        http.get<{ access_token: string; expires_in: number }>('/refresh_access_token', {
          params: { grant_type: 'th_refresh_token', access_token: accessToken },
        }),
      );
      const expiresAt = new Date(Date.now() + data.expires_in * 1000);
      if (
        await ctx.saveCredentials(
          { accessToken: data.access_token, expiresAt: expiresAt.toISOString() },
          expiresAt,
        )
      )
        return { expiresAt };
      const current = credentialsSchema.parse(await ctx.reloadCredentials());
      return { expiresAt: current.expiresAt ? new Date(current.expiresAt) : null };
    },

    // An expired long-lived token cannot be renewed: a week ahead leaves room for outages and backoff.
    refreshAheadMs: 7 * 86_400_000,
    classifyError: (error) => classifyGraphError(error),
    source: threadsSource,
  };
}

export const threadsAdapter = createThreadsAdapter();
