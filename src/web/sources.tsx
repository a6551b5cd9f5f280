import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type AppError, type FieldError, invalid } from '../domain/errors';
import { decide } from '../domain/permissions';
import { type OAuthProvider, type Platform, SOURCE_KINDS, type SourceKind } from '../domain/vocabulary';
import { requireActor } from '../http/auth';
import { ROUTE_LIMITS } from '../http/rate-limit';
import { type ActingUser, metaAccount } from '../services/channels';
import {
  createRule,
  deleteRule,
  ruleChannels,
  rulesOfSources,
  type SourceRuleView,
  updateRule,
} from '../services/source-rules';
import {
  createSource,
  deleteSource,
  lendingChannels,
  listSources,
  offeredSourceKinds,
  pollSecondsOf,
  pollSourceSoon,
  type SourceInput,
  type SourceView,
  startSourceConnect,
  updateSource,
} from '../services/sources';
import { listVisibleUnits, type UnitRow } from '../services/units';
import { ActionButton, Csrf, ExternalLink, Field, Time } from './components';
import { useEnv } from './env';
import type { Messages } from './i18n/index';
import { blank, parseForm, type WebOptions } from './kit';
import { Layout } from './layout';
import { fieldErrorsOf, isFormError, noticeOf, problemText } from './page';
import {
  type RuleChannel,
  type RuleFormState,
  ruleFormBody,
  ruleFormValues,
  ruleInputOf,
  SourceRules,
} from './source-rules';

/**
 * Ingest: the office's own accounts (on every platform with a reader, a website's RSS or Atom feed)
 * that Gaung reads, bringing their new items in as the office's posts. Everyone sees the sources of
 * the units whose posts they see; the people of a source's own unit add, read, change, pause or
 * remove it; the admins above it may pause or remove it too.
 */

interface SourceFormValues {
  kind?: SourceKind;
  url?: string;
  handle?: string;
  pdsUrl?: string;
  chatId?: string;
  youtubeChannelId?: string;
  channelId?: string;
  autoSubmit?: boolean;
  tags?: string;
}

/** A channel of the viewer's office that a source of its platform may read with. */
interface LendingChannel {
  id: string;
  name: string;
  platform: Platform;
}

/** The connect form's own fields per kind: [form field, input type, required]. */
const KIND_FIELDS: Record<
  SourceKind,
  [keyof SourceFormValues | 'userAccessToken', 'url' | 'text' | 'password', boolean][]
> = {
  rss: [['url', 'url', true]],
  mastodon: [['url', 'url', true]],
  bluesky: [
    ['handle', 'text', true],
    ['pdsUrl', 'url', false],
  ],
  telegram: [
    ['handle', 'text', false],
    ['chatId', 'text', false],
  ],
  youtube: [['youtubeChannelId', 'text', false]],
  threads: [],
  instagram: [['userAccessToken', 'password', false]],
  facebook: [['userAccessToken', 'password', false]],
  x: [],
  tiktok: [],
};

/** The kinds whose account is connected on the platform's consent page (OAuth). */
const CONSENT_KINDS = ['x', 'tiktok', 'threads'] as const satisfies readonly OAuthProvider[];
const isConsentKind = (kind: SourceKind): kind is (typeof CONSENT_KINDS)[number] =>
  (CONSENT_KINDS as readonly string[]).includes(kind);

