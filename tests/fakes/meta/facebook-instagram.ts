import { randomBytes } from 'node:crypto';
import formbody from '@fastify/formbody';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createFakeServer, type FakeServer } from '../harness';
import {
  bool,
  type CdnFile,
  type ContainerState,
  checkFields,
  containerStatus,
  createCdn,
  DAY_SECONDS,
  type EndpointSpec,
  type Engagement,
  fail,
  fetchMedia,
  graphTimestamp,
  isImage,
  isVideo,
  list,
  nestedFields,
  newId,
  paramsOf,
  pick,
  type SourceMediumSeed,
  sendGraph,
  shortcode,
  type Token,
  timePage,
  tokenOf,
  unknownObject,
  validate,
} from './graph';

/**
 * The fake Graph API as Facebook Pages and Instagram use it: checks the access token, accepts only
 * the parameters and fields Meta documents for each endpoint, downloads media from the URLs it is
 * given, runs Instagram containers through IN_PROGRESS → FINISHED, counts the 24-hour publishing
 * quota, and keeps timelines that tests read. Faults come from the harness.
 *
 * Documented parameters: developers.facebook.com/docs/graph-api/reference/page/feed, …/page/photos,
 * …/page/videos, …/instagram-platform/instagram-graph-api/reference/ig-user/media,
 * …/ig-user/media_publish, …/ig-user/content_publishing_limit.
 */

export interface PagePost {
  id: string;
  pageId: string;
  message: string;
  link: string | null;
  photoIds: string[];
  videoId: string | null;
  createdAt: number;
  permalink: string;
  /** Its photos or video, for posts the office made on Facebook and a source reads. */
  files?: CdnFile[];
  /** The post it shares (a share of another page's post). */
  parentId?: string;
}

export interface IgMedia {
  id: string;
  igUserId: string;
  caption: string;
  mediaType: 'IMAGE' | 'VIDEO' | 'CAROUSEL_ALBUM';
  permalink: string;
  createdAt: number;
  /** Published through the API (counts against the publishing quota). */
  viaApi: boolean;
  /** Where Instagram shows it; the media edge never lists stories. */
  productType?: 'FEED' | 'REELS' | 'STORY';
  /** Its files (one, or a carousel's children), for media read as a source. */
  files?: CdnFile[];
}

export interface GraphFakeOptions {
  /** Status checks a container answers IN_PROGRESS before FINISHED. */
  pollsUntilFinished?: number;
  /** Instagram's API-published posts per 24 h. */
  quotaTotal?: number;
}

export interface GraphFake {
  server: FakeServer;
  url: string;
  app: { appId: string; appSecret: string };
  createPage(name: string): { pageId: string; pageToken: string };
  linkInstagram(pageId: string, username: string): { igUserId: string };
  /** A Facebook user who manages pages, with the short-lived token Facebook Login hands out. */
  createUser(name: string, pageIds: string[]): { shortLivedToken: string };
  expireToken(token: string): void;
  pagePosts(pageId: string): PagePost[];
  /** Photos uploaded to a page, published or not. */
  photos(pageId: string): { id: string; published: boolean; caption: string }[];
  igMedia(igUserId: string): IgMedia[];
  /** Ids of the nodes DELETE removed (page posts and videos), one entry per removal. */
  deleted: string[];
  /** Adds a post published earlier (outside the test), e.g. to fill the publishing quota. */
  seedIgMedia(igUserId: string, media: { caption: string; createdAt: number; viaApi?: boolean }): IgMedia;
  /** The office posts in the Instagram app: an image, a video or reel, a carousel (several media) or a story. */
  postIgMedia(
    igUserId: string,
    post: {
      caption: string;
      media: SourceMediumSeed[];
      productType?: 'FEED' | 'REELS' | 'STORY';
      createdAt?: number;
    },
  ): IgMedia;
  /** The office posts on its Page on Facebook: text, a link, one photo, an album or a video; or shares another post. */
  postOnPage(
    pageId: string,
    post: {
      message: string;
      media?: SourceMediumSeed[];
      link?: string;
      sharing?: string;
      createdAt?: number;
    },
  ): PagePost;
  /** The office deletes a post in the app (or a page post on Facebook). */
  deleteObject(id: string): void;
  /** A media file's CDN URL stops answering (404), as an expired signed URL does. */
  dropFile(url: string): void;
  setEngagement(id: string, engagement: Engagement): void;
  start(): Promise<string>;
  stop(): Promise<void>;
}

