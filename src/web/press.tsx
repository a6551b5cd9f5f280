import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LOCALES } from '../domain/vocabulary';
import { listPressItems, type PressItem } from '../services/press';
import { ExternalLink, PlatformName, safeHref, Time } from './components';
import { useEnv } from './env';
import { messagesFor } from './i18n/index';
import type { WebOptions } from './kit';
import { Layout } from './layout';

/**
 * The press room for journalists: what Gaung published, newest first, with the office it came from
 * and links to each platform — as a page, as RSS 2.0 and as JSON Feed 1.1. No sign-in; only
 * published deliveries are read.
 */

const PAGE_SIZE = 30;
/** The feeds are in Indonesian, like the press room's default. */
const t = messagesFor('id');
const FEED_SIZE = 50;

function PressPage(props: { items: PressItem[]; nextBefore: Date | null }) {
  const { t } = useEnv();
  return (
    <Layout title={t.press.title}>
      <p class="lead">{t.press.intro}</p>
      <p class="feeds">
        <a href="/press/feed.xml" type="application/rss+xml">
          RSS
        </a>{' '}
        ·{' '}
        <a href="/press/feed.json" type="application/feed+json">
          JSON Feed
        </a>
      </p>
      {props.items.length === 0 ? <p class="empty">{t.press.empty}</p> : null}
      <ol class="list press">
        {props.items.map((item) => (
          <li class="item" id={`post-${item.postId}`}>
            <div class="meta">
              <strong>{item.unit.name}</strong> · <Time at={item.publishedAt} />
            </div>
            {item.retractionReason === null ? (
              <p class="text">{item.text}</p>
            ) : (
              <p class="retracted">
                <span class="badge post-retracted">{t.press.retracted}</span>{' '}
                {t.press.retractedBecause(item.retractionReason)}
              </p>
            )}
            {item.links.length > 0 ? (
              <ul class="bare links">
                {item.links.map((link) => (
                  <li>
                    <PlatformName platform={link.platform} />{' '}
                    <ExternalLink href={link.url}>{link.channelName}</ExternalLink>
                  </li>
                ))}
              </ul>
            ) : null}
          </li>
        ))}
      </ol>
      {props.nextBefore ? (
        <nav class="pager" aria-label={t.common.pages}>
          <a href={`/press?before=${encodeURIComponent(props.nextBefore.toISOString())}`} rel="next">
            {t.common.nextPage}
          </a>
        </nav>
      ) : null}
    </Layout>
  );
}

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

export const pressRoutes: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;
  const base = ctx.config.publicUrl;

  app.get(
    '/press',
    {
      schema: {
        hide: true,
        querystring: z.strictObject({
          before: z.iso.datetime({ offset: true }).optional(),
          lang: z.enum(LOCALES).optional(),
        }),
      },
    },
    async (request, reply) => {
      const page = await listPressItems(ctx, {
        limit: PAGE_SIZE,
        before: request.query.before ? new Date(request.query.before) : undefined,
      });
      const env = await kit.env(request, reply);
      return kit.page(request, reply, env, <PressPage items={page.items} nextBefore={page.nextBefore} />);
    },
  );

  app.get(
    '/press/feed.xml',
    { schema: { hide: true, querystring: z.strictObject({}) } },
    async (_request, reply) => {
      const { items } = await listPressItems(ctx, { limit: FEED_SIZE });
      const entries = items.map((item) => {
        const link = safeHref(item.links[0]?.url) ?? `${base}/press#post-${item.postId}`;
        return [
          '<item>',
          `<title>${xml(titleOf(item))}</title>`,
          `<link>${xml(link)}</link>`,
          `<guid isPermaLink="false">${xml(`gaung:post:${item.postId}`)}</guid>`,
          `<pubDate>${item.publishedAt.toUTCString()}</pubDate>`,
          `<category>${xml(item.unit.name)}</category>`,
          `<description>${xml(feedText(item))}</description>`,
          '</item>',
        ].join('');
      });
      const body = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
        '<channel>',
        `<title>${xml(`Gaung — ${t.press.title}`)}</title>`,
        `<link>${xml(`${base}/press`)}</link>`,
        `<description>${xml(t.press.intro)}</description>`,
        '<language>id</language>',
        `<atom:link href="${xml(`${base}/press/feed.xml`)}" rel="self" type="application/rss+xml"/>`,
        ...(items[0] ? [`<lastBuildDate>${items[0].publishedAt.toUTCString()}</lastBuildDate>`] : []),
        ...entries,
        '</channel>',
        '</rss>',
      ].join('\n');
      return reply
        .type('application/rss+xml; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .send(body);
    },
  );

  app.get(
    '/press/feed.json',
    { schema: { hide: true, querystring: z.strictObject({}) } },
    async (_request, reply) => {
      const { items } = await listPressItems(ctx, { limit: FEED_SIZE });
      const feed = {
        version: 'https://jsonfeed.org/version/1.1',
        title: `Gaung — ${t.press.title}`,
        home_page_url: `${base}/press`,
        feed_url: `${base}/press/feed.json`,
        description: t.press.intro,
        language: 'id',
        items: items.map((item) => ({
          id: `gaung:post:${item.postId}`,
          url: `${base}/press#post-${item.postId}`,
          ...(safeHref(item.links[0]?.url) ? { external_url: safeHref(item.links[0]?.url) } : {}),
          title: titleOf(item),
          content_text: feedText(item),
          date_published: item.publishedAt.toISOString(),
          authors: [{ name: item.unit.name }],
          tags: item.tags,
          _gaung: {
            links: item.links.flatMap((link) => {
              const url = safeHref(link.url);
              return url ? [{ channel: link.channelName, platform: link.platform, url }] : [];
            }),
          },
        })),
      };
      return reply
        .type('application/feed+json; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .send(JSON.stringify(feed));
    },
  );
};
