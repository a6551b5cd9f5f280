import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFoundAt } from '../../domain/errors';
import { LOCALES } from '../../domain/vocabulary';
import {
  listPressItems,
  nationalPressUnit,
  type PressItem,
  type PressUnit,
  pressDownload,
  pressUnitBySlug,
  pressUnitsUnder,
} from '../../services/press';
import { ExternalLink, Pager, PlatformName, Time } from '../components';
import { useEnv } from '../env';
import type { WebOptions } from '../kit';
import { Layout } from '../layout';
import { addDays, formatDate, parseDayKey, startOfDay } from '../time';
import { type FeedSource, jsonFeed, rssFeed } from './feeds';

/**
 * The press room for journalists: what Gaung published, newest first, with the office it came from,
 * links to each platform, media to download and a credit line — as a page (with a search that works
 * without JavaScript), as RSS 2.0 and as JSON Feed 1.1. National at `/press`, per region and office
 * at `/press/<slug>`. No sign-in; only deliveries that went out are read.
 */

const PAGE_SIZE = 30;
const FEED_SIZE = 50;

const dayKey = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .refine((value) => parseDayKey(value) !== null, 'not a calendar day')
  .optional()
  .or(z.literal('').transform(() => undefined));

const pageQuery = z.strictObject({
  q: z.string().max(200).optional(),
  office: z.string().max(60).optional(),
  from: dayKey,
  to: dayKey,
  cursor: z.string().max(200).optional(),
  lang: z.enum(LOCALES).optional(),
});
type PageQuery = z.infer<typeof pageQuery>;

const slugParams = z.strictObject({ slug: z.string().min(1).max(60) });