const GRAPH_SPECS: Record<string, EndpointSpec> = {
  'GET node': { params: { fields: 'string' } },
  'DELETE node': { params: {} },
  'GET /oauth/access_token': {
    params: {
      grant_type: 'string',
      client_id: 'string',
      client_secret: 'string',
      fb_exchange_token: 'string',
    },
    required: ['grant_type', 'client_id', 'client_secret', 'fb_exchange_token'],
  },
  'GET accounts': { params: { fields: 'string', limit: 'integer', after: 'string', before: 'string' } },
  'GET posts': {
    params: {
      fields: 'string',
      since: 'time',
      until: 'time',
      limit: 'integer',
      after: 'string',
      before: 'string',
    },
  },
  'POST feed': {
    params: {
      message: 'string',
      link: 'string',
      attached_media: 'json',
      published: 'boolean',
      scheduled_publish_time: 'time',
      place: 'string',
      tags: 'list',
    },
  },
  'POST photos': {
    params: {
      url: 'string',
      caption: 'string',
      published: 'boolean',
      temporary: 'boolean',
      no_story: 'boolean',
      alt_text_custom: 'string',
      scheduled_publish_time: 'time',
      place: 'string',
    },
    required: ['url'],
  },
  'POST videos': {
    params: {
      file_url: 'string',
      description: 'string',
      title: 'string',
      published: 'boolean',
      scheduled_publish_time: 'time',
    },
    required: ['file_url'],
  },
  'GET published_posts': {
    params: {
      fields: 'string',
      since: 'time',
      until: 'time',
      limit: 'integer',
      after: 'string',
      before: 'string',
    },
  },
  'GET media': {
    params: {
      fields: 'string',
      since: 'time',
      until: 'time',
      limit: 'integer',
      after: 'string',
      before: 'string',
    },
  },
  'POST media': {
    params: {
      image_url: 'string',
      video_url: 'string',
      media_type: 'string',
      caption: 'string',
      is_carousel_item: 'boolean',
      children: 'list',
      location_id: 'string',
      user_tags: 'json',
      share_to_feed: 'boolean',
      cover_url: 'string',
      thumb_offset: 'integer',
      audio_name: 'string',
      collaborators: 'list',
    },
  },
  'POST media_publish': { params: { creation_id: 'string' }, required: ['creation_id'] },
  'GET content_publishing_limit': { params: { fields: 'string', since: 'time' } },
  'GET insights': { params: { metric: 'list', period: 'string', breakdown: 'string' }, required: ['metric'] },
};

