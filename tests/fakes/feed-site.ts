import { createFakeServer, type FakeServer, type Fault } from './harness';
import { looksLike } from './x';

/**
 * A fake office website for ingest: RSS 2.0 and Atom documents built from the items a test adds
 * (newest first, with the namespaces real sites use: content, atom, media, dc), the pictures and
 * videos those items carry served by the same site, redirects, plain pages, and the harness's
 * faults (errors, 429 with Retry-After, slow answers, dropped connections). RSS has no formal
 * schema; the documents follow what WordPress, Blogger and YouTube publish: RSS descriptions as
 * CDATA HTML, Atom summaries as escaped HTML, RFC 822 dates with the office's UTC offset in RSS and
 * RFC 3339 dates in Atom.
 */

export interface FeedSiteMedia {
  bytes: Buffer;
  /** Content type; sniffed from the bytes when not given. */
  type?: string;
  /** Alt text, written as media:description. */
  description?: string;
  /**
   * How the item carries it: an RSS enclosure (an Atom `link rel="enclosure"`), a `media:content`,
   * or a `media:content` inside a `media:group` (YouTube). Default `media:content`.
   */
  as?: 'enclosure' | 'media:content' | 'media:group';
}

export interface FeedSiteItem {
  /** Plain text; escaped in the document. */
  title?: string;
  /** A path on the site or an absolute URL, written as given. Default: an article path on the site. */
  link?: string;
  /** The RSS guid or Atom id. Default: the link (RSS guids then marked isPermaLink). */
  id?: string;
  published?: Date;
  /** Atom's updated date (RSS has none). Default: the published date, else the time the item was added. */
  updated?: Date;
  /** HTML: the RSS description, the Atom summary. */
  summary?: string;
  /** HTML: the RSS content:encoded, the Atom content. */
  content?: string;
  media?: FeedSiteMedia[];
}

export interface FeedSiteFeed {
  /** The feed's absolute URL. */
  url: string;
  /** Adds an item (it becomes the newest); returns the absolute URLs of its link and media. */
  add(item: FeedSiteItem): { link: string; media: string[] };
}

export interface FeedSite {
  server: FakeServer;
  url: string;
  start(): Promise<string>;
  stop(): Promise<void>;
  /** Serves a feed at `path`, regenerated on every request from the items added so far. */
  feed(path: string, options: { format: 'rss' | 'atom'; title: string }): FeedSiteFeed;
  /** Answers `from` with a redirect to `to` (a path, written as a relative Location, or an absolute URL). */
  redirect(from: string, to: string, status?: 301 | 302 | 303 | 307 | 308): void;
  /** Answers `path` with this body, as a web server would a static file. */
  serve(path: string, body: string | Buffer, contentType: string): void;
  /** A 429 as web servers and CDNs send it: Retry-After in seconds and a small HTML page. */
  tooManyRequests(retryAfterSeconds: number): Fault;
}

/** The offices' clocks run on WIB, UTC+7; dates are written in it. */
const WIB_MS = 7 * 60 * 60_000;
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MEDIA_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'video/mp4'];

const escapeXml = (value: string) =>
  value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');

/** A CDATA section; a `]]>` inside is split across two sections. */
const cdata = (value: string) => `<![CDATA[${value.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;

/** RFC 822 as RSS writes it: `Tue, 01 Oct 2024 16:00:00 +0700`. */
function rfc822(date: Date): string {
  const d = new Date(date.getTime() + WIB_MS);
  const day = String(d.getUTCDate()).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${day} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${d.toISOString().slice(11, 19)} +0700`;
}

/** RFC 3339 as Atom writes it: `2024-10-01T16:00:00+07:00`. */
function rfc3339(date: Date): string {
  return `${new Date(date.getTime() + WIB_MS).toISOString().slice(0, 19)}+07:00`;
}

interface StoredMedia {
  url: string;
  type: string;
  length: number;
  description?: string;
  as: NonNullable<FeedSiteMedia['as']>;
}

type StoredItem = Omit<FeedSiteItem, 'media'> & { link: string; updated: Date; media: StoredMedia[] };