function SourceEntry(props: {
  source: SourceView;
  unitName: string;
  /** The office's own people: read now, auto-submit, tags. */
  manages: boolean;
  /** They and the admins above: pause and remove. */
  controls: boolean;
  pollMinutes: number;
  /** Its auto-approval rules, and whether the viewer may set them (reviewers of its office and above). */
  rules: SourceRuleView[];
  channelNames: Map<string, string>;
  setsRules: boolean;
  ruleChannels: RuleChannel[];
  ruleForm?: RuleFormState;
}) {
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
      {props.controls ? (
        <div class="actions">
          {props.manages && !source.paused ? (
            <ActionButton action={`/sources/${source.id}/poll`} label={t.sources.pollNow} kind="primary" />
          ) : null}
          <ActionButton
            action={`/sources/${source.id}/pause`}
            label={source.paused ? t.sources.resume : t.sources.pause}
            hidden={{ paused: source.paused ? 'false' : 'true' }}
          />
          {props.manages ? (
            <ActionButton
              action={`/sources/${source.id}/auto-submit`}
              label={source.autoSubmit ? t.sources.makeDrafts : t.sources.sendToReview}
              hidden={{ autoSubmit: source.autoSubmit ? 'false' : 'true' }}
            />
          ) : null}
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
      <SourceRules
        sourceId={source.id}
        rules={props.rules}
        channelNames={props.channelNames}
        manages={props.setsRules}
        channels={props.ruleChannels}
        form={props.ruleForm}
      />
    </li>
  );
}

/** Whether new items go straight to review, and the hashtags every post of the source gets. */
function CommonFields(props: { kind: SourceKind; values: SourceFormValues; errors?: FieldError[] }) {
  const { t } = useEnv();
  const { kind, values } = props;
  return (
    <>
      <div class="field">
        <label class="check">
          <input
            type="checkbox"
            name="autoSubmit"
            value="1"
            checked={values.autoSubmit ?? false}
            aria-describedby={`${kind}-autoSubmit-hint`}
          />{' '}
          {t.sources.autoSubmit}
        </label>
        <small class="hint" id={`${kind}-autoSubmit-hint`}>
          {t.sources.autoSubmitHint}
        </small>
      </div>
      <Field
        id={`${kind}-tags`}
        field="tags"
        label={t.sources.tags}
        hint={t.editor.tagsHint}
        errors={props.errors}
      >
        <input id={`${kind}-tags`} name="tags" maxLength={3000} value={values.tags ?? ''} />
      </Field>
    </>
  );
}

/**
 * Adding a source of one kind: its own fields (an address, a handle, a token), or one of the office's
 * channels of the same platform to read with; X, TikTok and Threads connect on the platform's consent page.
 */
function AddSourceForm(props: {
  kind: SourceKind;
  channels: LendingChannel[];
  values: SourceFormValues;
  errors?: FieldError[];
  pages?: { pageId: string; name: string; instagram: string | null }[];
  httpsCallback: boolean;
}) {
  const { t } = useEnv();
  const { kind, values } = props;
  const label = t.sources.kinds[kind];
  const fieldLabel = (name: string): string =>
    name === 'url'
      ? t.sources.url
      : name === 'userAccessToken'
        ? t.channels.metaToken
        : ((t.sources as unknown as Record<string, string>)[name] ?? name);
  const consent = isConsentKind(kind);
  return (
    <details class="source-kind" data-kind={kind} open={values.kind === kind}>
      <summary>{label}</summary>
      <p class="hint">{t.sources.kindHints[kind]}</p>
      <form method="post" action="/sources">
        <Csrf />
        <input type="hidden" name="kind" value={kind} />
        {props.channels.length > 0 ? (
          <Field
            id={`${kind}-channelId`}
            field="channelId"
            label={t.sources.useChannel}
            hint={t.sources.useChannelHint}
            errors={props.errors}
          >
            <select id={`${kind}-channelId`} name="channelId">
              {consent ? null : <option value="">{t.sources.noChannel}</option>}
              {props.channels.map((channel) => (
                <option value={channel.id} selected={values.channelId === channel.id}>
                  {channel.name}
                </option>
              ))}
            </select>
          </Field>
        ) : null}
        {KIND_FIELDS[kind].map(([name, type, required]) => (
          <Field id={`${kind}-${name}`} field={name} label={fieldLabel(name)} errors={props.errors}>
            {type === 'password' ? (
              <input
                id={`${kind}-${name}`}
                name={name}
                type="password"
                autoComplete="off"
                required={required && props.channels.length === 0}
                maxLength={4000}
              />
            ) : (
              <input
                id={`${kind}-${name}`}
                name={name}
                type="text"
                inputMode={type === 'url' ? 'url' : undefined}
                autoComplete="off"
                required={required && props.channels.length === 0}
                maxLength={type === 'url' ? 2048 : 1000}
                value={(values[name as keyof SourceFormValues] as string | undefined) ?? ''}
              />
            )}
          </Field>
        ))}
        {props.pages?.length ? (
          <Field id={`${kind}-pageId`} field="pageId" label={t.channels.metaPage} errors={props.errors}>
            <select id={`${kind}-pageId`} name="pageId">
              {props.pages.map((p) => (
                <option value={p.pageId}>{p.instagram ? `${p.name} (@${p.instagram})` : p.name}</option>
              ))}
            </select>
          </Field>
        ) : null}
        {consent && props.channels.length === 0 ? null : (
          <>
            <CommonFields kind={kind} values={values} errors={props.errors} />
            <button type="submit" class="button primary">
              {t.sources.createButton}
            </button>
          </>
        )}
      </form>
      {consent ? (
        kind === 'tiktok' && !props.httpsCallback ? (
          <p class="notice">{t.sources.connectNeedsHttps}</p>
        ) : (
          <form method="post" action={`/sources/connect/${kind}`}>
            <Csrf />
            <CommonFields kind={kind} values={values} />
            <button type="submit" class="button">
              {t.sources.connectWith(label)}
            </button>
          </form>
        )
      ) : null}
    </details>
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
  /** The kinds this Gaung reads. */
  kinds: SourceKind[];
  channels: LendingChannel[];
  /** The Pages a Meta sign-in manages, when it manages several. */
  pages?: { pageId: string; name: string; instagram: string | null }[];
  httpsCallback: boolean;
  rules: Map<string, SourceRuleView[]>;
  channelNames: Map<string, string>;
  /** The channels the viewer's rules may approve to. */
  ruleChannels: RuleChannel[];
  ruleForm?: RuleFormState;
}) {
  const { t, actor } = useEnv();
  const values = props.values ?? {};
  const unitOf = new Map(props.units.map((u) => [u.id, u]));
  const may = (source: SourceView, action: 'source.manage' | 'source.control' | 'source.rules') => {
    const unitPath = unitOf.get(source.unitId)?.path;
    return (
      actor !== null &&
      unitPath !== undefined &&
      decide(actor, action, { type: 'source', unitPath }) === 'allow'
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
            manages={may(source, 'source.manage')}
            controls={may(source, 'source.control')}
            pollMinutes={props.pollMinutes[source.kind]}
            rules={props.rules.get(source.id) ?? []}
            channelNames={props.channelNames}
            setsRules={may(source, 'source.rules')}
            ruleChannels={props.ruleChannels}
            ruleForm={props.ruleForm}
          />
        ))}
      </ul>
      <section class="card" aria-labelledby="add-source">
        <h2 id="add-source">{t.sources.create}</h2>
        {props.kinds.map((kind) => (
          <AddSourceForm
            kind={kind}
            channels={props.channels.filter((c) => c.platform === kind)}
            values={values.kind === kind ? values : {}}
            errors={values.kind === kind ? props.errors : undefined}
            pages={values.kind === kind ? props.pages : undefined}
            httpsCallback={props.httpsCallback}
          />
        ))}
      </section>
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
const okQuery = z.strictObject({
  ok: z.string().max(40).optional(),
  connect: z.literal('denied').optional(),
});

interface SourcesPageExtra {
  notice?: string | null;
  error?: string | null;
  errors?: FieldError[];
  values?: SourceFormValues;
  pages?: { pageId: string; name: string; instagram: string | null }[];
  ruleForm?: RuleFormState;
  status?: number;
}

const webUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048);