const bytesLabel = (bytes: number) =>
  bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1000))} kB`;

function CreditLine(props: { item: PressItem; zone: string }) {
  const { t, locale } = useEnv();
  const { item } = props;
  const id = `credit-${item.postId}`;
  return (
    <p class="credit">
      <label for={id}>{t.press.credit}</label>{' '}
      <input
        id={id}
        type="text"
        readonly
        size={60}
        value={t.press.creditLine(
          item.unit.name,
          item.unit.parentName,
          formatDate(item.publishedAt, locale, props.zone),
        )}
      />
    </p>
  );
}

function PressEntry(props: { item: PressItem; zone: string }) {
  const { t } = useEnv();
  const { item } = props;
  return (
    <li class="item" id={`post-${item.postId}`}>
      <div class="meta">
        <a href={`/press/${item.unit.slug}`}>
          <strong>{item.unit.name}</strong>
        </a>{' '}
        · <Time at={item.publishedAt} />
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
      {item.media.length > 0 ? (
        <div class="downloads">
          <strong>{t.press.downloads}</strong> <small>({t.press.originalSize})</small>
          <ul class="bare">
            {item.media.map((medium, index) => (
              <li>
                <a href={medium.path} download={medium.fileName} aria-label={t.press.download(index + 1)}>
                  {medium.fileName}
                </a>{' '}
                <small>
                  {medium.width && medium.height ? `${medium.width}×${medium.height} · ` : ''}
                  {bytesLabel(medium.bytes)}
                  {medium.altText ? ` · ${medium.altText}` : ''}
                </small>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {item.retractionReason === null ? <CreditLine item={item} zone={props.zone} /> : null}
    </li>
  );
}

function PressPage(props: {
  unit: PressUnit;
  national: boolean;
  offices: PressUnit[];
  query: PageQuery;
  items: PressItem[];
  next: string | null;
  demo: boolean;
}) {
  const { t } = useEnv();
  const { unit, query } = props;
  const path = props.national ? '/press' : `/press/${unit.slug}`;
  const searching = Boolean(query.q || query.office || query.from || query.to);
  return (
    <Layout title={props.national ? t.press.title : t.press.titleOf(unit.name)}>
      <p class="lead">{props.national ? t.press.intro : t.press.introOf(unit.name)}</p>
      {props.demo ? <p class="alert demo">{t.press.demo}</p> : null}
      <p class="feeds">
        <a href={`${path}/feed.xml`} type="application/rss+xml">
          RSS
        </a>{' '}
        ·{' '}
        <a href={`${path}/feed.json`} type="application/feed+json">
          JSON Feed
        </a>
      </p>
      <form method="get" action={path} class="filters" aria-label={t.press.search}>
        <div class="field">
          <label for="q">{t.press.words}</label>
          <input id="q" name="q" type="search" maxLength={200} value={query.q ?? ''} />
        </div>
        {props.offices.length > 1 ? (
          <div class="field">
            <label for="office">{t.press.office}</label>
            <select id="office" name="office">
              <option value="">{t.common.all}</option>
              {props.offices.map((office) => (
                <option value={office.slug} selected={office.slug === query.office}>
                  {office.name}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        <div class="field">
          <label for="from">{t.press.from}</label>
          <input id="from" name="from" type="date" value={query.from ?? ''} />
        </div>
        <div class="field">
          <label for="to">{t.press.to}</label>
          <input id="to" name="to" type="date" value={query.to ?? ''} />
        </div>
        <button type="submit">{t.press.searchButton}</button>
      </form>
      {props.items.length === 0 ? <p class="empty">{searching ? t.press.noMatch : t.press.empty}</p> : null}
      <ol class="list press">
        {props.items.map((item) => (
          <PressEntry item={item} zone={unit.timeZone} />
        ))}
      </ol>
      <Pager
        base={path}
        query={{ q: query.q, office: query.office, from: query.from, to: query.to }}
        nextCursor={props.next}
      />
    </Layout>
  );
}

export const pressRoutes: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;
  const base = ctx.config.publicUrl;

  /** The press room of `slug`, or the national one; 404 for a slug no unit has. */
  async function pressUnit(slug: string | null): Promise<PressUnit> {
    const unit = slug === null ? await nationalPressUnit(ctx) : await pressUnitBySlug(ctx, slug);
    if (!unit) throw notFoundAt('Press room', 'slug');
    return unit;
  }

  async function showPage(request: FastifyRequest, reply: FastifyReply, unit: PressUnit, query: PageQuery) {
    const national = unit.parentId === null;
    const offices = await pressUnitsUnder(ctx, unit);
    const office = query.office ? offices.find((candidate) => candidate.slug === query.office) : undefined;
    const to = query.to ? startOfDay(addDays(query.to, 1), unit.timeZone) : undefined;
    const page =
      query.office && !office
        ? { items: [], next: null }
        : await listPressItems(ctx, {
            scope: unit,
            office,
            words: query.q,
            from: query.from ? startOfDay(query.from, unit.timeZone) : undefined,
            to,
            cursor: query.cursor,
            limit: PAGE_SIZE,
          });
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <PressPage
        unit={unit}
        national={national}
        offices={offices}
        query={query}
        items={page.items}
        next={page.next}
        demo={Boolean(ctx.config.GAUNG_DEMO)}
      />,
    );
  }

  async function feedSource(slug: string | null): Promise<FeedSource> {
    const unit = await pressUnit(slug);
    const { items } = await listPressItems(ctx, { scope: unit, limit: FEED_SIZE });
    const national = unit.parentId === null;
    return { base, path: slug === null ? '/press' : `/press/${unit.slug}`, unit, national, items };
  }

  const sendRss = async (reply: FastifyReply, slug: string | null) =>
    reply
      .type('application/rss+xml; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .send(rssFeed(await feedSource(slug)));

  const sendJsonFeed = async (reply: FastifyReply, slug: string | null) =>
    reply
      .type('application/feed+json; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .send(JSON.stringify(jsonFeed(await feedSource(slug))));

  app.get('/press', { schema: { hide: true, querystring: pageQuery } }, async (request, reply) =>
    showPage(request, reply, await pressUnit(null), request.query),
  );

  app.get('/press/feed.xml', { schema: { hide: true, querystring: z.strictObject({}) } }, (_request, reply) =>
    sendRss(reply, null),
  );

  app.get(
    '/press/feed.json',
    { schema: { hide: true, querystring: z.strictObject({}) } },
    (_request, reply) => sendJsonFeed(reply, null),
  );

  app.get(
    '/press/:slug',
    { schema: { hide: true, params: slugParams, querystring: pageQuery } },
    async (request, reply) => showPage(request, reply, await pressUnit(request.params.slug), request.query),
  );

  app.get(
    '/press/:slug/feed.xml',
    { schema: { hide: true, params: slugParams, querystring: z.strictObject({}) } },
    (request, reply) => sendRss(reply, request.params.slug),
  );

  app.get(
    '/press/:slug/feed.json',
    { schema: { hide: true, params: slugParams, querystring: z.strictObject({}) } },
    (request, reply) => sendJsonFeed(reply, request.params.slug),
  );

  app.get(
    '/press/media/:postId/:position',
    {
      schema: {
        hide: true,
        params: z.strictObject({ postId: z.uuid(), position: z.coerce.number().int().min(0).max(1000) }),
        querystring: z.strictObject({}),
      },
    },
    async (request, reply) => {
      const { prepared, fileName } = await pressDownload(ctx, request.params.postId, request.params.position);
      return reply
        .type(prepared.mime)
        .header('content-length', prepared.bytes)
        .header('content-disposition', `attachment; filename="${fileName}"`)
        .header('cache-control', 'public, max-age=3600')
        .header('x-content-type-options', 'nosniff')
        .send(await ctx.storage.open(prepared.sha256));
    },
  );
};
