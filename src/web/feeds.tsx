import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppError, FieldError } from '../domain/errors';
import { decide } from '../domain/permissions';
import { FEED_KINDS, type FeedKind } from '../domain/vocabulary';
import { authorize, requireActor } from '../http/auth';
import { ROUTE_LIMITS } from '../http/rate-limit';
import type { ActingUser } from '../services/channels';
import {
  createFeed,
  deleteFeed,
  type FeedRow,
  type FeedView,
  listFeeds,
  loadFeed,
  pollFeedSoon,
  updateFeed,
} from '../services/feeds';
import { listVisibleUnits, type UnitRow } from '../services/units';
import { ActionButton, Csrf, ExternalLink, Field, Time } from './components';
import { useEnv } from './env';
import type { Messages } from './i18n/index';
import { blank, parseForm, type WebOptions } from './kit';
import { Layout } from './layout';
import { fieldErrorsOf, isUserError, noticeOf, problemText } from './page';

/**
 * Ingest: the office's own accounts (an RSS or Atom feed, a public Mastodon profile) that Gaung reads,
 * bringing their new items in as the office's posts. Everyone sees the feeds of the units whose posts
 * they see; only the people of a feed's own unit add, pause, read, change or remove it.
 */

interface FeedFormValues {
  kind?: FeedKind;
  url?: string;
  autoSubmit?: boolean;
  tags?: string;
}

