import type { PressItem, PressUnit } from '../../services/press';
import { safeHref } from '../components';
import { messagesFor } from '../i18n/index';

/**
 * The press room as RSS 2.0 (media as enclosures) and as JSON Feed 1.1 (media as attachments). Both
 * are in Indonesian, like the press room's default.
 */

const t = messagesFor('id');

/** Code points XML 1.0 does not allow at all (most C0 controls, U+FFFE, U+FFFF). */
const allowedInXml = (code: number) =>
  code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code !== 0xfffe && code !== 0xffff);

const xml = (text: string) =>
  Array.from(text)
    .filter((char) => allowedInXml(char.codePointAt(0)!))
    .join('')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');

/** What a feed says of an item: its text, or the retraction notice in place of a retracted post's text. */
const feedText = (item: PressItem) =>
  item.retractionReason === null ? item.text : t.press.retractedBecause(item.retractionReason);

const titleOf = (item: PressItem) => {
  const line =
    feedText(item)
      .split('\n')
      .find((l) => l.trim() !== '') ?? item.unit.name;
  const chars = Array.from(line.trim());
  return chars.length > 90 ? `${chars.slice(0, 90).join('')}…` : chars.join('');
};

export interface FeedSource {
  /** The public URL of Gaung, without a trailing slash. */
  base: string;
  /** The press room's own path: `/press` (national) or `/press/<slug>`. */
  path: string;
  unit: PressUnit;
  national: boolean;
  items: PressItem[];
}

const feedTitle = (source: FeedSource) =>
  source.national ? `Gaung — ${t.press.title}` : `Gaung — ${t.press.titleOf(source.unit.name)}`;
const feedIntro = (source: FeedSource) =>
  source.national ? t.press.intro : t.press.introOf(source.unit.name);
const itemPage = (source: FeedSource, item: PressItem) => `${source.base}${source.path}#post-${item.postId}`;

export function rssFeed(source: FeedSource): string {
  const { base, items } = source;
  const entries = items.map((item) => {
    const link = safeHref(item.links[0]?.url) ?? itemPage(source, item);
    return [
      '<item>',
      `<title>${xml(titleOf(item))}</title>`,
      `<link>${xml(link)}</link>`,
      `<guid isPermaLink="false">${xml(`gaung:post:${item.postId}`)}</guid>`,
      `<pubDate>${item.publishedAt.toUTCString()}</pubDate>`,
      `<category>${xml(item.unit.name)}</category>`,
      `<description>${xml(feedText(item))}</description>`,
      // RSS 2.0 allows one enclosure per item: the first medium; the JSON Feed lists them all.
      ...item.media
        .slice(0, 1)
        .map(
          (medium) =>
            `<enclosure url="${xml(`${base}${medium.path}`)}" length="${medium.bytes}" type="${xml(medium.mime)}"/>`,
        ),
      '</item>',
    ].join('');
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
    '<channel>',
    `<title>${xml(feedTitle(source))}</title>`,
    `<link>${xml(`${base}${source.path}`)}</link>`,
    `<description>${xml(feedIntro(source))}</description>`,
    '<language>id</language>',
    `<atom:link href="${xml(`${base}${source.path}/feed.xml`)}" rel="self" type="application/rss+xml"/>`,
    ...(items[0] ? [`<lastBuildDate>${items[0].publishedAt.toUTCString()}</lastBuildDate>`] : []),
    ...entries,
    '</channel>',
    '</rss>',
  ].join('\n');
}

export function jsonFeed(source: FeedSource): Record<string, unknown> {
  const { base } = source;
  return {
    version: 'https://jsonfeed.org/version/1.1',
    title: feedTitle(source),
    home_page_url: `${base}${source.path}`,
    feed_url: `${base}${source.path}/feed.json`,
    description: feedIntro(source),
    language: 'id',
    items: source.items.map((item) => {
      const external = safeHref(item.links[0]?.url);
      return {
        id: `gaung:post:${item.postId}`,
        url: itemPage(source, item),
        ...(external ? { external_url: external } : {}),
        title: titleOf(item),
        content_text: feedText(item),
        date_published: item.publishedAt.toISOString(),
        authors: [{ name: item.unit.name, url: `${base}/press/${item.unit.slug}` }],
        tags: item.tags,
        ...(item.media.length
          ? {
              attachments: item.media.map((medium) => ({
                url: `${base}${medium.path}`,
                mime_type: medium.mime,
                title: medium.fileName,
                size_in_bytes: medium.bytes,
              })),
            }
          : {}),
        _gaung: {
          office: item.unit.name,
          links: item.links.flatMap((link) => {
            const url = safeHref(link.url);
            return url ? [{ channel: link.channelName, platform: link.platform, url }] : [];
          }),
        },
      };
    }),
  };
}
