import type { ClientRequest } from 'node:http';
import type { Readable } from 'node:stream';
import { type AxiosResponse, isAxiosError } from 'axios';
import type { SourceKind } from '../domain/vocabulary';
import { lazyRequire } from '../infra/lazy-require';
import { RequestThread, type ThreadError } from '../infra/threads';
import { createHttpClient, InternalAddressError, internalUrlProblem, retryAfter } from './http';
import { decodeEntities } from './shared';
import type { NetworkReach, PlatformContext, PostOrigin, SourceItem, SourceReader } from './types';

/** The source kinds read as web feeds: an RSS/Atom document, or a public Mastodon account's statuses. */
export const FEED_KINDS = ['rss', 'mastodon'] as const satisfies readonly SourceKind[];
export type FeedKind = (typeof FEED_KINDS)[number];

/**
 * Reading the offices' own accounts for ingest: an RSS or Atom feed (the office's website, blog or
 * video channel) or a public Mastodon account. Readers return items as they are; deciding what is
 * new and turning items into posts is the ingest service's work. Nothing here needs credentials.
 */

export interface FeedMedia {
  url: string;
  kind: 'image' | 'video';
  altText: string;
}

export interface FeedItem {
  /** Stable per feed: the RSS guid, the Atom id, the Mastodon status id. */
  key: string;
  /** Where the item lives on the office's account: the post's source URL. */
  url: string | null;
  publishedAt: Date | null;
  text: string;
  media: FeedMedia[];
}

export interface FeedSnapshot {
  title: string | null;
  items: FeedItem[];
}

/** What is needed to read a feed again: its address and, for Mastodon, the account id found at setup. */
export interface FeedAddress {
  kind: FeedKind;
  url: string;
  accountId: string | null;
}

export interface FeedReadOptions {
  reach: NetworkReach;
  signal?: AbortSignal;
}

/** A feed that could not be read; `retryable` when trying again later may help (network, 5xx, 429). */
export class FeedError extends Error {
  /** When the site asked to be read again (Retry-After of a 429 or 503). */
  readonly retryAt: Date | null;
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown; retryAt?: Date | null },
  ) {
    super(message, options);
    this.retryAt = options?.retryAt ?? null;
    this.name = this.constructor.name;
  }
}

/** Feeds larger than this are refused: a feed is a page of recent items, not an archive. */
export const FEED_MAX_BYTES = 5 * 1024 * 1024;
/** The most items read from one feed per poll (newest first). */
export const FEED_MAX_ITEMS = 40;
/** The most media taken from one item. */
export const FEED_MAX_MEDIA = 4;
const MAX_REDIRECTS = 3;
const TIMEOUT_MS = 20_000;

/**
 * GETs a URL, following up to three redirects itself so that each hop is checked against the reach
 * (the client refuses redirects, and an address written as an IP is never looked up in DNS).
 */
async function get<T>(
  url: string,
  options: FeedReadOptions & {
    responseType: 'text' | 'json' | 'stream';
    maxBytes?: number;
    /** Sent to the first address's origin only: a redirect elsewhere never carries them. */
    headers?: Record<string, string>;
  },
): Promise<AxiosResponse<T>> {
  let target = url;
  const origin = new URL(url).origin;
  for (let hop = 0; ; hop += 1) {
    if (options.reach === 'public') {
      const problem = internalUrlProblem(target);
      if (problem)
        throw new FeedError(
          `${new URL(target).hostname} ${problem}; Gaung reads only public addresses`,
          false,
        );
    }
    let response: AxiosResponse<T>;
    try {
      response = await createHttpClient(target, {
        reach: options.reach,
        signal: options.signal,
        timeoutMs: TIMEOUT_MS,
      }).get<T>('', {
        responseType: options.responseType,
        maxContentLength: options.maxBytes ?? FEED_MAX_BYTES,
        validateStatus: () => true,
        headers: {
          accept: options.responseType === 'json' ? 'application/json' : '*/*',
          ...(options.headers && new URL(target).origin === origin ? options.headers : {}),
        },
      });
    } catch (error) {
      throw transportError(target, error);
    }
    if (options.responseType === 'stream') {
      // Closing axios's stream leaves the answer under it unread and its socket busy (a shared
      // keep-alive agent then runs out of sockets for the host): close the connection with it.
      // After a complete read the socket is already back in the pool and this does nothing.
      const request = response.request as ClientRequest;
      (response.data as Readable).once('close', () => request.destroy());
    }
    const location = response.headers.location as string | undefined;
    if (response.status >= 300 && response.status < 400 && location) {
      if (options.responseType === 'stream') (response.data as Readable).destroy();
      if (hop >= MAX_REDIRECTS)
        throw new FeedError(`${url} redirects more than ${MAX_REDIRECTS} times`, false);
      target = new URL(location, target).toString();
      if (!/^https?:$/.test(new URL(target).protocol))
        throw new FeedError(`${url} redirects to a non-HTTP address`, false);
      continue;
    }
    if (response.status >= 200 && response.status < 300) return response;
    if (options.responseType === 'stream') (response.data as Readable).destroy();
    const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
    throw new FeedError(`${target} answered HTTP ${response.status}`, retryable, {
      retryAt: retryAfter(response.headers['retry-after'] as string | undefined),
    });
  }
}