const IG_METRICS = [
  'views',
  'reach',
  'likes',
  'comments',
  'shares',
  'saved',
  'total_interactions',
  'follows',
  'profile_visits',
];
export function createGraphFake(options: GraphFakeOptions = {}): GraphFake {
  const server = createFakeServer();
  server.app.register(formbody);
  const pollsUntilFinished = options.pollsUntilFinished ?? 2;
  const quotaTotal = options.quotaTotal ?? 100;
  const app = { appId: '880011223344', appSecret: randomBytes(16).toString('hex') };
  const tokens = new Map<string, Token>();
  const users = new Map<string, { id: string; name: string; pageIds: string[] }>();
  const pages = new Map<string, { id: string; name: string; token: string; igUserId: string | null }>();
  const igUsers = new Map<string, { id: string; username: string; pageId: string }>();
  const posts: PagePost[] = [];
  const photos: { id: string; pageId: string; published: boolean; caption: string; createdAt: number }[] = [];
  const videos: { id: string; pageId: string; description: string; createdAt: number; postId: string }[] = [];
  const containers = new Map<string, ContainerState>();
  const media: IgMedia[] = [];
  const cdn = createCdn(server);
  const engagement = new Map<string, Engagement>();
  const pageId = newId('10472938');
  const postSeq = newId('');
  const objectId = newId('1784');

  const issueToken = (subject: string, kind: Token['kind']) => {
    const value = `EAA${kind === 'page' ? 'P' : 'U'}${randomBytes(24).toString('base64url')}`;
    tokens.set(value, { value, subject, kind, expired: false });
    return value;
  };

  /** The page a token acts for (page tokens), for ownership checks. */
  const actingPage = (token: Token) => (token.kind === 'page' ? token.subject : null);

  const ownedIgUser = (token: Token, id: string) => {
    const user = igUsers.get(id);
    if (!user || actingPage(token) !== user.pageId) throw unknownObject(id, 'get');
    return user;
  };
  const ownedPage = (token: Token, id: string, method: string) => {
    const page = pages.get(id);
    if (!page || actingPage(token) !== id) throw unknownObject(id, method);
    return page;
  };

  function reactionSummaries(id: string, fields: string[], withShares: boolean) {
    const e = engagement.get(id) ?? {};
    const out: Record<string, unknown> = {};
    if (fields.includes('reactions'))
      out.reactions = { data: [], summary: { total_count: e.reactions ?? 0, viewer_reaction: 'NONE' } };
    if (fields.includes('comments'))
      out.comments = {
        data: [],
        summary: { order: 'ranked', total_count: e.comments ?? 0, can_comment: true },
      };
    if (withShares && fields.includes('shares') && (e.shares ?? 0) > 0) out.shares = { count: e.shares };
    return out;
  }

  /** An IG Media node as Graph renders it; carousel children with the fields `children{…}` asks for. */
  const igNode = (m: IgMedia, fieldsParam: unknown) => {
    const files = m.files ?? [];
    const carousel = m.mediaType === 'CAROUSEL_ALBUM';
    const childFields = nestedFields(fieldsParam, 'children');
    return {
      id: m.id,
      caption: m.caption,
      permalink: m.permalink,
      timestamp: graphTimestamp(m.createdAt),
      media_type: m.mediaType,
      media_product_type: m.productType ?? 'FEED',
      username: igUsers.get(m.igUserId)?.username,
      media_url: cdn.url(files[0]?.name),
      thumbnail_url: carousel ? undefined : cdn.url(files[0]?.thumbnail),
      children:
        carousel && files.length > 0
          ? {
              data: files.map((file, index) =>
                pick(
                  {
                    id: `${m.id}${String(index + 1).padStart(2, '0')}`,
                    media_type: file.kind === 'image' ? 'IMAGE' : 'VIDEO',
                    media_url: cdn.url(file.name),
                    thumbnail_url: cdn.url(file.thumbnail),
                  },
                  childFields,
                ),
              ),
            }
          : undefined,
    };
  };

  /**
   * A page post's `attachments` edge as Graph renders it: a photo, an album whose photos are
   * `subattachments`, a video (`media.source` is the file, `media.image` its still) or a link.
   */
  const pageAttachments = (post: PagePost, fields: string[]) => {
    const photo = (file: CdnFile) => ({
      media_type: 'photo',
      type: 'photo',
      media: { image: { height: 48, width: 64, src: cdn.url(file.name) } },
      target: { id: file.name.split('.')[0], url: `https://www.facebook.com/photo.php?fbid=${file.name}` },
      url: `https://www.facebook.com/photo.php?fbid=${file.name}`,
    });
    const files = post.files ?? [];
    let attachment: Record<string, unknown> | null = null;
    if (files.length === 1 && files[0]!.kind === 'video')
      attachment = {
        media_type: 'video',
        type: 'video_inline',
        media: {
          image: { height: 120, width: 160, src: cdn.url(files[0]!.thumbnail) },
          source: cdn.url(files[0]!.name),
        },
        url: `${post.permalink}?video=1`,
      };
    else if (files.length === 1) attachment = photo(files[0]!);
    else if (files.length > 1)
      attachment = {
        media_type: 'album',
        type: 'album',
        media: photo(files[0]!).media,
        url: `https://www.facebook.com/media/set/?set=a.${post.id}`,
        subattachments: { data: files.map(photo) },
      };
    else if (post.link) attachment = { media_type: 'link', type: 'share', url: post.link };
    return attachment ? { data: [pick(attachment, fields)] } : undefined;
  };

  /** A page post's `from`: the page, `{ name, id }` unless `from{…}` asks for less. */
  const author = (post: PagePost, fieldsParam: unknown) => {
    const page = pages.get(post.pageId);
    if (!page) return undefined;
    const asked = String(fieldsParam ?? '').includes('from{')
      ? nestedFields(fieldsParam, 'from')
      : ['name', 'id'];
    return pick({ name: page.name, id: page.id }, asked);
  };

  function igPublishedInWindow(igUserId: string) {
    const since = Date.now() - DAY_SECONDS * 1000;
    return media.filter((m) => m.igUserId === igUserId && m.viaApi && m.createdAt > since).length;
  }

  const handle =
    (work: (request: FastifyRequest, params: Record<string, unknown>) => Promise<unknown>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        return await work(request, paramsOf(request));
      } catch (error) {
        return sendGraph(reply, error);
      }
    };

  server.app.get(
    '/oauth/access_token',
    handle(async (_request, params) => {
      validate(params, GRAPH_SPECS['GET /oauth/access_token']!);
      if (params.grant_type !== 'fb_exchange_token') throw fail(100, '(#100) Unsupported grant_type');
      if (params.client_id !== app.appId || params.client_secret !== app.appSecret)
        throw fail(1, 'Error validating client secret.', {}, 400);
      const short = tokens.get(String(params.fb_exchange_token));
      if (short?.kind !== 'user' || short.expired)
        throw fail(190, 'Invalid OAuth access token - Cannot parse access token');
      return {
        access_token: issueToken(short.subject, 'long-lived-user'),
        token_type: 'bearer',
        expires_in: 5_183_944,
      };
    }),
  );

  server.app.get<{ Params: { id: string } }>(
    '/:id',
    handle(async (request, params) => {
      validate(params, GRAPH_SPECS['GET node']!);
      const token = tokenOf(request, params, tokens);
      const id =
        (request.params as { id: string }).id === 'me'
          ? token.subject
          : (request.params as { id: string }).id;
      const user = users.get(id);
      if (user && token.subject === id) return pick(user, checkFields(params.fields, 'User'));
      const page = pages.get(id);
      if (page && actingPage(token) === id)
        return pick({ id: page.id, name: page.name }, checkFields(params.fields, 'Page'));
      const igUser = igUsers.get(id);
      if (igUser) {
        ownedIgUser(token, id);
        return pick(
          { id: igUser.id, username: igUser.username, name: igUser.username },
          checkFields(params.fields, 'IGUser'),
        );
      }
      const post = posts.find((p) => p.id === id);
      if (post && actingPage(token) === post.pageId) {
        const fields = checkFields(params.fields, 'PagePost');
        return {
          ...pick(
            {
              id: post.id,
              message: post.message,
              created_time: graphTimestamp(post.createdAt),
              permalink_url: post.permalink,
              from: author(post, params.fields),
            },
            fields,
          ),
          ...reactionSummaries(post.id, fields, true),
        };
      }
      const video = videos.find((v) => v.id === id);
      if (video && actingPage(token) === video.pageId) {
        const fields = checkFields(params.fields, 'Video');
        return {
          ...pick(
            { id: video.id, description: video.description, created_time: graphTimestamp(video.createdAt) },
            fields,
          ),
          ...reactionSummaries(video.id, fields, false),
        };
      }
      const container = containers.get(id);
      if (container && igUsers.get(container.owner)?.pageId === actingPage(token)) {
        const fields = checkFields(params.fields, 'IGContainer');
        container.polls += 1;
        const status = containerStatus(container, pollsUntilFinished);
        return pick(
          {
            id,
            status_code: container.published ? 'PUBLISHED' : status,
            status: container.failed
              ? `Error: ${container.failed}`
              : status === 'FINISHED'
                ? 'Finished: Media has been uploaded and it is ready to be published.'
                : 'In Progress: Media is still being processed.',
          },
          fields,
        );
      }
      const item = media.find((m) => m.id === id);
      if (item && igUsers.get(item.igUserId)?.pageId === actingPage(token))
        return pick(igNode(item, params.fields), checkFields(params.fields, 'IGMedia'));
      throw unknownObject(id, 'get');
    }),
  );

  const deleted: string[] = [];

  /**
   * DELETE /{post-id} (or a video's own id) with the page's token: `{ success: true }`. A node that is
   * gone, another page's, or one Graph cannot delete (Instagram media) is error 100/33.
   */
  server.app.delete<{ Params: { id: string } }>(
    '/:id',
    handle(async (request, params) => {
      validate(params, GRAPH_SPECS['DELETE node']!);
      const token = tokenOf(request, params, tokens);
      const { id } = request.params as { id: string };
      const page = actingPage(token);
      const video = videos.find((v) => v.id === id && v.pageId === page);
      const postId = video?.postId ?? id;
      const index = posts.findIndex((p) => p.id === postId && p.pageId === page);
      if (index < 0 && !video) throw unknownObject(id, 'delete');
      if (index >= 0) posts.splice(index, 1);
      if (video) videos.splice(videos.indexOf(video), 1);
      deleted.push(id);
      return { success: true };
    }),
  );

  server.app.get<{ Params: { id: string; edge: string } }>(
    '/:id/:edge',
    handle(async (request, params) => {
      const { id: rawId, edge } = request.params as { id: string; edge: string };
      const token = tokenOf(request, params, tokens);
      const id = rawId === 'me' ? token.subject : rawId;
      switch (edge) {
        case 'accounts': {
          validate(params, GRAPH_SPECS['GET accounts']!);
          const user = users.get(id);
          if (!user || token.subject !== id || token.kind === 'page') throw unknownObject(rawId, 'get');
          const fields = checkFields(params.fields ?? 'id,name', 'Page');
          return {
            data: user.pageIds.map((pid) => {
              const page = pages.get(pid)!;
              const ig = page.igUserId ? igUsers.get(page.igUserId)! : null;
              return pick(
                {
                  id: page.id,
                  name: page.name,
                  access_token: page.token,
                  instagram_business_account: ig ? { id: ig.id, username: ig.username } : undefined,
                },
                fields,
              );
            }),
            paging: { cursors: { before: 'QVFIU0', after: 'QVFIU1' } },
          };
        }
        case 'posts': {
          validate(params, GRAPH_SPECS['GET posts']!);
          ownedPage(token, id, 'get');
          const fields = checkFields(params.fields, 'PagePost');
          return timePage(
            posts.filter((p) => p.pageId === id),
            request,
            params,
            (p) =>
              pick(
                {
                  id: p.id,
                  message: p.message || undefined,
                  created_time: graphTimestamp(p.createdAt),
                  permalink_url: p.permalink,
                  from: author(p, params.fields),
                },
                fields,
              ),
          );
        }
        case 'published_posts': {
          validate(params, GRAPH_SPECS['GET published_posts']!);
          ownedPage(token, id, 'get');
          const fields = checkFields(params.fields, 'PagePost');
          const attachmentFields = nestedFields(params.fields, 'attachments');
          return timePage(
            posts.filter((p) => p.pageId === id),
            request,
            params,
            (p) =>
              pick(
                {
                  id: p.id,
                  message: p.message || undefined,
                  created_time: graphTimestamp(p.createdAt),
                  permalink_url: p.permalink,
                  from: author(p, params.fields),
                  parent_id: p.parentId,
                  attachments: pageAttachments(p, attachmentFields),
                },
                fields,
              ),
          );
        }
        case 'media': {
          validate(params, GRAPH_SPECS['GET media']!);
          ownedIgUser(token, id);
          const fields = checkFields(params.fields, 'IGMedia');
          // Stories are not on the media edge (they have /stories of their own).
          return timePage(
            media.filter((m) => m.igUserId === id && m.productType !== 'STORY'),
            request,
            params,
            (m) => pick(igNode(m, params.fields), fields),
          );
        }
        case 'content_publishing_limit': {
          validate(params, GRAPH_SPECS['GET content_publishing_limit']!);
          ownedIgUser(token, id);
          const fields = checkFields(params.fields ?? 'quota_usage', 'PublishingLimit');
          return {
            data: [
              pick(
                {
                  quota_usage: igPublishedInWindow(id),
                  config: { quota_total: quotaTotal, quota_duration: DAY_SECONDS },
                },
                fields,
              ),
            ],
          };
        }
        case 'insights': {
          validate(params, GRAPH_SPECS['GET insights']!);
          const item = media.find((m) => m.id === id);
          if (!item || igUsers.get(item.igUserId)?.pageId !== actingPage(token))
            throw unknownObject(id, 'get');
          const metrics = list(params.metric);
          for (const [index, metric] of metrics.entries())
            if (!IG_METRICS.includes(metric))
              throw fail(
                100,
                `(#100) metric[${index}] must be one of the following values: ${IG_METRICS.join(', ')}`,
              );
          const values = engagement.get(id)?.insights ?? {};
          return {
            data: metrics.map((name) => ({
              name,
              period: 'lifetime',
              values: [{ value: values[name] ?? 0 }],
              title: name,
              id: `${id}/insights/${name}/lifetime`,
            })),
          };
        }
        default:
          throw fail(100, `(#100) Unknown path components: /${edge}`);
      }
    }),
  );

  server.app.post<{ Params: { id: string; edge: string } }>(
    '/:id/:edge',
    handle(async (request, params) => {
      const { id, edge } = request.params as { id: string; edge: string };
      const token = tokenOf(request, params, tokens);
      const now = Date.now();
      switch (edge) {
        case 'feed': {
          validate(params, GRAPH_SPECS['POST feed']!);
          ownedPage(token, id, 'post');
          const attached = (
            typeof params.attached_media === 'string'
              ? JSON.parse(params.attached_media)
              : (params.attached_media ?? [])
          ) as { media_fbid?: string }[];
          if (!Array.isArray(attached)) throw fail(100, '(#100) Param attached_media must be an array');
          if (!params.message && !params.link && attached.length === 0)
            throw fail(100, '(#100) Missing message or attachment');
          for (const entry of attached) {
            const photo = photos.find((p) => p.id === entry.media_fbid && p.pageId === id);
            if (!photo) throw fail(100, `(#100) Invalid attached_media: ${JSON.stringify(entry)}`);
            if (photo.published)
              throw fail(100, '(#100) attached_media photos must be uploaded with published=false');
          }
          const n = postSeq();
          const post: PagePost = {
            id: `${id}_${n}`,
            pageId: id,
            message: String(params.message ?? ''),
            link: (params.link as string | undefined) ?? null,
            photoIds: attached.map((a) => a.media_fbid!),
            videoId: null,
            createdAt: now,
            permalink: `https://www.facebook.com/${id}/posts/${n}`,
          };
          posts.push(post);
          return { id: post.id };
        }
        case 'photos': {
          validate(params, GRAPH_SPECS['POST photos']!);
          ownedPage(token, id, 'post');
          if (!isImage(await fetchMedia(params.url))) throw fail(324, '(#324) Missing or invalid image file');
          const photoId = objectId();
          const published = params.published === undefined || bool(params.published);
          photos.push({
            id: photoId,
            pageId: id,
            published,
            caption: String(params.caption ?? ''),
            createdAt: now,
          });
          if (!published) return { id: photoId };
          const n = postSeq();
          const post: PagePost = {
            id: `${id}_${n}`,
            pageId: id,
            message: String(params.caption ?? ''),
            link: null,
            photoIds: [photoId],
            videoId: null,
            createdAt: now,
            permalink: `https://www.facebook.com/${id}/posts/${n}`,
          };
          posts.push(post);
          return { id: photoId, post_id: post.id };
        }
        case 'videos': {
          validate(params, GRAPH_SPECS['POST videos']!);
          ownedPage(token, id, 'post');
          if (!isVideo(await fetchMedia(params.file_url)))
            throw fail(100, "(#100) The video file you selected is in a format that we don't support.", {
              error_subcode: 1363024,
            });
          const videoId = objectId();
          const n = postSeq();
          const post: PagePost = {
            id: `${id}_${n}`,
            pageId: id,
            message: String(params.description ?? ''),
            link: null,
            photoIds: [],
            videoId,
            createdAt: now,
            permalink: `https://www.facebook.com/${id}/videos/${videoId}`,
          };
          posts.push(post);
          videos.push({
            id: videoId,
            pageId: id,
            description: post.message,
            createdAt: now,
            postId: post.id,
          });
          return { id: videoId };
        }
        case 'media': {
          validate(params, GRAPH_SPECS['POST media']!);
          ownedIgUser(token, id);
          const type = String(params.media_type ?? 'IMAGE');
          const carouselItem = bool(params.is_carousel_item);
          const caption = String(params.caption ?? '');
          if ([...caption].length > 2200)
            throw fail(100, 'The caption exceeds the maximum of 2200 characters.', {
              error_subcode: 2207010,
            });
          const container: ContainerState = {
            id: objectId(),
            owner: id,
            mediaType: type,
            carouselItem,
            children: [],
            caption,
            polls: 0,
            failed: null,
            published: false,
          };
          if (type === 'IMAGE') {
            if (!params.image_url) throw fail(100, '(#100) The parameter image_url is required');
            // Images are fetched while the container is created; a failure is reported at once.
            if (!isImage(await fetchMedia(params.image_url)))
              throw fail(9004, "Media download has failed. The media URI doesn't meet our requirements.", {
                error_subcode: 2207052,
              });
          } else if (type === 'VIDEO' || type === 'REELS') {
            if (!params.video_url) throw fail(100, '(#100) The parameter video_url is required');
            if (type === 'VIDEO' && !carouselItem)
              throw fail(100, '(#100) media_type VIDEO is only for carousel items; use REELS', {
                error_subcode: 2207067,
              });
            // Videos are processed asynchronously: a bad file shows as status ERROR.
            if (!isVideo(await fetchMedia(params.video_url)))
              container.failed = 'Media download has failed. (2207026)';
          } else if (type === 'CAROUSEL') {
            const children = list(params.children);
            if (children.length < 2 || children.length > 10)
              throw fail(100, '(#100) A carousel has between 2 and 10 children', { error_subcode: 2207004 });
            for (const childId of children) {
              const child = containers.get(childId);
              if (!child || child.owner !== id || !child.carouselItem)
                throw fail(100, `(#100) Invalid carousel child ${childId}`, { error_subcode: 2207008 });
              if (containerStatus(child, pollsUntilFinished) !== 'FINISHED')
                throw fail(9007, 'The media is not ready for publishing, please wait for a moment', {
                  error_subcode: 2207027,
                });
            }
            container.children = children;
          } else
            throw fail(
              100,
              `(#100) Param media_type must be one of {IMAGE, VIDEO, REELS, CAROUSEL, STORIES}`,
            );
          containers.set(container.id, container);
          return { id: container.id };
        }
        case 'media_publish': {
          validate(params, GRAPH_SPECS['POST media_publish']!);
          ownedIgUser(token, id);
          const container = containers.get(String(params.creation_id));
          if (!container || container.owner !== id || container.carouselItem)
            throw fail(100, '(#100) Invalid parameter creation_id', { error_subcode: 2207008 });
          if (container.published)
            throw fail(100, '(#100) The container was already published', { error_subcode: 2207006 });
          if (containerStatus(container, pollsUntilFinished) !== 'FINISHED')
            throw fail(9007, 'The media is not ready for publishing, please wait for a moment', {
              error_subcode: 2207027,
            });
          if (igPublishedInWindow(id) >= quotaTotal)
            throw fail(
              9,
              'The maximum number of posts that were published via API in a 24 hour period has been reached.',
              {
                error_subcode: 2207042,
              },
            );
          container.published = true;
          const item: IgMedia = {
            id: objectId(),
            igUserId: id,
            caption: container.caption,
            mediaType:
              container.mediaType === 'CAROUSEL'
                ? 'CAROUSEL_ALBUM'
                : container.mediaType === 'IMAGE'
                  ? 'IMAGE'
                  : 'VIDEO',
            permalink: `https://www.instagram.com/p/${shortcode()}/`,
            createdAt: now,
            viaApi: true,
          };
          media.push(item);
          return { id: item.id };
        }
        default:
          throw fail(100, `(#100) Unknown path components: /${edge}`);
      }
    }),
  );

  const fake: GraphFake = {
    server,
    url: '',
    app,
    createPage(name) {
      const id = pageId();
      const token = issueToken(id, 'page');
      pages.set(id, { id, name, token, igUserId: null });
      return { pageId: id, pageToken: token };
    },
    linkInstagram(pid, username) {
      const id = objectId();
      igUsers.set(id, { id, username, pageId: pid });
      pages.get(pid)!.igUserId = id;
      return { igUserId: id };
    },
    createUser(name, pageIds) {
      const id = objectId();
      users.set(id, { id, name, pageIds });
      return { shortLivedToken: issueToken(id, 'user') };
    },
    expireToken(value) {
      const token = tokens.get(value);
      if (token) token.expired = true;
    },
    pagePosts: (pid) => posts.filter((p) => p.pageId === pid),
    photos: (pid) =>
      photos
        .filter((p) => p.pageId === pid)
        .map(({ id, published, caption }) => ({ id, published, caption })),
    igMedia: (igUserId) => media.filter((m) => m.igUserId === igUserId),
    deleted,
    seedIgMedia(igUserId, seed) {
      const item: IgMedia = {
        id: objectId(),
        igUserId,
        caption: seed.caption,
        mediaType: 'IMAGE',
        permalink: `https://www.instagram.com/p/${shortcode()}/`,
        createdAt: seed.createdAt,
        viaApi: seed.viaApi ?? true,
      };
      media.push(item);
      return item;
    },
    postIgMedia(igUserId, post) {
      const files = post.media.map((seed) => cdn.add(seed));
      const item: IgMedia = {
        id: objectId(),
        igUserId,
        caption: post.caption,
        mediaType: files.length > 1 ? 'CAROUSEL_ALBUM' : files[0]?.kind === 'video' ? 'VIDEO' : 'IMAGE',
        permalink: `https://www.instagram.com/${post.productType === 'REELS' ? 'reel' : 'p'}/${shortcode()}/`,
        createdAt: post.createdAt ?? Date.now(),
        viaApi: false,
        productType: post.productType ?? 'FEED',
        files,
      };
      media.push(item);
      return item;
    },
    postOnPage(pid, post) {
      const id = `${pid}_${postSeq()}`;
      const item: PagePost = {
        id,
        pageId: pid,
        message: post.message,
        link: post.link ?? null,
        photoIds: [],
        videoId: null,
        createdAt: post.createdAt ?? Date.now(),
        permalink: `https://www.facebook.com/${pid}/posts/${id.split('_')[1]}`,
        files: (post.media ?? []).map((seed) => cdn.add(seed)),
        ...(post.sharing ? { parentId: post.sharing } : {}),
      };
      posts.push(item);
      return item;
    },
    deleteObject(id) {
      for (const list of [media, posts] as { id: string }[][]) {
        const index = list.findIndex((entry) => entry.id === id);
        if (index >= 0) list.splice(index, 1);
      }
    },
    dropFile: (url) => cdn.drop(url),
    setEngagement(id, value) {
      engagement.set(id, value);
    },
    async start() {
      fake.url = await server.start();
      return fake.url;
    },
    stop: () => server.stop(),
  };
  return fake;
}
