import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { fileTypeFromBuffer } from 'file-type';
import type { FakeServer, Fault } from '../harness';

/**
 * What the fake Meta APIs share: Graph-shaped errors (an expired token gets Graph's real
 * OAuthException 190/463) and `graphThrottleFault` for Meta's throttling answers (error code +
 * usage headers); the parameter and field checks (an unknown parameter or field is refused with
 * error 100, a missing required one too); access tokens; a CDN for source media; media downloads
 * from the URLs the fakes are given (as Meta does); media containers run through
 * IN_PROGRESS → FINISHED.
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

export const fail = (
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

export interface EndpointSpec {
  params: Record<string, ParamType>;
  required?: string[];
}

/** Query string and body together, as the Graph API reads them. */
export function paramsOf(request: FastifyRequest): Record<string, unknown> {
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

export function validate(params: Record<string, unknown>, spec: EndpointSpec): void {
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

export const bool = (value: unknown) => value === true || value === 'true';
export const list = (value: unknown) =>
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
  /** Who posted (a post's `from`): a Page, user, group or event, by id and name. */
  Profile: ['id', 'name'],
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
  from: 'Profile',
};

export function checkFields(fields: unknown, type: NodeType): string[] {
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

export function pick(node: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) if (node[field] !== undefined) out[field] = node[field];
  return out;
}

/** The fields a `name{…}` part of a field list asks of a nested edge; `['id']` when it names none. */
export function nestedFields(fields: unknown, name: string): string[] {
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
export function createCdn(server: FakeServer) {
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
export function timePage<T extends { createdAt: number }>(
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

export const graphTimestamp = (at: number) => new Date(at).toISOString().replace(/\.\d{3}Z$/, '+0000');

export interface Token {
  value: string;
  /** The id of the user, page or Threads user it acts as. */
  subject: string;
  kind: 'user' | 'long-lived-user' | 'page' | 'threads';
  expired: boolean;
}

export function tokenOf(
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

export const unknownObject = (id: string, method: string) =>
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
export async function fetchMedia(url: unknown): Promise<MediaCheck> {
  try {
    const response = await fetch(String(url), { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return { ok: false, mime: null };
    const type = await fileTypeFromBuffer(new Uint8Array(await response.arrayBuffer()));
    return { ok: true, mime: type?.mime ?? null };
  } catch {
    return { ok: false, mime: null };
  }
}

export const isImage = (check: MediaCheck) =>
  check.ok && /^image\/(jpeg|png|gif|webp)$/.test(check.mime ?? '');
export const isVideo = (check: MediaCheck) => check.ok && /^video\/(mp4|quicktime)$/.test(check.mime ?? '');

export function newId(prefix: string): () => string {
  let counter = 0;
  return () => `${prefix}${String(++counter).padStart(10, '0')}`;
}

export const shortcode = () => randomBytes(8).toString('base64url').slice(0, 11);

export function sendGraph(reply: FastifyReply, error: unknown) {
  if (error instanceof GraphFailure) return reply.code(error.status).send(error.body);
  throw error;
}

export interface ContainerState {
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
export function containerStatus(
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

/** The publishing quotas' window: 24 hours. */
export const DAY_SECONDS = 86_400;