export function createFeedSite(): FeedSite {
  const server = createFakeServer();
  const { app } = server;
  /** What each path answers; feeds are rendered when asked for. */
  const files = new Map<string, { body: string | Buffer | (() => string); type: string }>();
  const redirects = new Map<string, { to: string; status: number }>();
  let counter = 0;

  const absolute = (pathOrUrl: string) => new URL(pathOrUrl, server.url).toString();

  app.setNotFoundHandler((_request, reply) =>
    reply
      .code(404)
      .type('text/html; charset=utf-8')
      .send('<!DOCTYPE html><title>404 Not Found</title><h1>Not Found</h1>'),
  );

  app.get('/*', async (request, reply) => {
    const path = request.url.split('?')[0]!;
    const redirect = redirects.get(path);
    if (redirect)
      return reply
        .code(redirect.status)
        .header('location', redirect.to)
        .type('text/html; charset=utf-8')
        .send(`<!DOCTYPE html><title>Moved</title><a href="${escapeXml(redirect.to)}">Moved</a>`);
    const file = files.get(path);
    if (!file) return reply.callNotFound();
    return reply.type(file.type).send(typeof file.body === 'function' ? file.body() : file.body);
  });

  const rssItem = (item: StoredItem) => {
    const guid = item.id ?? item.link;
    const lines = [
      item.title !== undefined ? `<title>${escapeXml(item.title)}</title>` : '',
      `<link>${escapeXml(item.link)}</link>`,
      `<guid isPermaLink="${item.id === undefined}">${escapeXml(guid)}</guid>`,
      item.published ? `<pubDate>${rfc822(item.published)}</pubDate>` : '',
      '<dc:creator><![CDATA[Humas]]></dc:creator>',
      '<category><![CDATA[Berita]]></category>',
      item.summary !== undefined ? `<description>${cdata(item.summary)}</description>` : '',
      item.content !== undefined ? `<content:encoded>${cdata(item.content)}</content:encoded>` : '',
      ...item.media.map((m) => {
        if (m.as === 'enclosure')
          return `<enclosure url="${escapeXml(m.url)}" length="${m.length}" type="${m.type}" />`;
        const content = mediaContent(m);
        return m.as === 'media:group' ? `<media:group>${content}</media:group>` : content;
      }),
    ];
    return `<item>\n${lines
      .filter(Boolean)
      .map((line) => `  ${line}`)
      .join('\n')}\n</item>`;
  };

  const atomEntry = (item: StoredItem) => {
    const lines = [
      `<title type="text">${escapeXml(item.title ?? '')}</title>`,
      `<link rel="alternate" type="text/html" href="${escapeXml(item.link)}" />`,
      `<id>${escapeXml(item.id ?? item.link)}</id>`,
      item.published ? `<published>${rfc3339(item.published)}</published>` : '',
      `<updated>${rfc3339(item.updated)}</updated>`,
      '<author><name>Humas</name></author>',
      item.summary !== undefined ? `<summary type="html">${escapeXml(item.summary)}</summary>` : '',
      item.content !== undefined ? `<content type="html">${escapeXml(item.content)}</content>` : '',
      ...item.media.map((m) => {
        if (m.as === 'enclosure')
          return `<link rel="enclosure" type="${m.type}" length="${m.length}" href="${escapeXml(m.url)}" />`;
        const content = mediaContent(m);
        return m.as === 'media:group' ? `<media:group>${content}</media:group>` : content;
      }),
    ];
    return `<entry>\n${lines
      .filter(Boolean)
      .map((line) => `  ${line}`)
      .join('\n')}\n</entry>`;
  };

  const mediaContent = (m: StoredMedia) => {
    const medium = m.type.startsWith('video/') ? 'video' : 'image';
    const description =
      m.description !== undefined
        ? `<media:description type="plain">${escapeXml(m.description)}</media:description>`
        : '';
    return `<media:content url="${escapeXml(m.url)}" type="${m.type}" medium="${medium}" fileSize="${m.length}">${description}</media:content>`;
  };

  const site: FeedSite = {
    server,
    get url() {
      return server.url;
    },
    start: () => server.start(),
    stop: () => server.stop(),
    feed(path, { format, title }) {
      const items: StoredItem[] = [];
      const home = () => `${server.url}/`;
      files.set(path, {
        type: format === 'rss' ? 'application/rss+xml; charset=utf-8' : 'application/atom+xml; charset=utf-8',
        body: () => {
          const newest = [...items].reverse();
          const updated = newest[0]?.updated ?? new Date(0);
          return format === 'rss'
            ? [
                '<?xml version="1.0" encoding="UTF-8"?>',
                '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/" xmlns:dc="http://purl.org/dc/elements/1.1/">',
                '<channel>',
                `<title>${escapeXml(title)}</title>`,
                `<atom:link href="${escapeXml(absolute(path))}" rel="self" type="application/rss+xml" />`,
                `<link>${home()}</link>`,
                '<description>Berita dan pengumuman</description>',
                `<lastBuildDate>${rfc822(updated)}</lastBuildDate>`,
                '<language>id-ID</language>',
                ...newest.map(rssItem),
                '</channel>',
                '</rss>',
              ].join('\n')
            : [
                '<?xml version="1.0" encoding="UTF-8"?>',
                '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/" xml:lang="id">',
                `<title type="text">${escapeXml(title)}</title>`,
                `<link rel="self" type="application/atom+xml" href="${escapeXml(absolute(path))}" />`,
                `<link rel="alternate" type="text/html" href="${home()}" />`,
                `<id>${escapeXml(absolute(path))}</id>`,
                `<updated>${rfc3339(updated)}</updated>`,
                ...newest.map(atomEntry),
                '</feed>',
              ].join('\n');
        },
      });
      return {
        url: absolute(path),
        add(item) {
          counter += 1;
          const stored: StoredItem = {
            ...item,
            link: item.link ?? `${server.url}/berita/${counter}`,
            updated: item.updated ?? item.published ?? new Date(),
            media: (item.media ?? []).map((m, index) => {
              const type =
                m.type ?? MEDIA_TYPES.find((t) => looksLike(t, m.bytes)) ?? 'application/octet-stream';
              const filePath = `/wp-content/uploads/${counter}-${index}.${type.split('/')[1]}`;
              files.set(filePath, { body: m.bytes, type });
              return {
                url: absolute(filePath),
                type,
                length: m.bytes.length,
                description: m.description,
                as: m.as ?? 'media:content',
              };
            }),
          };
          items.push(stored);
          return { link: absolute(stored.link), media: stored.media.map((m) => m.url) };
        },
      };
    },
    redirect(from, to, status = 301) {
      redirects.set(from, { to, status });
    },
    serve(path, body, contentType) {
      files.set(path, { body, type: contentType });
    },
    tooManyRequests(retryAfterSeconds) {
      return {
        kind: 'respond',
        status: 429,
        headers: { 'content-type': 'text/html; charset=utf-8', 'retry-after': String(retryAfterSeconds) },
        body: '<!DOCTYPE html><title>429 Too Many Requests</title><h1>Too Many Requests</h1>',
      };
    },
  };
  return site;
}
