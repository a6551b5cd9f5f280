import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppError, FieldError } from '../domain/errors';
import { decide } from '../domain/permissions';
import { SOURCE_KINDS, type SourceKind } from '../domain/vocabulary';
import { requireActor } from '../http/auth';
import { ROUTE_LIMITS } from '../http/rate-limit';
import { FEED_KINDS } from '../platforms/feeds';
import type { ActingUser } from '../services/channels';
import {
  createSource,
  deleteSource,
  listSources,
  pollSecondsOf,
  pollSourceSoon,
  type SourceView,
  updateSource,
} from '../services/sources';
import { listVisibleUnits, type UnitRow } from '../services/units';
import { ActionButton, Csrf, ExternalLink, Field, Time } from './components';
import { useEnv } from './env';
import type { Messages } from './i18n/index';
import { blank, parseForm, type WebOptions } from './kit';
import { Layout } from './layout';
import { fieldErrorsOf, isFormError, noticeOf, problemText } from './page';

/**
 * Ingest: the office's own accounts (an RSS or Atom feed, a public Mastodon profile) that Gaung reads,
 * bringing their new items in as the office's posts. Everyone sees the sources of the units whose posts
 * they see; only the people of a source's own unit add, pause, read, change or remove it.
 */

interface SourceFormValues {
  kind?: SourceKind;
  url?: string;
  autoSubmit?: boolean;
  tags?: string;
}