/** A form field that must be filled for this kind. */
function required(field: string, value: string | undefined): string {
  const given = blank(value);
  if (given === undefined) throw invalid([{ field, message: 'is required', code: 'required' }]);
  return given;
}

/** Problems of the API's fields shown at the form's fields: credentials at the Meta token field. */
function formFieldErrors(errors: FieldError[]): FieldError[] {
  return errors.map((error) =>
    error.field === 'credentials' || error.field.startsWith('credentials.')
      ? { ...error, field: 'userAccessToken' }
      : error.field.startsWith('settings.')
        ? {
            ...error,
            field: error.field === 'settings.channelId' ? 'youtubeChannelId' : error.field.slice(9),
          }
        : error,
  );
}

/** Hashtags as typed: separated by commas or spaces. */
const splitTags = (value: string) => value.split(/[,\s]+/).filter(Boolean);

/** The source fields as the API takes them. */
const sourceInput = z.object({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048),
  tags: z.array(z.string().trim().min(1).max(100)).max(30),
});

export const sourcePages: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  const showList = async (request: FastifyRequest, reply: FastifyReply, extra: SourcesPageExtra = {}) => {
    const actor = requireActor(request);
    const [sources, units, channels, targets] = await Promise.all([
      listSources(ctx, actor, {}),
      listVisibleUnits(ctx, actor),
      lendingChannels(ctx, actor.unitId),
      ruleChannels(ctx, actor),
    ]);
    const { rules, channelNames } = await rulesOfSources(
      ctx,
      sources.map((source) => source.id),
    );
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
        kinds={offeredSourceKinds(ctx)}
        channels={channels}
        httpsCallback={ctx.config.publicUrl.startsWith('https://')}
        rules={rules}
        channelNames={channelNames}
        ruleChannels={targets}
        {...extra}
      />,
      extra.status ?? 200,
    );
  };

  app.get('/sources', { schema: { hide: true, querystring: okQuery } }, async (request, reply) => {
    const env = await kit.env(request, reply);
    return showList(request, reply, {
      notice: noticeOf(env.t, request.query.ok),
      error: request.query.connect === 'denied' ? env.t.sources.connectDenied : null,
    });
  });

  app.post(
    '/sources',
    {
      config: { rateLimit: ROUTE_LIMITS.sourceAdd },
      schema: {
        hide: true,
        body: z.strictObject({
          _csrf: z.string().max(200),
          kind: z.enum(SOURCE_KINDS),
          channelId: z.string().max(100).optional(),
          url: z.string().max(3000).optional(),
          handle: z.string().max(300).optional(),
          pdsUrl: z.string().max(3000).optional(),
          chatId: z.string().max(100).optional(),
          youtubeChannelId: z.string().max(100).optional(),
          userAccessToken: z.string().max(1000).optional(),
          pageId: z.string().max(40).optional(),
          autoSubmit: z.literal('1').optional(),
          tags: z.string().max(3000).optional(),
        }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const body = request.body;
      const { userAccessToken, pageId, _csrf, ...shown } = body;
      const values: SourceFormValues = { ...shown, autoSubmit: body.autoSubmit === '1' };
      try {
        const common = parseForm(sourceInput.pick({ tags: true }), { tags: splitTags(body.tags ?? '') });
        const input = await sourceInputOf(body);
        await createSource(
          ctx,
          { actor, ip: request.ip },
          { ...input, ...common, autoSubmit: body.autoSubmit === '1' },
        );
        return reply.redirect('/sources?ok=sourceCreated', 303);
      } catch (error) {
        if (!isFormError(error)) throw error;
        const env = await kit.env(request, reply);
        return showList(request, reply, {
          error: problemText(env.t, error),
          errors: formFieldErrors(sourceFieldErrors(env.t, error)),
          pages: error.extra?.pages as SourcesPageExtra['pages'],
          values,
          status: error.status,
        });
      }
    },
  );

  /** The form's fields as the API's source input: a channel to read with, or the kind's own fields. */
  async function sourceInputOf(body: {
    kind: SourceKind;
    channelId?: string;
    url?: string;
    handle?: string;
    pdsUrl?: string;
    chatId?: string;
    youtubeChannelId?: string;
    userAccessToken?: string;
    pageId?: string;
  }): Promise<SourceInput> {
    const { kind } = body;
    const channelId = blank(body.channelId);
    if (channelId)
      return { kind, channelId: parseForm(z.object({ channelId: z.uuid() }), { channelId }).channelId };
    switch (kind) {
      case 'rss':
      case 'mastodon':
        return { kind, url: parseForm(sourceInput.pick({ url: true }), { url: blank(body.url) ?? '' }).url };
      case 'bluesky': {
        const pdsUrl = blank(body.pdsUrl);
        return {
          kind,
          handle: required('handle', body.handle),
          ...(pdsUrl
            ? { settings: { pdsUrl: parseForm(z.object({ pdsUrl: webUrl }), { pdsUrl }).pdsUrl } }
            : {}),
        };
      }
      case 'telegram': {
        const chatId = blank(body.chatId);
        return chatId ? { kind, settings: { chatId } } : { kind, handle: required('handle', body.handle) };
      }
      case 'youtube':
        return { kind, settings: { channelId: required('youtubeChannelId', body.youtubeChannelId) } };
      case 'instagram':
      case 'facebook':
        return {
          kind,
          ...(await metaAccount(ctx, kind, {
            userAccessToken: required('userAccessToken', body.userAccessToken),
            pageId: blank(body.pageId),
          })),
        };
      case 'x':
      case 'tiktok':
      case 'threads':
        throw invalid([
          { field: 'channelId', message: 'choose a channel, or connect on the platform', code: 'required' },
        ]);
    }
  }

  app.post(
    '/sources/connect/:provider',
    {
      config: { rateLimit: ROUTE_LIMITS.sourceAdd },
      schema: {
        hide: true,
        params: z.strictObject({ provider: z.enum(CONSENT_KINDS) }),
        body: z.strictObject({
          _csrf: z.string().max(200),
          autoSubmit: z.literal('1').optional(),
          tags: z.string().max(3000).optional(),
        }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const { provider } = request.params;
      try {
        const { tags } = parseForm(sourceInput.pick({ tags: true }), {
          tags: splitTags(request.body.tags ?? ''),
        });
        const consentUrl = await startSourceConnect(ctx, { actor, ip: request.ip }, provider, {
          autoSubmit: request.body.autoSubmit === '1',
          tags,
        });
        return reply.redirect(consentUrl, 303);
      } catch (error) {
        if (!isFormError(error)) throw error;
        const env = await kit.env(request, reply);
        return showList(request, reply, {
          error: problemText(env.t, error),
          values: { kind: provider },
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
  // Auto-approval rules: each form answers with the page at the rule (`#rule-<id>`), or the refused
  // form again with its problems next to its fields.

  const ruleParams = z.strictObject({ id: z.uuid(), ruleId: z.uuid() });

  const ruleChange = async (
    request: FastifyRequest,
    reply: FastifyReply,
    formKey: string,
    body: z.infer<typeof ruleFormBody> | null,
    work: (who: ActingUser) => Promise<{ ok: keyof Messages['notices']; anchor: string }>,
  ) => {
    const actor = requireActor(request);
    try {
      const { ok, anchor } = await work({ actor, ip: request.ip });
      return reply.redirect(`/sources?ok=${ok}#${anchor}`, 303);
    } catch (error) {
      if (!isFormError(error)) throw error;
      const env = await kit.env(request, reply);
      return showList(request, reply, {
        error: problemText(env.t, error),
        ruleForm: body
          ? { key: formKey, values: ruleFormValues(body), errors: fieldErrorsOf(env.t, error) }
          : undefined,
        status: error.status,
      });
    }
  };

  app.post(
    '/sources/:id/rules',
    { schema: { hide: true, params: idParams, body: ruleFormBody } },
    (request, reply) =>
      ruleChange(request, reply, `new-${request.params.id}`, request.body, async (who) => {
        const rule = await createRule(ctx, who, request.params.id, ruleInputOf(request.body));
        return { ok: 'ruleCreated', anchor: `rule-${rule.id}` };
      }),
  );

  app.post(
    '/sources/:id/rules/:ruleId',
    { schema: { hide: true, params: ruleParams, body: ruleFormBody } },
    (request, reply) =>
      ruleChange(request, reply, request.params.ruleId, request.body, async (who) => {
        const { id, ruleId } = request.params;
        await updateRule(ctx, who, id, ruleId, ruleInputOf(request.body));
        return { ok: 'ruleSaved', anchor: `rule-${ruleId}` };
      }),
  );

  app.post(
    '/sources/:id/rules/:ruleId/pause',
    {
      schema: {
        hide: true,
        params: ruleParams,
        body: z.strictObject({ _csrf: z.string().max(200), paused: flag }),
      },
    },
    (request, reply) =>
      ruleChange(request, reply, request.params.ruleId, null, async (who) => {
        const { id, ruleId } = request.params;
        const paused = request.body.paused === 'true';
        await updateRule(ctx, who, id, ruleId, { paused });
        return { ok: paused ? 'rulePaused' : 'ruleResumed', anchor: `rule-${ruleId}` };
      }),
  );

  app.post(
    '/sources/:id/rules/:ruleId/delete',
    { schema: { hide: true, params: ruleParams, body: csrfOnly } },
    (request, reply) =>
      ruleChange(request, reply, request.params.ruleId, null, async (who) => {
        await deleteRule(ctx, who, request.params.id, request.params.ruleId);
        return { ok: 'ruleDeleted', anchor: `source-${request.params.id}` };
      }),
  );
};