function FeedItem(props: { feed: FeedView; unitName: string; manages: boolean }) {
  const { t } = useEnv();
  const { feed } = props;
  return (
    <li class="item" id={`feed-${feed.id}`} data-feed={feed.id}>
      <div class="item-head">
        <span class="platform">{t.feeds.kinds[feed.kind]}</span>
        <strong class="item-title">
          <ExternalLink href={feed.url}>{feed.title ?? feed.url}</ExternalLink>
        </strong>
        <span class={`badge ${feed.autoSubmit ? 'post-submitted' : 'post-draft'}`}>
          {feed.autoSubmit ? t.feeds.toReview : t.feeds.toDrafts}
        </span>
        {feed.paused ? <span class="badge disabled">{t.feeds.paused}</span> : null}
      </div>
      {feed.title ? <div class="meta">{feed.url}</div> : null}
      <div class="meta">
        {props.unitName} · {t.feeds.imported(feed.itemsImported)}
        {feed.tags.length > 0 ? ` · ${feed.tags.map((tag) => `#${tag}`).join(' ')}` : ''}
      </div>
      <div class="meta">
        {t.feeds.lastPolled} <Time at={feed.lastPolledAt} fallback={t.feeds.never} />
        {feed.nextPollAt ? (
          <>
            {' · '}
            {t.feeds.nextPoll} <Time at={feed.nextPollAt} />
          </>
        ) : null}
      </div>
      {feed.failures > 0 ? (
        <p class="alert">
          <strong>{t.feeds.failing(feed.failures)}</strong> {feed.lastError ?? ''}
        </p>
      ) : null}
      {props.manages ? (
        <div class="actions">
          {feed.paused ? null : (
            <ActionButton action={`/feeds/${feed.id}/poll`} label={t.feeds.pollNow} kind="primary" />
          )}
          <ActionButton
            action={`/feeds/${feed.id}/pause`}
            label={feed.paused ? t.feeds.resume : t.feeds.pause}
            hidden={{ paused: feed.paused ? 'false' : 'true' }}
          />
          <ActionButton
            action={`/feeds/${feed.id}/auto-submit`}
            label={feed.autoSubmit ? t.feeds.makeDrafts : t.feeds.sendToReview}
            hidden={{ autoSubmit: feed.autoSubmit ? 'false' : 'true' }}
          />
          <ActionButton
            action={`/feeds/${feed.id}/delete`}
            label={t.feeds.delete}
            kind="danger"
            confirm={t.feeds.deleteConfirm}
          />
        </div>
      ) : null}
      {props.manages ? (
        <form method="post" action={`/feeds/${feed.id}/tags`} class="row">
          <Csrf />
          <label for={`tags-${feed.id}`}>{t.feeds.tags}</label>
          <input id={`tags-${feed.id}`} name="tags" maxLength={3000} value={feed.tags.join(', ')} />
          <button type="submit" class="button">
            {t.common.save}
          </button>
        </form>
      ) : null}
    </li>
  );
}

function FeedsPage(props: {
  feeds: FeedView[];
  units: UnitRow[];
  notice?: string | null;
  error?: string | null;
  errors?: FieldError[];
  values?: FeedFormValues;
}) {
  const { t, actor } = useEnv();
  const values = props.values ?? {};
  const unitOf = new Map(props.units.map((u) => [u.id, u]));
  const manages = (feed: FeedView) => {
    const unitPath = unitOf.get(feed.unitId)?.path;
    return (
      actor !== null &&
      unitPath !== undefined &&
      decide(actor, 'feed.manage', { type: 'feed', unitPath }) === 'allow'
    );
  };
  return (
    <Layout title={t.feeds.title} notice={props.notice} error={props.error}>
      <p class="lead">{t.feeds.intro}</p>
      {props.feeds.length === 0 ? <p class="empty">{t.feeds.empty}</p> : null}
      <ul class="list">
        {props.feeds.map((feed) => (
          <FeedItem feed={feed} unitName={unitOf.get(feed.unitId)?.name ?? ''} manages={manages(feed)} />
        ))}
      </ul>
      <form method="post" action="/feeds" class="card">
        <Csrf />
        <h2>{t.feeds.create}</h2>
        <Field id="kind" label={t.feeds.kind} hint={t.feeds.kindHint} errors={props.errors}>
          <select id="kind" name="kind">
            {FEED_KINDS.map((kind) => (
              <option value={kind} selected={kind === values.kind}>
                {t.feeds.kinds[kind]}
              </option>
            ))}
          </select>
        </Field>
        <Field id="url" label={t.feeds.url} errors={props.errors}>
          <input
            id="url"
            name="url"
            type="url"
            inputMode="url"
            autoComplete="off"
            required
            maxLength={2048}
            value={values.url ?? ''}
          />
        </Field>
        <div class="field">
          <label class="check">
            <input
              type="checkbox"
              name="autoSubmit"
              value="1"
              checked={values.autoSubmit ?? false}
              aria-describedby="autoSubmit-hint"
            />{' '}
            {t.feeds.autoSubmit}
          </label>
          <small class="hint" id="autoSubmit-hint">
            {t.feeds.autoSubmitHint}
          </small>
        </div>
        <Field id="tags" label={t.feeds.tags} hint={t.editor.tagsHint} errors={props.errors}>
          <input id="tags" name="tags" maxLength={3000} value={values.tags ?? ''} />
        </Field>
        <button type="submit" class="button primary">
          {t.feeds.createButton}
        </button>
      </form>
    </Layout>
  );
}

/** Field errors of a refused feed; a feed the unit already reads is a problem of its address. */
function feedFieldErrors(t: Messages, error: AppError): FieldError[] {
  const errors = fieldErrorsOf(t, error);
  if (error.code === 'feed_exists')
    errors.push({ field: 'url', message: t.fieldProblems.feed_exists, code: 'feed_exists' });
  return errors;
}

const idParams = z.strictObject({ id: z.uuid() });
const csrfOnly = z.strictObject({ _csrf: z.string().max(200) });
const okQuery = z.strictObject({ ok: z.string().max(40).optional() });

/** Hashtags as typed: separated by commas or spaces. */
const splitTags = (value: string) => value.split(/[,\s]+/).filter(Boolean);

/** The feed fields as the API takes them. */
const feedInput = z.object({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048),
  tags: z.array(z.string().trim().min(1).max(100)).max(30),
});