function SourceEntry(props: { source: SourceView; unitName: string; manages: boolean; pollMinutes: number }) {
  const { t } = useEnv();
  const { source } = props;
  return (
    <li class="item" id={`source-${source.id}`} data-source={source.id}>
      <div class="item-head">
        <span class="platform">{t.sources.kinds[source.kind]}</span>
        <strong class="item-title">
          <ExternalLink href={source.url}>{source.title ?? source.url}</ExternalLink>
        </strong>
        <span class={`badge ${source.autoSubmit ? 'post-submitted' : 'post-draft'}`}>
          {source.autoSubmit ? t.sources.toReview : t.sources.toDrafts}
        </span>
        {source.paused ? <span class="badge disabled">{t.sources.paused}</span> : null}
        {source.status === 'needs_reauth' ? (
          <span class="badge channel-needs_reauth">{t.sources.needsReauth}</span>
        ) : null}
      </div>
      {source.kind === 'x' ? <p class="hint">{t.sources.xReads(props.pollMinutes)}</p> : null}
      {source.title ? <div class="meta">{source.url}</div> : null}
      <div class="meta">
        {props.unitName} · {t.sources.imported(source.itemsImported)}
        {source.tags.length > 0 ? ` · ${source.tags.map((tag) => `#${tag}`).join(' ')}` : ''}
      </div>
      <div class="meta">
        {t.sources.lastPolled} <Time at={source.lastPolledAt} fallback={t.sources.never} />
        {source.nextPollAt ? (
          <>
            {' · '}
            {t.sources.nextPoll} <Time at={source.nextPollAt} />
          </>
        ) : null}
      </div>
      {source.failures > 0 ? (
        <p class="alert">
          <strong>{t.sources.failing(source.failures)}</strong> {source.lastError ?? ''}
        </p>
      ) : null}
      {props.manages ? (
        <div class="actions">
          {source.paused ? null : (
            <ActionButton action={`/sources/${source.id}/poll`} label={t.sources.pollNow} kind="primary" />
          )}
          <ActionButton
            action={`/sources/${source.id}/pause`}
            label={source.paused ? t.sources.resume : t.sources.pause}
            hidden={{ paused: source.paused ? 'false' : 'true' }}
          />
          <ActionButton
            action={`/sources/${source.id}/auto-submit`}
            label={source.autoSubmit ? t.sources.makeDrafts : t.sources.sendToReview}
            hidden={{ autoSubmit: source.autoSubmit ? 'false' : 'true' }}
          />
          <ActionButton
            action={`/sources/${source.id}/delete`}
            label={t.sources.delete}
            kind="danger"
            confirm={t.sources.deleteConfirm}
          />
        </div>
      ) : null}
      {props.manages ? (
        <form method="post" action={`/sources/${source.id}/tags`} class="row">
          <Csrf />
          <label for={`tags-${source.id}`}>{t.sources.tags}</label>
          <input id={`tags-${source.id}`} name="tags" maxLength={3000} value={source.tags.join(', ')} />
          <button type="submit" class="button">
            {t.common.save}
          </button>
        </form>
      ) : null}
    </li>
  );
}

function SourcesPage(props: {
  sources: SourceView[];
  units: UnitRow[];
  notice?: string | null;
  error?: string | null;
  errors?: FieldError[];
  values?: SourceFormValues;
  /** Minutes between reads, per kind. */
  pollMinutes: Record<SourceKind, number>;
}) {
  const { t, actor } = useEnv();
  const values = props.values ?? {};
  const unitOf = new Map(props.units.map((u) => [u.id, u]));
  const manages = (source: SourceView) => {
    const unitPath = unitOf.get(source.unitId)?.path;
    return (
      actor !== null &&
      unitPath !== undefined &&
      decide(actor, 'source.manage', { type: 'source', unitPath }) === 'allow'
    );
  };
  return (
    <Layout title={t.sources.title} notice={props.notice} error={props.error}>
      <p class="lead">{t.sources.intro}</p>
      {props.sources.length === 0 ? <p class="empty">{t.sources.empty}</p> : null}
      <ul class="list">
        {props.sources.map((source) => (
          <SourceEntry
            source={source}
            unitName={unitOf.get(source.unitId)?.name ?? ''}
            manages={manages(source)}
            pollMinutes={props.pollMinutes[source.kind]}
          />
        ))}
      </ul>
      <form method="post" action="/sources" class="card">
        <Csrf />
        <h2>{t.sources.create}</h2>
        <Field id="kind" label={t.sources.kind} hint={t.sources.kindHint} errors={props.errors}>
          <select id="kind" name="kind">
            {FEED_KINDS.map((kind) => (
              <option value={kind} selected={kind === values.kind}>
                {t.sources.kinds[kind]}
              </option>
            ))}
          </select>
        </Field>
        <Field id="url" label={t.sources.url} errors={props.errors}>
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
            {t.sources.autoSubmit}
          </label>
          <small class="hint" id="autoSubmit-hint">
            {t.sources.autoSubmitHint}
          </small>
        </div>
        <Field id="tags" label={t.sources.tags} hint={t.editor.tagsHint} errors={props.errors}>
          <input id="tags" name="tags" maxLength={3000} value={values.tags ?? ''} />
        </Field>
        <button type="submit" class="button primary">
          {t.sources.createButton}
        </button>
      </form>
    </Layout>
  );
}

/** Field errors of a refused source; a source the unit already reads is a problem of its address. */
function sourceFieldErrors(t: Messages, error: AppError): FieldError[] {
  const errors = fieldErrorsOf(t, error);
  if (error.code === 'source_exists')
    errors.push({ field: 'url', message: t.fieldProblems.source_exists, code: 'source_exists' });
  return errors;
}

const idParams = z.strictObject({ id: z.uuid() });
const csrfOnly = z.strictObject({ _csrf: z.string().max(200) });
const okQuery = z.strictObject({ ok: z.string().max(40).optional() });

/** Hashtags as typed: separated by commas or spaces. */
const splitTags = (value: string) => value.split(/[,\s]+/).filter(Boolean);

/** The source fields as the API takes them. */
const sourceInput = z.object({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048),
  tags: z.array(z.string().trim().min(1).max(100)).max(30),
});

