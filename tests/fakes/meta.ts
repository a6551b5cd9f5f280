import { randomBytes } from 'node:crypto';
import formbody from '@fastify/formbody';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { fileTypeFromBuffer } from 'file-type';
import { createFakeServer, type FakeServer, type Fault } from './harness';

/**
 * Fake Meta platforms: the Graph API as Facebook Pages and Instagram use it, and the Threads API.
 * Both check the access token (an expired one gets Graph's real OAuthException 190/463), accept
 * only the parameters and fields Meta documents for each endpoint (an unknown one is refused with
 * error 100, a missing required one too), download the media from the URLs they are given (as Meta
 * does), run media containers through IN_PROGRESS → FINISHED, count the 24-hour publishing quota,
 * and keep timelines that tests read. Faults come from the harness; `graphThrottleFault` builds
 * Meta's throttling answers (error code + usage headers).
 *
 * Documented parameters: developers.facebook.com/docs/graph-api/reference/page/feed, …/page/photos,
 * …/page/videos, …/instagram-platform/instagram-graph-api/reference/ig-user/media,
 * …/ig-user/media_publish, …/ig-user/content_publishing_limit, …/threads/reference/publishing,
 * …/threads/reference/user, …/threads/reference/insights.
 */

// ---------------------------------------------------------------------------------------------
// Graph-shaped errors

export function graphErrorBody(
  code: number,
  message: string,
  extra: { type?: string; error_subcode?: number; is_transient?: boolean } = {},
) {
  return {
    error: {
      message,
      type: extra.type ?? 'OAuthException',
      code,
      ...(extra.error_subcode ? { error_subcode: extra.error_subcode } : {}),
      ...(extra.is_transient !== undefined ? { is_transient: extra.is_transient } : {}),
      fbtrace_id: randomBytes(8).toString('base64url'),
    },
  };
}

class GraphFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: ReturnType<typeof graphErrorBody>,
  ) {
    super(body.error.message);
  }
}

const fail = (
  code: number,
  message: string,
  extra: Parameters<typeof graphErrorBody>[2] = {},
  status = 400,
) => new GraphFailure(status, graphErrorBody(code, message, extra));

const THROTTLE_MESSAGES: Record<number, string> = {
  4: '(#4) Application request limit reached',
  17: '(#17) User request limit reached',
  32: '(#32) Page request limit reached',
  613: '(#613) Calls to this api have exceeded the rate limit.',
  80001: '(#80001) There have been too many calls to this Page account. Wait a bit and try again.',
};

/**
 * Meta's throttling answer: HTTP 400 (not 429) with the error code, and the usage headers that
 * say when access returns. App-level throttling (4) reports only x-app-usage percentages.
 */
export function graphThrottleFault(code: 4 | 17 | 32 | 613 | 80001, regainMinutes: number): Fault {
  const headers: Record<string, string> =
    code === 4
      ? { 'x-app-usage': JSON.stringify({ call_count: 100, total_cputime: 41, total_time: 57 }) }
      : {
          'x-business-use-case-usage': JSON.stringify({
            '104729384756': [
              {
                type: 'pages',
                call_count: 100,
                total_cputime: 12,
                total_time: 30,
                estimated_time_to_regain_access: regainMinutes,
              },
            ],
          }),
          'x-page-usage': JSON.stringify({ call_count: 100, total_cputime: 12, total_time: 30 }),
        };
  return {
    kind: 'respond',
    status: 400,
    headers,
    body: graphErrorBody(code, THROTTLE_MESSAGES[code]!, { is_transient: true }),
  };
}

export const graphServerErrorFault: Fault = {
  kind: 'respond',
  status: 500,
  body: graphErrorBody(2, 'An unexpected error has occurred. Please retry your request later.', {
    is_transient: true,
  }),
};

// ---------------------------------------------------------------------------------------------
// Parameters, fields, tokens

type ParamType = 'string' | 'boolean' | 'integer' | 'list' | 'json' | 'time';

interface EndpointSpec {
  params: Record<string, ParamType>;
  required?: string[];
}

/** Query string and body together, as the Graph API reads them. */
function paramsOf(request: FastifyRequest): Record<string, unknown> {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const body =
    request.body && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
  return { ...query, ...body };
}