function transportError(url: string, error: unknown): FeedError {
  if (error instanceof FeedError) return error;
  const cause = isAxiosError(error) ? error.cause : error;
  if (error instanceof InternalAddressError || cause instanceof InternalAddressError)
    return new FeedError((cause as Error).message, false, { cause: error });
  const message = isAxiosError(error) ? (error.code ?? error.message) : String(error);
  if (/maxContentLength/i.test(String((error as Error)?.message)))
    return new FeedError(`${url} is larger than ${FEED_MAX_BYTES / 1024 / 1024} MB`, false, { cause: error });
  return new FeedError(`${url} could not be read (${message})`, true, { cause: error });
}

// ---------------------------------------------------------------------------------------------
// Text

/**
 * The most HTML read from one field. A post body holds 10,000 characters and a summary 1,000, so
 * nothing beyond this could reach a post; bounding it first keeps a hostile feed from costing more.
 */
export const HTML_MAX_CHARS = 100_000;

const BLOCK_ENDS = new Set(['p', 'div', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote']);
const TAG_NAME = /\/?([A-Za-z][A-Za-z0-9]*)/y;

/**
 * Plain text from a fragment of HTML: paragraphs and line breaks kept, tags, scripts and styles
 * dropped, entities decoded. One forward scan with `indexOf`, so its time grows with the input's
 * length whatever the input is (a run of `<`, unclosed `<script`), never with its square.
 */
export function htmlToText(html: string): string {
  const source = html.length > HTML_MAX_CHARS ? html.slice(0, HTML_MAX_CHARS) : html;
  const parts: string[] = [];
  let at = 0;
  while (at < source.length) {
    const open = source.indexOf('<', at);
    if (open < 0) {
      parts.push(source.slice(at));
      break;
    }
    parts.push(source.slice(at, open));
    const close = source.indexOf('>', open + 1);
    // A `<` that never closes is text, as before; nothing after it can be a tag either.
    if (close < 0) {
      parts.push(source.slice(open));
      break;
    }
    TAG_NAME.lastIndex = open + 1;
    const name = TAG_NAME.exec(source)?.[1]?.toLowerCase();
    const closing = source[open + 1] === '/';
    at = close + 1;
    if (!name) continue;
    if (!closing && (name === 'script' || name === 'style')) {
      const end = closingTag(source, name, at);
      if (end < 0) break;
      at = end;
    } else if (!closing && name === 'br') parts.push('\n');
    else if (closing && BLOCK_ENDS.has(name)) parts.push('\n\n');
  }
  return decodeEntities(parts.join(''))
    .replace(/[ \t\u00a0]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Where the text after `</name>` starts, searching from `from`; -1 when the element never closes. */
function closingTag(source: string, name: string, from: number): number {
  const pattern = new RegExp(`</${name}\\s*>`, 'gi');
  pattern.lastIndex = from;
  const found = pattern.exec(source);
  return found ? found.index + found[0].length : -1;
}

/** At most `max` characters, cut at a word and marked with an ellipsis. */
export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

// ---------------------------------------------------------------------------------------------
// RSS and Atom

const fastXmlParser = lazyRequire<typeof import('fast-xml-parser')>('fast-xml-parser');

/**
 * An XML parser for feeds whose `arrayTags` always parse as lists, built on its first use:
 * fast-xml-parser is not loaded at start.
 */
export function lazyFeedParser(arrayTags: readonly string[]): () => import('fast-xml-parser').XMLParser {
  let parser: import('fast-xml-parser').XMLParser | undefined;
  return () => {
    parser ??= new (fastXmlParser().XMLParser)({
      ignoreAttributes: false,
      attributeNamePrefix: '@_',
      textNodeName: '#text',
      parseTagValue: false,
      trimValues: true,
      processEntities: true,
      // One linear pass over each value; DOCTYPE entities are never expanded (no entity bombs), and a
      // reference to no character stays as written instead of throwing.
      entityDecoder: {
        decode: decodeEntities,
        setExternalEntities: () => {},
        addInputEntities: () => {},
        reset: () => {},
        setXmlVersion: () => {},
      },
      isArray: (name) => arrayTags.includes(name),
    });
    return parser;
  };
}

/** The RSS and Atom parser. */
const feedParser = lazyFeedParser([
  'item',
  'entry',
  'link',
  'enclosure',
  'media:content',
  'media:group',
  'category',
]);

type XmlNode = Record<string, unknown>;

/** The text of an element that may carry attributes (`{ '#text': …, '@_type': … }`) or be plain. */
function textOf(node: unknown): string {
  if (node === undefined || node === null) return '';
  if (typeof node === 'string' || typeof node === 'number') return String(node);
  if (Array.isArray(node)) return textOf(node[0]);
  if (typeof node === 'object') return textOf((node as XmlNode)['#text']);
  return '';
}

const attr = (node: unknown, name: string): string | undefined => {
  const value = node && typeof node === 'object' ? (node as XmlNode)[`@_${name}`] : undefined;
  return typeof value === 'string' ? value : undefined;
};

const asArray = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];

function parseDate(value: string): Date | null {
  if (!value) return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time);
}

function absolute(url: string | undefined, base: string): string | null {
  if (!url) return null;
  try {
    const resolved = new URL(url.trim(), base);
    return /^https?:$/.test(resolved.protocol) ? resolved.toString() : null;
  } catch {
    return null;
  }
}

/** Pictures and videos an item carries: enclosures and Media RSS (`media:content`, also inside `media:group`). */
function itemMedia(item: XmlNode, base: string): FeedMedia[] {
  const found: FeedMedia[] = [];
  const add = (
    url: string | undefined,
    type: string | undefined,
    medium: string | undefined,
    alt: string,
  ) => {
    const kind =
      medium === 'image' || type?.startsWith('image/')
        ? 'image'
        : medium === 'video' || type?.startsWith('video/')
          ? 'video'
          : null;
    const resolved = absolute(url, base);
    if (kind && resolved && !found.some((m) => m.url === resolved))
      found.push({ url: resolved, kind, altText: alt });
  };
  for (const enclosure of asArray(item.enclosure))
    add(attr(enclosure, 'url'), attr(enclosure, 'type'), undefined, '');
  const contents = [
    ...asArray(item['media:content']),
    ...asArray(item['media:group']).flatMap((group) => asArray((group as XmlNode)['media:content'])),
  ];
  for (const content of contents) {
    const description = htmlToText(textOf((content as XmlNode)['media:description']));
    add(attr(content, 'url'), attr(content, 'type'), attr(content, 'medium'), description);
  }
  return found.slice(0, FEED_MAX_MEDIA);
}

/** The body of an item: its title, then its summary as plain text (the article itself stays on the site). */
function itemText(title: string, html: string): string {
  const summary = shorten(htmlToText(html), 1_000);
  const heading = htmlToText(title);
  if (!heading) return summary;
  if (!summary) return heading;
  // Some sites open the summary with the title itself: keep it once.
  if (summary.startsWith(heading) && /^(\s|[.,:;!?…-]|$)/u.test(summary.slice(heading.length)))
    return summary;
  return `${heading}\n\n${summary}`;
}

/** A FeedError for anything reading a document threw, so the failure is kept on the feed and shown. */
function asFeedError(base: string, error: unknown): FeedError {
  if (error instanceof FeedError) return error;
  return new FeedError(`${base} could not be read as a feed (${(error as Error)?.message ?? error})`, false, {
    cause: error,
  });
}

/** Parses an RSS 2.0, RSS 1.0 or Atom document; throws a FeedError when it is none of these. */
export function parseFeedDocument(xml: string, base: string): FeedSnapshot {
  try {
    return parseDocument(xml, base);
  } catch (error) {
    throw asFeedError(base, error);
  }
}

function parseDocument(xml: string, base: string): FeedSnapshot {
  let document: XmlNode;
  try {
    document = feedParser().parse(xml) as XmlNode;
  } catch (error) {
    throw new FeedError(`${base} is not valid XML`, false, { cause: error });
  }
  const rss = document.rss as XmlNode | undefined;
  const rdf = document['rdf:RDF'] as XmlNode | undefined;
  const atom = document.feed as XmlNode | undefined;
  if (rss?.channel || rdf) {
    const channel = ((rss?.channel ?? rdf?.channel) as XmlNode | undefined) ?? {};
    const items = asArray(rss ? channel.item : rdf?.item) as XmlNode[];
    return {
      title: htmlToText(textOf(channel.title)) || null,
      items: items.slice(0, FEED_MAX_ITEMS).flatMap((item) => {
        const url = absolute(textOf(item.link), base);
        const published = parseDate(textOf(item.pubDate) || textOf(item['dc:date']));
        const title = textOf(item.title);
        const key = textOf(item.guid) || url || (title ? `${title}|${published?.toISOString() ?? ''}` : '');
        const text = itemText(
          textOf(item.title),
          textOf(item.description) || textOf(item['content:encoded']),
        );
        return key ? [{ key, url, publishedAt: published, text, media: itemMedia(item, base) }] : [];
      }),
    };
  }
  if (atom) {
    const entries = asArray(atom.entry) as XmlNode[];
    return {
      title: htmlToText(textOf(atom.title)) || null,
      items: entries.slice(0, FEED_MAX_ITEMS).flatMap((entry) => {
        const links = asArray(entry.link);
        const alternate = links.find((link) => (attr(link, 'rel') ?? 'alternate') === 'alternate');
        const url = absolute(attr(alternate, 'href'), base);
        const published = parseDate(textOf(entry.published) || textOf(entry.updated));
        const key = textOf(entry.id) || url;
        const text = itemText(textOf(entry.title), textOf(entry.summary) || textOf(entry.content));
        const media = itemMedia(entry, base);
        for (const link of links)
          if (attr(link, 'rel') === 'enclosure') {
            const type = attr(link, 'type');
            const resolved = absolute(attr(link, 'href'), base);
            const kind = type?.startsWith('image/') ? 'image' : type?.startsWith('video/') ? 'video' : null;
            if (kind && resolved && media.length < FEED_MAX_MEDIA)
              media.push({ url: resolved, kind, altText: '' });
          }
        return key ? [{ key, url, publishedAt: published, text, media }] : [];
      }),
    };
  }
  throw new FeedError(`${base} is not an RSS or Atom feed`, false);
}

/** Documents up to this size are parsed in place; larger ones in the parser thread. */
const PARSE_IN_PLACE_BYTES = 64 * 1024;
/** A parse still running after this long is given up and its thread replaced. */
const PARSE_TIMEOUT_MS = 30_000;

/** The thread that parses large feeds in turn (5 MB of XML take seconds of CPU), ended after a minute without one. */
const parserThread = new RequestThread<{ xml: string; base: string }, FeedSnapshot>(
  'platforms/feed-parse-worker',
  { name: 'the feed parser', timeoutMs: PARSE_TIMEOUT_MS, idleMs: 60_000 },
);

/** Parses a feed document, in the parser thread when it is large. */
export function parseFeed(xml: string, base: string): Promise<FeedSnapshot> {
  if (xml.length <= PARSE_IN_PLACE_BYTES) {
    try {
      return Promise.resolve(parseFeedDocument(xml, base));
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return parserThread.request({ xml, base }, `${base} took too long to read`).catch((error: ThreadError) => {
    throw new FeedError(error.message, error.retryable);
  });
}

async function readRss(url: string, options: FeedReadOptions): Promise<FeedSnapshot> {
  const response = await get<string>(url, { ...options, responseType: 'text' });
  return parseFeed(String(response.data), url);
}

// ---------------------------------------------------------------------------------------------
// Mastodon

interface MastodonAccount {
  id: string;
  display_name?: string;
  username?: string;
}

interface MastodonStatus {
  id: string;
  created_at: string;
  url: string | null;
  uri: string;
  visibility: string;
  content: string;
  spoiler_text: string;
  in_reply_to_id: string | null;
  reblog: unknown;
  media_attachments: { type: string; url: string | null; description: string | null }[];
}

/** The instance and the account name of a profile address: `https://host/@name` or `https://host/users/name`. */
export function mastodonProfile(url: string): { instanceUrl: string; acct: string } | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const match = parsed.pathname.match(/^\/(?:@|users\/)([A-Za-z0-9_]+)\/?$/);
  if (!/^https?:$/.test(parsed.protocol) || !match) return null;
  return { instanceUrl: parsed.origin, acct: match[1]! };
}

async function mastodonJson<T>(url: string, options: FeedReadOptions): Promise<T> {
  return (await get<T>(url, { ...options, responseType: 'json' })).data;
}

/**
 * GET /api/v1/statuses/:id on the account's instance: the status, or 404 ("Record not found") once it
 * was deleted. An RSS feed has no such question: its readers cannot tell.
 */
async function mastodonStatusExists(ctx: PlatformContext, origin: PostOrigin): Promise<boolean> {
  const { url } = ctx.channel.settings as { url?: unknown };
  const profile = typeof url === 'string' ? mastodonProfile(url) : null;
  if (!profile) throw new FeedError('The source has no Mastodon profile address', false);
  try {
    const status = await mastodonJson<{ id?: string }>(
      `${profile.instanceUrl}/api/v1/statuses/${encodeURIComponent(origin.nativeId)}`,
      { reach: ctx.reach, signal: ctx.signal },
    );
    if (status?.id !== origin.nativeId)
      throw new FeedError(`${profile.instanceUrl} did not answer with status ${origin.nativeId}`, true);
    return true;
  } catch (error) {
    if (error instanceof FeedError && /HTTP 404/.test(error.message)) return false;
    throw error;
  }
}

async function readMastodon(address: FeedAddress, options: FeedReadOptions): Promise<FeedSnapshot> {
  const profile = mastodonProfile(address.url);
  if (!profile || !address.accountId)
    throw new FeedError(`${address.url} is not a Mastodon profile address`, false);
  const statuses = await mastodonJson<MastodonStatus[]>(
    `${profile.instanceUrl}/api/v1/accounts/${encodeURIComponent(address.accountId)}/statuses?exclude_replies=true&exclude_reblogs=true&limit=${FEED_MAX_ITEMS}`,
    options,
  );
  if (!Array.isArray(statuses))
    throw new FeedError(`${profile.instanceUrl} did not answer with statuses`, true);
  try {
    return mastodonSnapshot(statuses, profile.instanceUrl);
  } catch (error) {
    throw asFeedError(profile.instanceUrl, error);
  }
}

function mastodonSnapshot(statuses: MastodonStatus[], instanceUrl: string): FeedSnapshot {
  return {
    title: null,
    items: statuses
      .filter(
        (s) => !s.reblog && !s.in_reply_to_id && (s.visibility === 'public' || s.visibility === 'unlisted'),
      )
      .map((status) => {
        const body = htmlToText(status.content ?? '');
        const warning = (status.spoiler_text ?? '').trim();
        return {
          key: status.id,
          url: status.url ?? status.uri,
          publishedAt: parseDate(status.created_at),
          text: warning ? `${warning}\n\n${body}` : body,
          media: (status.media_attachments ?? [])
            .flatMap((m): FeedMedia[] => {
              const kind =
                m.type === 'image' ? 'image' : m.type === 'video' || m.type === 'gifv' ? 'video' : null;
              const url = absolute(m.url ?? undefined, instanceUrl);
              return kind && url ? [{ url, kind, altText: m.description ?? '' }] : [];
            })
            .slice(0, FEED_MAX_MEDIA),
        };
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Entry points

/**
 * Checks a feed address when it is added, and finds what reading it needs: the feed's title, and for
 * Mastodon the account id behind the profile address.
 */
export async function resolveFeed(
  kind: FeedKind,
  url: string,
  options: FeedReadOptions,
): Promise<{ title: string | null; accountId: string | null }> {
  if (kind === 'rss') return { title: (await readRss(url, options)).title, accountId: null };
  const profile = mastodonProfile(url);
  if (!profile) throw new FeedError('A Mastodon profile address looks like https://instance/@name', false);
  const account = await mastodonJson<MastodonAccount>(
    `${profile.instanceUrl}/api/v1/accounts/lookup?acct=${encodeURIComponent(profile.acct)}`,
    options,
  ).catch((error: unknown) => {
    if (error instanceof FeedError && /HTTP 404/.test(error.message))
      throw new FeedError(`There is no account @${profile.acct} on ${profile.instanceUrl}`, false);
    throw error;
  });
  if (!account?.id) throw new FeedError(`${profile.instanceUrl} did not answer with an account`, false);
  return { title: account.display_name || account.username || profile.acct, accountId: String(account.id) };
}

/** The feed's recent items, newest first as the source gives them. */
export function readFeed(address: FeedAddress, options: FeedReadOptions): Promise<FeedSnapshot> {
  return address.kind === 'rss' ? readRss(address.url, options) : readMastodon(address, options);
}

/** Streams one medium of an item; the caller's upload checks decide whether it is acceptable. */
export async function fetchFeedMedia(
  url: string,
  options: FeedReadOptions & { maxBytes: number; headers?: Record<string, string> },
): Promise<Readable> {
  const response = await get<Readable>(url, {
    ...options,
    responseType: 'stream',
    maxBytes: options.maxBytes,
  });
  return response.data;
}

// ---------------------------------------------------------------------------------------------
// As source readers

/** Where a feed source is: its address and, for Mastodon, the account id, from the source's settings. */
function addressOf(kind: FeedKind, ctx: PlatformContext): FeedAddress {
  const { url, accountId } = ctx.channel.settings as { url?: unknown; accountId?: unknown };
  if (typeof url !== 'string') throw new FeedError('The source has no address', false);
  return { kind, url, accountId: typeof accountId === 'string' ? accountId : null };
}

/** A feed item as a source item: its key is the guid, id or status id, its origin the item's address. */
function asSourceItem(kind: FeedKind, item: FeedItem, account: string | null): SourceItem {
  return {
    ...item,
    origin: {
      platform: kind,
      nativeId: item.key,
      url: item.url,
      authorHandle: account,
      publishedAt: (item.publishedAt ?? new Date()).toISOString(),
    },
    kind: 'post',
  };
}

/**
 * A web feed read as a source: the whole document each time (feeds have no cursor); the ingest
 * keeps one post per item by its key. A Mastodon account gives its public statuses, replies and
 * boosts left out.
 */
function feedSourceReader(kind: FeedKind): SourceReader {
  return {
    ...(kind === 'mastodon' ? { originExists: mastodonStatusExists } : {}),
    async readSource(ctx, request) {
      const address = addressOf(kind, ctx);
      const snapshot = await readFeed(address, { reach: ctx.reach, signal: ctx.signal });
      const profile = kind === 'mastodon' ? mastodonProfile(address.url) : null;
      const account = profile ? `@${profile.acct}@${new URL(profile.instanceUrl).host}` : null;
      return {
        items: snapshot.items
          .filter((item) => !item.publishedAt || item.publishedAt >= request.since)
          .slice(0, request.limit)
          .map((item) => asSourceItem(kind, item, account)),
        cursor: null,
        title: snapshot.title,
      };
    },
  };
}

export const rssSource = feedSourceReader('rss');
export const mastodonSource = feedSourceReader('mastodon');