export const feedPages: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  const showList = async (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: {
      notice?: string | null;
      error?: string | null;
      errors?: FieldError[];
      values?: FeedFormValues;
      status?: number;
    } = {},
  ) => {
    const actor = requireActor(request);
    const [feeds, units] = await Promise.all([listFeeds(ctx, actor, {}), listVisibleUnits(ctx, actor)]);
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <FeedsPage feeds={feeds} units={units} {...extra} />,
      extra.status ?? 200,
    );
  };

  app.get('/feeds', { schema: { hide: true, querystring: okQuery } }, async (request, reply) => {
    const env = await kit.env(request, reply);
    return showList(request, reply, { notice: noticeOf(env.t, request.query.ok) });
  });

  app.post(
    '/feeds',
    {
      config: { rateLimit: ROUTE_LIMITS.sourceAdd },
      schema: {
        hide: true,
        body: z.strictObject({
          _csrf: z.string().max(200),
          kind: z.enum(FEED_KINDS),
          url: z.string().max(3000),
          autoSubmit: z.literal('1').optional(),
          tags: z.string().max(3000).optional(),
        }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      authorize(actor, 'feed.manage', { type: 'feed', unitPath: actor.unitPath }, 'Unit');
      const { kind, url, autoSubmit, tags } = request.body;
      const values: FeedFormValues = { kind, url, autoSubmit: autoSubmit === '1', tags };
      try {
        const input = parseForm(feedInput, {
          url: blank(url) ?? '',
          tags: splitTags(tags ?? ''),
        });
        await createFeed(ctx, { actor, ip: request.ip }, { kind, ...input, autoSubmit: autoSubmit === '1' });
        return reply.redirect('/feeds?ok=feedCreated', 303);
      } catch (error) {
        if (!isUserError(error)) throw error;
        const env = await kit.env(request, reply);
        return showList(request, reply, {
          error: problemText(env.t, error),
          errors: feedFieldErrors(env.t, error),
          values,
          status: error.status,
        });
      }
    },
  );

  /**
   * A change to a feed of the viewer's own unit: done → the list with a notice; refused → the list
   * with the reason. A feed the viewer may not see is a 404, one they only read a 403.
   */
  const change = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    ok: keyof Messages['notices'],
    work: (who: ActingUser, feed: FeedRow) => Promise<unknown>,
  ) => {
    const actor = requireActor(request);
    const { feed, unitPath } = await loadFeed(ctx.db, id);
    authorize(actor, 'feed.manage', { type: 'feed', unitPath }, 'Feed');
    try {
      await work({ actor, ip: request.ip }, feed);
      return reply.redirect(`/feeds?ok=${ok}`, 303);
    } catch (error) {
      if (!isUserError(error) || error.status === 404) throw error;
      const env = await kit.env(request, reply);
      return showList(request, reply, { error: problemText(env.t, error), status: error.status });
    }
  };

  const flag = z.enum(['true', 'false']);

  app.post(
    '/feeds/:id/pause',
    {
      schema: {
        hide: true,
        params: idParams,
        body: z.strictObject({ _csrf: z.string().max(200), paused: flag }),
      },
    },
    (request, reply) => {
      const paused = request.body.paused === 'true';
      return change(request, reply, request.params.id, paused ? 'feedPaused' : 'feedResumed', (who, feed) =>
        updateFeed(ctx, who, feed, { paused }),
      );
    },
  );

  app.post(
    '/feeds/:id/auto-submit',
    {
      schema: {
        hide: true,
        params: idParams,
        body: z.strictObject({ _csrf: z.string().max(200), autoSubmit: flag }),
      },
    },
    (request, reply) => {
      const autoSubmit = request.body.autoSubmit === 'true';
      return change(
        request,
        reply,
        request.params.id,
        autoSubmit ? 'feedToReview' : 'feedToDrafts',
        (who, feed) => updateFeed(ctx, who, feed, { autoSubmit }),
      );
    },
  );

  app.post(
    '/feeds/:id/tags',
    {
      schema: {
        hide: true,
        params: idParams,
        body: z.strictObject({ _csrf: z.string().max(200), tags: z.string().max(3000) }),
      },
    },
    (request, reply) =>
      change(request, reply, request.params.id, 'saved', (who, feed) => {
        const { tags } = parseForm(feedInput.pick({ tags: true }), { tags: splitTags(request.body.tags) });
        return updateFeed(ctx, who, feed, { tags });
      }),
  );

  app.post(
    '/feeds/:id/poll',
    { schema: { hide: true, params: idParams, body: csrfOnly } },
    (request, reply) =>
      change(request, reply, request.params.id, 'feedPolled', (_who, feed) => pollFeedSoon(ctx, feed)),
  );

  app.post(
    '/feeds/:id/delete',
    { schema: { hide: true, params: idParams, body: csrfOnly } },
    (request, reply) =>
      change(request, reply, request.params.id, 'feedDeleted', (who, feed) => deleteFeed(ctx, who, feed)),
  );
};