function checkType(name: string, value: unknown, type: ParamType): void {
  const bad = () => fail(100, `(#100) Param ${name} must be ${type === 'list' ? 'a list' : `a ${type}`}`);
  switch (type) {
    case 'string':
      if (typeof value !== 'string') throw bad();
      return;
    case 'boolean':
      if (typeof value !== 'boolean' && value !== 'true' && value !== 'false') throw bad();
      return;
    case 'integer':
      if (
        !(typeof value === 'number' && Number.isInteger(value)) &&
        !(typeof value === 'string' && /^\d+$/.test(value))
      )
        throw bad();
      return;
    case 'time':
      if (typeof value === 'number' || (typeof value === 'string' && !Number.isNaN(sinceOf(value)))) return;
      throw bad();
    case 'list':
      if (!(typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'))))
        throw bad();
      return;
    case 'json':
      if (typeof value === 'string') {
        try {
          JSON.parse(value);
        } catch {
          throw bad();
        }
      } else if (typeof value !== 'object' || value === null) throw bad();
      return;
  }
}

function validate(params: Record<string, unknown>, spec: EndpointSpec): void {
  for (const [name, value] of Object.entries(params)) {
    if (name === 'access_token') continue;
    const type = spec.params[name];
    if (!type) throw fail(100, `(#100) Param ${name} is not a valid parameter for this endpoint`);
    checkType(name, value, type);
  }
  for (const name of spec.required ?? [])
    if (params[name] === undefined || params[name] === '')
      throw fail(100, `(#100) The parameter ${name} is required`);
}

const bool = (value: unknown) => value === true || value === 'true';
const list = (value: unknown) =>
  Array.isArray(value)
    ? (value as string[])
    : String(value ?? '')
        .split(',')
        .filter(Boolean);

/** `since`/`until`: a Unix timestamp or a date string, as Graph's time-based paging takes them. */
function sinceOf(value: unknown): number {
  if (typeof value === 'number') return value * 1000;
  const text = String(value);
  return /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text);
}

/** Splits `a,b{c,d},e.summary(total_count).limit(0)` at top-level commas. */
function splitFields(fields: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of fields) {
    if (char === '{' || char === '(') depth += 1;
    if (char === '}' || char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  if (current) parts.push(current);
  return parts.map((p) => p.trim()).filter(Boolean);
}

type NodeType = keyof typeof NODE_FIELDS;

/** The fields each node type has (the subset of Meta's reference Gaung's adapters can meet). */
const NODE_FIELDS = {
  User: ['id', 'name', 'email', 'accounts'],
  Page: [
    'id',
    'name',
    'link',
    'username',
    'category',
    'fan_count',
    'followers_count',
    'access_token',
    'instagram_business_account',
  ],
  PagePost: [
    'id',
    'message',
    'created_time',
    'permalink_url',
    'reactions',
    'comments',
    'shares',
    'attachments',
    'status_type',
    'full_picture',
    'from',
    'parent_id',
  ],
  Photo: ['id', 'name', 'created_time', 'link', 'images', 'album'],
  Video: [
    'id',
    'description',
    'title',
    'created_time',
    'permalink_url',
    'reactions',
    'comments',
    'length',
    'source',
  ],
  IGUser: ['id', 'username', 'name', 'biography', 'followers_count', 'media_count', 'profile_picture_url'],
  IGContainer: ['id', 'status_code', 'status'],
  IGMedia: [
    'id',
    'caption',
    'permalink',
    'timestamp',
    'media_type',
    'media_url',
    'shortcode',
    'username',
    'like_count',
    'comments_count',
    'children',
    'media_product_type',
    'thumbnail_url',
  ],
  /** A carousel's child, as `children{…}` lists it (Instagram and Threads). */
  MediaChild: ['id', 'media_type', 'media_url', 'thumbnail_url', 'permalink', 'timestamp', 'alt_text'],
  ThreadsUser: ['id', 'username', 'name', 'threads_profile_picture_url', 'threads_biography'],
  ThreadsContainer: ['id', 'status', 'error_message'],
  ThreadsMedia: [
    'id',
    'media_product_type',
    'media_type',
    'media_url',
    'permalink',
    'owner',
    'username',
    'text',
    'timestamp',
    'shortcode',
    'thumbnail_url',
    'children',
    'is_quote_post',
    'alt_text',
    'link_attachment_url',
    'quoted_post',
    'reposted_post',
    'is_reply',
  ],
  PublishingLimit: [
    'quota_usage',
    'config',
    'reply_quota_usage',
    'reply_config',
    'delete_quota_usage',
    'delete_config',
  ],
} as const;

/** Nested `{…}` field lists are checked against the type the field points to. */
const NESTED: Partial<Record<string, NodeType>> = {
  instagram_business_account: 'IGUser',
  children: 'MediaChild',
};

function checkFields(fields: unknown, type: NodeType): string[] {
  if (fields === undefined) return ['id'];
  if (typeof fields !== 'string') throw fail(100, '(#100) Param fields must be a string');
  const roots: string[] = [];
  for (const part of splitFields(fields)) {
    const root = /^[a-z_]+/.exec(part)?.[0] ?? part;
    if (!(NODE_FIELDS[type] as readonly string[]).includes(root))
      throw fail(100, `(#100) Tried accessing nonexisting field (${root}) on node type (${type})`);
    const nested = /\{(.*)\}$/.exec(part)?.[1];
    const nestedType = NESTED[root];
    if (nested !== undefined && nestedType) checkFields(nested, nestedType);
    roots.push(root);
  }
  return roots;
}

function pick(node: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) if (node[field] !== undefined) out[field] = node[field];
  return out;
}

/** The fields a `name{…}` part of a field list asks of a nested edge; `['id']` when it names none. */
function nestedFields(fields: unknown, name: string): string[] {
  for (const part of splitFields(String(fields ?? '')))
    if (part.startsWith(`${name}{`)) return splitFields(/\{(.*)\}$/.exec(part)?.[1] ?? 'id');
  return ['id'];
}

/** A file a source medium points at, on the fake's own CDN path (`/cdn/<name>`). */
export interface CdnFile {
  kind: 'image' | 'video';
  name: string;
  /** A video's still, served beside it. */
  thumbnail?: string;
  altText?: string;
}

export interface SourceMediumSeed {
  kind: 'image' | 'video';
  /** The file; null for a medium whose file the platform withholds (Instagram's copyrighted audio). */
  bytes: Buffer | null;
  mime?: string;
  altText?: string;
  /** A video's still. */
  thumbnail?: Buffer;
}

/**
 * The CDN of a fake Meta platform: the files of media read as a source, served as the platforms'
 * signed CDN URLs are (a removed file answers 404, as an expired URL does).
 */
function createCdn(server: FakeServer) {
  const files = new Map<string, { bytes: Buffer; mime: string }>();
  server.app.get<{ Params: { name: string } }>('/cdn/:name', async (request, reply) => {
    const file = files.get(request.params.name);
    if (!file) return reply.code(404).type('text/html').send('<h1>URL signature expired</h1>');
    return reply.type(file.mime).send(file.bytes);
  });
  const put = (bytes: Buffer, mime: string) => {
    const name = `${randomBytes(12).toString('hex')}.${mime.split('/')[1]}`;
    files.set(name, { bytes, mime });
    return name;
  };
  return {
    add(seed: SourceMediumSeed): CdnFile {
      const mime = seed.mime ?? (seed.kind === 'image' ? 'image/jpeg' : 'video/mp4');
      return {
        kind: seed.kind,
        name: seed.bytes ? put(seed.bytes, mime) : '',
        ...(seed.thumbnail ? { thumbnail: put(seed.thumbnail, 'image/jpeg') } : {}),
        ...(seed.altText ? { altText: seed.altText } : {}),
      };
    },
    url: (name: string | undefined) => (name ? `${server.url}/cdn/${name}` : undefined),
    /** The URL answers 404 from now on. */
    drop(url: string) {
      files.delete(url.split('/cdn/')[1] ?? '');
    },
  };
}

/** One page of a list edge, newest first, with Graph's `since`/`until` filters and cursor paging. */
function timePage<T extends { createdAt: number }>(
  items: T[],
  request: FastifyRequest,
  params: Record<string, unknown>,
  render: (item: T) => Record<string, unknown>,
) {
  const since = params.since === undefined ? 0 : sinceOf(params.since);
  const until = params.until === undefined ? Number.POSITIVE_INFINITY : sinceOf(params.until);
  const limit = Math.min(Number(params.limit ?? 25), 100);
  const offset = params.after ? Number(Buffer.from(String(params.after), 'base64url').toString()) : 0;
  const matching = items
    .filter((item) => item.createdAt >= since && item.createdAt <= until)
    .sort((a, b) => b.createdAt - a.createdAt);
  const page = matching.slice(offset, offset + limit);
  const cursor = (n: number) => Buffer.from(String(n)).toString('base64url');
  const next = new URL(request.url, `http://${request.headers.host}`);
  next.searchParams.set('after', cursor(offset + page.length));
  return {
    data: page.map(render),
    paging: {
      cursors: { before: cursor(offset), after: cursor(offset + page.length) },
      ...(offset + page.length < matching.length ? { next: next.toString() } : {}),
    },
  };
}

const graphTimestamp = (at: number) => new Date(at).toISOString().replace(/\.\d{3}Z$/, '+0000');

interface Token {
  value: string;
  /** The id of the user, page or Threads user it acts as. */
  subject: string;
  kind: 'user' | 'long-lived-user' | 'page' | 'threads';
  expired: boolean;
}

function tokenOf(
  request: FastifyRequest,
  params: Record<string, unknown>,
  tokens: Map<string, Token>,
): Token {
  const bearer = /^(?:Bearer|OAuth) (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
  const value = (params.access_token as string | undefined) ?? bearer;
  if (!value)
    throw fail(2500, 'An active access token must be used to query information about the current user.');
  const token = tokens.get(value);
  if (!token) throw fail(190, 'Invalid OAuth access token - Cannot parse access token');
  if (token.expired)
    throw fail(190, 'Error validating access token: Session has expired on Friday, 01-Nov-24 10:00:00 PDT.', {
      error_subcode: 463,
    });
  return token;
}

const unknownObject = (id: string, method: string) =>
  fail(
    100,
    `Unsupported ${method} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
    { type: 'GraphMethodException', error_subcode: 33 },
  );

interface MediaCheck {
  ok: boolean;
  mime: string | null;
}

/** Downloads a media URL as Meta's crawler does and sniffs what it is. */
async function fetchMedia(url: unknown): Promise<MediaCheck> {
  try {
    const response = await fetch(String(url), { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return { ok: false, mime: null };
    const type = await fileTypeFromBuffer(new Uint8Array(await response.arrayBuffer()));
    return { ok: true, mime: type?.mime ?? null };
  } catch {
    return { ok: false, mime: null };
  }
}

const isImage = (check: MediaCheck) => check.ok && /^image\/(jpeg|png|gif|webp)$/.test(check.mime ?? '');
const isVideo = (check: MediaCheck) => check.ok && /^video\/(mp4|quicktime)$/.test(check.mime ?? '');

function newId(prefix: string): () => string {
  let counter = 0;
  return () => `${prefix}${String(++counter).padStart(10, '0')}`;
}

const shortcode = () => randomBytes(8).toString('base64url').slice(0, 11);

function sendGraph(reply: FastifyReply, error: unknown) {
  if (error instanceof GraphFailure) return reply.code(error.status).send(error.body);
  throw error;
}

interface ContainerState {
  id: string;
  owner: string;
  mediaType: string;
  carouselItem: boolean;
  children: string[];
  caption: string;
  polls: number;
  failed: string | null;
  published: boolean;
}

/** A container is IN_PROGRESS for its first checks, then FINISHED (or ERROR when its media could not be used). */
function containerStatus(
  container: ContainerState,
  pollsUntilFinished: number,
): 'IN_PROGRESS' | 'FINISHED' | 'ERROR' {
  if (container.failed) return 'ERROR';
  return container.polls > pollsUntilFinished ? 'FINISHED' : 'IN_PROGRESS';
}

export interface Engagement {
  reactions?: number;
  comments?: number;
  shares?: number;
  insights?: Record<string, number>;
}

// ---------------------------------------------------------------------------------------------
// Graph API: Facebook Pages and Instagram

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
const DAY_SECONDS = 86_400;

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

// ---------------------------------------------------------------------------------------------
// Threads API

export interface ThreadsPost {
  id: string;
  userId: string;
  mediaType: 'TEXT_POST' | 'IMAGE' | 'VIDEO' | 'CAROUSEL_ALBUM' | 'REPOST_FACADE';
  text: string;
  linkAttachment: string | null;
  altTexts: string[];
  children: number;
  permalink: string;
  createdAt: number;
  /** Its files, for threads the office posted in the app and a source reads. */
  files?: CdnFile[];
  quotedPost?: string;
  repostedPost?: string;
  /** The thread it answers: replies are on the /replies edge, never on /threads. */
  repliedTo?: string;
}

export interface ThreadsFake {
  server: FakeServer;
  url: string;
  /** A Threads user and a token; `permissions` defaults to every one Gaung asks for, threads_delete included. */
  createUser(username: string, options?: { permissions?: string[] }): { userId: string; token: string };
  expireToken(token: string): void;
  /** Ids of the threads DELETE removed, one entry per removal. */
  deleted: string[];
  /** Whether a token is still accepted (a refreshed token replaces the old one). */
  tokenValid(token: string): boolean;
  threads(userId: string): ThreadsPost[];
  seedThread(userId: string, post: { text: string; createdAt: number }): ThreadsPost;
  /** The office posts in the Threads app: text, media, a quote, a repost of another thread, or a reply. */
  postThread(
    userId: string,
    post: {
      text: string;
      media?: SourceMediumSeed[];
      quoting?: string;
      reposting?: string;
      replyingTo?: string;
      createdAt?: number;
    },
  ): ThreadsPost;
  deleteThread(id: string): void;
  /** A media file's CDN URL stops answering (404). */
  dropFile(url: string): void;
  setEngagement(id: string, insights: Record<string, number>): void;
  start(): Promise<string>;
  stop(): Promise<void>;
}

const THREADS_SPECS: Record<string, EndpointSpec> = {
  'GET node': { params: { fields: 'string' } },
  'GET /refresh_access_token': {
    params: { grant_type: 'string', access_token: 'string' },
    required: ['grant_type', 'access_token'],
  },
  'GET threads': {
    params: {
      fields: 'string',
      since: 'time',
      until: 'time',
      limit: 'integer',
      before: 'string',
      after: 'string',
    },
  },
  'POST threads': {
    params: {
      media_type: 'string',
      text: 'string',
      image_url: 'string',
      video_url: 'string',
      is_carousel_item: 'boolean',
      children: 'list',
      reply_to_id: 'string',
      reply_control: 'string',
      allowlisted_country_codes: 'list',
      alt_text: 'string',
      link_attachment: 'string',
      quote_post_id: 'string',
      poll_attachment: 'json',
      auto_publish_text: 'boolean',
      topic_tag: 'string',
      location_id: 'string',
    },
    required: ['media_type'],
  },
  'POST threads_publish': { params: { creation_id: 'string' }, required: ['creation_id'] },
  // developers.facebook.com/docs/threads/posts/reposts: POST /{threads-media-id}/repost, no parameters.
  'POST repost': { params: {} },
  'GET threads_publishing_limit': { params: { fields: 'string' } },
  'GET insights': { params: { metric: 'list', since: 'time', until: 'time' }, required: ['metric'] },
  'DELETE node': { params: {} },
};

const THREADS_METRICS = ['views', 'likes', 'replies', 'reposts', 'quotes', 'shares'];
const THREADS_QUOTA = 250;
/** developers.facebook.com/docs/threads/posts/delete-posts: 100 deletes per account per day. */
const THREADS_DELETE_QUOTA = 100;
const THREADS_PERMISSIONS = [
  'threads_basic',
  'threads_content_publish',
  'threads_manage_insights',
  'threads_delete',
];
const THREADS_TEXT_MAX = 500;

export function createThreadsFake(options: { pollsUntilFinished?: number } = {}): ThreadsFake {
  const server = createFakeServer();
  server.app.register(formbody);
  const pollsUntilFinished = options.pollsUntilFinished ?? 2;
  const tokens = new Map<string, Token>();
  const users = new Map<string, { id: string; username: string }>();
  const containers = new Map<
    string,
    ContainerState & { text: string; link: string | null; altText: string | null }
  >();
  const threads: ThreadsPost[] = [];
  const insights = new Map<string, Record<string, number>>();
  const cdn = createCdn(server);
  const permissions = new Map<string, string[]>();
  const deletes: { userId: string; at: number }[] = [];
  const deleted: string[] = [];
  const userSeq = newId('2584');
  const objectId = newId('1790');

  const issueToken = (subject: string) => {
    const value = `THAA${randomBytes(24).toString('base64url')}`;
    tokens.set(value, { value, subject, kind: 'threads', expired: false });
    return value;
  };

  const ownUser = (token: Token, id: string) => {
    const resolved = id === 'me' ? token.subject : id;
    if (resolved !== token.subject || !users.has(resolved)) throw unknownObject(id, 'get');
    return resolved;
  };

  const publishedInWindow = (userId: string) =>
    threads.filter((t) => t.userId === userId && t.createdAt > Date.now() - DAY_SECONDS * 1000).length;
  const deletedInWindow = (userId: string) =>
    deletes.filter((d) => d.userId === userId && d.at > Date.now() - DAY_SECONDS * 1000).length;

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
    '/refresh_access_token',
    handle(async (request, params) => {
      validate(params, THREADS_SPECS['GET /refresh_access_token']!);
      if (params.grant_type !== 'th_refresh_token') throw fail(100, '(#100) Unsupported grant_type');
      const token = tokenOf(request, params, tokens);
      // The old long-lived token is replaced by the new one.
      tokens.delete(token.value);
      return { access_token: issueToken(token.subject), token_type: 'bearer', expires_in: 5_183_944 };
    }),
  );

  server.app.get(
    '/:id',
    handle(async (request, params) => {
      validate(params, THREADS_SPECS['GET node']!);
      const token = tokenOf(request, params, tokens);
      const { id } = request.params as { id: string };
      const userId = id === 'me' ? token.subject : id;
      const user = users.get(userId);
      if (user && userId === token.subject)
        return pick(
          { id: user.id, username: user.username, name: user.username },
          checkFields(params.fields, 'ThreadsUser'),
        );
      const container = containers.get(id);
      if (container && container.owner === token.subject) {
        const fields = checkFields(params.fields, 'ThreadsContainer');
        container.polls += 1;
        const status = container.published ? 'PUBLISHED' : containerStatus(container, pollsUntilFinished);
        return pick({ id, status, error_message: container.failed ?? undefined }, fields);
      }
      const post = threads.find((t) => t.id === id);
      if (post && post.userId === token.subject)
        return pick(threadNode(post, params.fields), checkFields(params.fields, 'ThreadsMedia'));
      throw unknownObject(id, 'get');
    }),
  );

  const threadNode = (post: ThreadsPost, fieldsParam?: unknown) => {
    const files = post.files ?? [];
    const carousel = post.mediaType === 'CAROUSEL_ALBUM' && files.length > 0;
    const childFields = nestedFields(fieldsParam, 'children');
    return {
      id: post.id,
      media_product_type: 'THREADS',
      media_type: post.mediaType,
      permalink: post.permalink,
      owner: { id: post.userId },
      username: users.get(post.userId)?.username,
      text: post.mediaType === 'REPOST_FACADE' ? undefined : post.text,
      timestamp: graphTimestamp(post.createdAt),
      shortcode: post.permalink.split('/').pop(),
      is_quote_post: post.quotedPost !== undefined,
      quoted_post: post.quotedPost ? { id: post.quotedPost } : undefined,
      reposted_post: post.repostedPost ? { id: post.repostedPost } : undefined,
      is_reply: post.repliedTo !== undefined,
      media_url: carousel ? undefined : cdn.url(files[0]?.name),
      thumbnail_url: carousel ? undefined : cdn.url(files[0]?.thumbnail),
      alt_text: carousel ? undefined : files[0]?.altText,
      children: carousel
        ? {
            data: files.map((file, index) =>
              pick(
                {
                  id: `${post.id}${String(index + 1).padStart(2, '0')}`,
                  media_type: file.kind === 'image' ? 'IMAGE' : 'VIDEO',
                  media_url: cdn.url(file.name),
                  thumbnail_url: cdn.url(file.thumbnail),
                  alt_text: file.altText,
                },
                childFields,
              ),
            ),
          }
        : undefined,
    };
  };

  server.app.get(
    '/:id/:edge',
    handle(async (request, params) => {
      const { id, edge } = request.params as { id: string; edge: string };
      const token = tokenOf(request, params, tokens);
      switch (edge) {
        case 'threads': {
          validate(params, THREADS_SPECS['GET threads']!);
          const userId = ownUser(token, id);
          const fields = checkFields(params.fields, 'ThreadsMedia');
          return timePage(
            threads.filter((t) => t.userId === userId && t.repliedTo === undefined),
            request,
            params,
            (t) => pick(threadNode(t, params.fields), fields),
          );
        }
        case 'threads_publishing_limit': {
          validate(params, THREADS_SPECS['GET threads_publishing_limit']!);
          const userId = ownUser(token, id);
          const fields = checkFields(params.fields ?? 'quota_usage', 'PublishingLimit');
          return {
            data: [
              pick(
                {
                  quota_usage: publishedInWindow(userId),
                  config: { quota_total: THREADS_QUOTA, quota_duration: DAY_SECONDS },
                  delete_quota_usage: deletedInWindow(userId),
                  delete_config: { quota_total: THREADS_DELETE_QUOTA, quota_duration: DAY_SECONDS },
                },
                fields,
              ),
            ],
          };
        }
        case 'insights': {
          validate(params, THREADS_SPECS['GET insights']!);
          const post = threads.find((t) => t.id === id);
          if (!post || post.userId !== token.subject) throw unknownObject(id, 'get');
          const metrics = list(params.metric);
          for (const metric of metrics)
            if (!THREADS_METRICS.includes(metric))
              throw fail(100, `(#100) The value must be a valid insights metric: ${metric}`);
          const values = insights.get(id) ?? {};
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

  /**
   * DELETE /{threads-media-id}: the author's own thread, with threads_delete granted, at most 100 a
   * day per account (throttled as Graph throttles, code 613). A thread that is gone is error 100/33.
   */
  server.app.delete(
    '/:id',
    handle(async (request, params) => {
      validate(params, THREADS_SPECS['DELETE node']!);
      const token = tokenOf(request, params, tokens);
      const { id } = request.params as { id: string };
      if (!(permissions.get(token.subject) ?? []).includes('threads_delete'))
        throw fail(10, '(#10) Application does not have permission for this action', {
          type: 'OAuthException',
        });
      const index = threads.findIndex((t) => t.id === id && t.userId === token.subject);
      if (index < 0) throw unknownObject(id, 'delete');
      if (deletedInWindow(token.subject) >= THREADS_DELETE_QUOTA)
        throw fail(613, '(#613) Calls to this api have exceeded the rate limit.', { is_transient: true });
      threads.splice(index, 1);
      deletes.push({ userId: token.subject, at: Date.now() });
      deleted.push(id);
      return { success: true, deleted_id: id };
    }),
  );

  /** The token's user reposts a thread: a REPOST_FACADE on its profile whose reposted_post is the original. */
  const repost = (token: Token, mediaId: string, params: Record<string, unknown>) => {
    validate(params, THREADS_SPECS['POST repost']!);
    const original = threads.find((t) => t.id === mediaId && t.mediaType !== 'REPOST_FACADE');
    if (!original) throw unknownObject(mediaId, 'post');
    const post: ThreadsPost = {
      id: objectId(),
      userId: token.subject,
      mediaType: 'REPOST_FACADE',
      text: '',
      linkAttachment: null,
      altTexts: [],
      children: 0,
      permalink: `https://www.threads.net/@${users.get(token.subject)!.username}/post/${shortcode()}`,
      createdAt: Date.now(),
      repostedPost: original.id,
    };
    threads.push(post);
    return { id: post.id };
  };

  server.app.post(
    '/:id/:edge',
    handle(async (request, params) => {
      const { id, edge } = request.params as { id: string; edge: string };
      const token = tokenOf(request, params, tokens);
      if (edge === 'repost') return repost(token, id, params);
      const userId = ownUser(token, id);
      switch (edge) {
        case 'threads': {
          validate(params, THREADS_SPECS['POST threads']!);
          const type = String(params.media_type);
          const text = String(params.text ?? '');
          const carouselItem = bool(params.is_carousel_item);
          if ([...text].length > THREADS_TEXT_MAX)
            throw fail(100, `Param text must be at most ${THREADS_TEXT_MAX} characters long.`, {
              error_subcode: 4279009,
            });
          const container = {
            id: objectId(),
            owner: userId,
            mediaType: type,
            carouselItem,
            children: [] as string[],
            caption: '',
            text,
            link: (params.link_attachment as string | undefined) ?? null,
            altText: (params.alt_text as string | undefined) ?? null,
            polls: 0,
            failed: null as string | null,
            published: false,
          };
          if (type === 'TEXT') {
            if (!text) throw fail(100, '(#100) The parameter text is required for TEXT posts');
          } else if (type === 'IMAGE') {
            if (!params.image_url) throw fail(100, '(#100) The parameter image_url is required');
            if (!isImage(await fetchMedia(params.image_url))) container.failed = 'FAILED_DOWNLOADING_IMAGE';
          } else if (type === 'VIDEO') {
            if (!params.video_url) throw fail(100, '(#100) The parameter video_url is required');
            if (!isVideo(await fetchMedia(params.video_url))) container.failed = 'FAILED_DOWNLOADING_VIDEO';
          } else if (type === 'CAROUSEL') {
            const children = list(params.children);
            if (children.length < 2 || children.length > 20)
              throw fail(100, '(#100) A carousel has between 2 and 20 children');
            for (const childId of children) {
              const child = containers.get(childId);
              if (!child || child.owner !== userId || !child.carouselItem)
                throw fail(100, `(#100) Invalid carousel child ${childId}`);
              if (containerStatus(child, pollsUntilFinished) !== 'FINISHED')
                throw fail(24, 'The requested resource does not exist or is not ready', {
                  error_subcode: 4279009,
                });
            }
            container.children = children;
          } else throw fail(100, '(#100) Param media_type must be one of {TEXT, IMAGE, VIDEO, CAROUSEL}');
          if (type !== 'TEXT' && type !== 'CAROUSEL' && params.link_attachment)
            throw fail(100, '(#100) link_attachment is only available for TEXT posts');
          containers.set(container.id, container);
          return { id: container.id };
        }
        case 'threads_publish': {
          validate(params, THREADS_SPECS['POST threads_publish']!);
          const container = containers.get(String(params.creation_id));
          if (!container || container.owner !== userId || container.carouselItem)
            throw fail(100, '(#100) Invalid parameter creation_id');
          if (container.published) throw fail(100, '(#100) The container was already published');
          if (containerStatus(container, pollsUntilFinished) !== 'FINISHED')
            throw fail(24, 'The requested resource does not exist or is not ready', {
              error_subcode: 4279009,
            });
          if (publishedInWindow(userId) >= THREADS_QUOTA)
            throw fail(9, 'You have reached the maximum number of posts allowed in 24 hours.', {
              error_subcode: 2207042,
            });
          container.published = true;
          const post: ThreadsPost = {
            id: objectId(),
            userId,
            mediaType:
              container.mediaType === 'TEXT'
                ? 'TEXT_POST'
                : container.mediaType === 'CAROUSEL'
                  ? 'CAROUSEL_ALBUM'
                  : (container.mediaType as 'IMAGE' | 'VIDEO'),
            text: container.text,
            linkAttachment: container.link,
            altTexts: [container, ...container.children.map((c) => containers.get(c)!)]
              .map((c) => c.altText)
              .filter((a): a is string => !!a),
            children: container.children.length,
            permalink: `https://www.threads.net/@${users.get(userId)!.username}/post/${shortcode()}`,
            createdAt: Date.now(),
          };
          threads.push(post);
          return { id: post.id };
        }
        default:
          throw fail(100, `(#100) Unknown path components: /${edge}`);
      }
    }),
  );

  const fake: ThreadsFake = {
    server,
    url: '',
    createUser(username, options = {}) {
      const id = userSeq();
      users.set(id, { id, username });
      permissions.set(id, options.permissions ?? THREADS_PERMISSIONS);
      return { userId: id, token: issueToken(id) };
    },
    expireToken(value) {
      const token = tokens.get(value);
      if (token) token.expired = true;
    },
    tokenValid: (value) => tokens.has(value) && !tokens.get(value)!.expired,
    deleted,
    threads: (userId) => threads.filter((t) => t.userId === userId),
    seedThread(userId, seed) {
      const post: ThreadsPost = {
        id: objectId(),
        userId,
        mediaType: 'TEXT_POST',
        text: seed.text,
        linkAttachment: null,
        altTexts: [],
        children: 0,
        permalink: `https://www.threads.net/@${users.get(userId)!.username}/post/${shortcode()}`,
        createdAt: seed.createdAt,
      };
      threads.push(post);
      return post;
    },
    postThread(userId, seed) {
      const files = (seed.media ?? []).map((medium) => cdn.add(medium));
      const post: ThreadsPost = {
        id: objectId(),
        userId,
        mediaType: seed.reposting
          ? 'REPOST_FACADE'
          : files.length > 1
            ? 'CAROUSEL_ALBUM'
            : files[0]?.kind === 'video'
              ? 'VIDEO'
              : files.length === 1
                ? 'IMAGE'
                : 'TEXT_POST',
        text: seed.text,
        linkAttachment: null,
        altTexts: files.map((file) => file.altText ?? ''),
        children: files.length > 1 ? files.length : 0,
        permalink: `https://www.threads.net/@${users.get(userId)!.username}/post/${shortcode()}`,
        createdAt: seed.createdAt ?? Date.now(),
        files,
        ...(seed.quoting ? { quotedPost: seed.quoting } : {}),
        ...(seed.reposting ? { repostedPost: seed.reposting } : {}),
        ...(seed.replyingTo ? { repliedTo: seed.replyingTo } : {}),
      };
      threads.push(post);
      return post;
    },
    deleteThread(id) {
      const index = threads.findIndex((t) => t.id === id);
      if (index >= 0) threads.splice(index, 1);
    },
    dropFile: (url) => cdn.drop(url),
    setEngagement(id, values) {
      insights.set(id, values);
    },
    async start() {
      fake.url = await server.start();
      return fake.url;
    },
    stop: () => server.stop(),
  };
  return fake;
}