export const sourcePages: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  const showList = async (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: {
      notice?: string | null;
      error?: string | null;
      errors?: FieldError[];
      values?: SourceFormValues;
      status?: number;
    } = {},
  ) => {
    const actor = requireActor(request);
    const [sources, units] = await Promise.all([listSources(ctx, actor, {}), listVisibleUnits(ctx, actor)]);
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <SourcesPage
        sources={sources}
        units={units}
        pollMinutes={
          Object.fromEntries(
            SOURCE_KINDS.map((kind) => [kind, Math.round(pollSecondsOf(ctx.config, kind) / 60)]),
          ) as Record<SourceKind, number>
        }
        {...extra}
      />,
      extra.status ?? 200,
    );
  };

  app.get('/sources', { schema: { hide: true, querystring: okQuery } }, async (request, reply) => {
    const env = await kit.env(request, reply);
    return showList(request, reply, { notice: noticeOf(env.t, request.query.ok) });
  });

  app.post(
    '/sources',
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
      const { kind, url, autoSubmit, tags } = request.body;
      const values: SourceFormValues = { kind, url, autoSubmit: autoSubmit === '1', tags };
      try {
        const input = parseForm(sourceInput, {
          url: blank(url) ?? '',
          tags: splitTags(tags ?? ''),
        });
        await createSource(
          ctx,
          { actor, ip: request.ip },
          { kind, ...input, autoSubmit: autoSubmit === '1' },
        );
        return reply.redirect('/sources?ok=sourceCreated', 303);
      } catch (error) {
        if (!isFormError(error)) throw error;
        const env = await kit.env(request, reply);
        return showList(request, reply, {
          error: problemText(env.t, error),
          errors: sourceFieldErrors(env.t, error),
          values,
          status: error.status,
        });
      }
    },
  );

  /**
   * A change to a source of the viewer's own unit: done → the list with a notice; refused → the list
   * with the reason. A source the viewer may not see is a 404, one they only read a 403.
   */
  const change = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    ok: keyof Messages['notices'],
    work: (who: ActingUser, id: string) => Promise<unknown>,
  ) => {
    const actor = requireActor(request);
    try {
      await work({ actor, ip: request.ip }, id);
      return reply.redirect(`/sources?ok=${ok}`, 303);
    } catch (error) {
      if (!isFormError(error)) throw error;
      const env = await kit.env(request, reply);
      return showList(request, reply, { error: problemText(env.t, error), status: error.status });
    }
  };

  const flag = z.enum(['true', 'false']);

  app.post(
    '/sources/:id/pause',
    {
      schema: {
        hide: true,
        params: idParams,
        body: z.strictObject({ _csrf: z.string().max(200), paused: flag }),
      },
    },
    (request, reply) => {
      const paused = request.body.paused === 'true';
      return change(request, reply, request.params.id, paused ? 'sourcePaused' : 'sourceResumed', (who, id) =>
        updateSource(ctx, who, id, { paused }),
      );
    },
  );

  app.post(
    '/sources/:id/auto-submit',
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
        autoSubmit ? 'sourceToReview' : 'sourceToDrafts',
        (who, id) => updateSource(ctx, who, id, { autoSubmit }),
      );
    },
  );

  app.post(
    '/sources/:id/tags',
    {
      schema: {
        hide: true,
        params: idParams,
        body: z.strictObject({ _csrf: z.string().max(200), tags: z.string().max(3000) }),
      },
    },
    (request, reply) =>
      change(request, reply, request.params.id, 'saved', (who, id) => {
        const { tags } = parseForm(sourceInput.pick({ tags: true }), { tags: splitTags(request.body.tags) });
        return updateSource(ctx, who, id, { tags });
      }),
  );

  app.post(
    '/sources/:id/poll',
    { schema: { hide: true, params: idParams, body: csrfOnly } },
    (request, reply) =>
      change(request, reply, request.params.id, 'sourcePolled', (who, id) =>
        pollSourceSoon(ctx, who.actor, id),
      ),
  );

  app.post(
    '/sources/:id/delete',
    { schema: { hide: true, params: idParams, body: csrfOnly } },
    (request, reply) =>
      change(request, reply, request.params.id, 'sourceDeleted', (who, id) => deleteSource(ctx, who, id)),
  );
};
