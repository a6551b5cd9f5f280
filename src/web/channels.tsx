import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type FieldError, invalid } from '../domain/errors';
import { type Actor, decide } from '../domain/permissions';
import { YOUTUBE_CATEGORY_DEFAULT, YOUTUBE_PRIVACY } from '../domain/rendering';
import { TIKTOK_PRIVACY_LEVELS, tiktokFacts } from '../domain/tiktok';
import { PLATFORMS, type Platform } from '../domain/vocabulary';
import { requireActor } from '../http/auth';
import { ROUTE_LIMITS } from '../http/rate-limit';
import {
  archiveChannel,
  type ChannelRow,
  type ChannelView,
  channelFor,
  connectMeta,
  createChannel,
  listChannels,
  recheckChannel,
  updateChannel,
  viewsOf,
} from '../services/channels';
import { channelFreeSlots } from '../services/deliveries';
import { channelShares, type SlotShare } from '../services/slot-planning';
import { listVisibleUnits, type UnitRow } from '../services/units';
import { ActionButton, Csrf, Field, handleOf, PlatformName, Time, ZoneSelect } from './components';
import { useEnv } from './env';
import type { Messages } from './i18n/index';
import { blank, type WebOptions } from './kit';
import { AdminNav, Layout } from './layout';
import { fieldErrorsOf, isUserError, noticeOf, problemText } from './page';
import { SlotShares } from './slot-shares';
import { formatTime, zoneLabel } from './time';

/** Admin: the accounts Gaung publishes to — create, connect, posting slots and limits, verify, pause. */

function ChannelsPage(props: {
  channels: ChannelView[];
  units: UnitRow[];
  managed: UnitRow[];
  notice?: string | null;
  error?: string | null;
  errors?: FieldError[];
  values?: Record<string, string>;
}) {
  const { t } = useEnv();
  const unitName = new Map(props.units.map((u) => [u.id, u.name]));
  const values = props.values ?? {};
  return (
    <Layout title={t.channels.title} notice={props.notice} error={props.error} subnav={<AdminNav />}>
      {props.channels.length === 0 ? <p class="empty">{t.channels.empty}</p> : null}
      <ul class="list">
        {props.channels.map((c) => (
          <li class="item" data-channel={c.id}>
            <div class="item-head">
              <PlatformName platform={c.platform} /> <a href={`/admin/channels/${c.id}`}>{c.name}</a>{' '}
              <span class={`badge channel-${c.status}`}>{t.channelStatus[c.status]}</span>
            </div>
            <div class="meta">
              {unitName.get(c.unitId) ?? ''} · {t.channels.slotCount(c.slots.length)}
              {c.handle ? ` · ${handleOf(c.handle)}` : ''}
            </div>
          </li>
        ))}
      </ul>
      {props.managed.length > 0 ? (
        <form method="post" action="/admin/channels" class="card">
          <Csrf />
          <h2>{t.channels.create}</h2>
          <Field id="unitId" label={t.channels.unit} errors={props.errors}>
            <select id="unitId" name="unitId">
              {props.managed.map((u) => (
                <option value={u.id} selected={u.id === values.unitId}>
                  {u.name}
                </option>
              ))}
            </select>
          </Field>
          <Field id="platform" label={t.channels.platform} errors={props.errors}>
            <select id="platform" name="platform">
              {PLATFORMS.map((p) => (
                <option value={p} selected={p === values.platform}>
                  {t.platform[p]}
                </option>
              ))}
            </select>
          </Field>
          <Field id="name" label={t.channels.name} errors={props.errors}>
            <input id="name" name="name" required maxLength={120} value={values.name ?? ''} />
          </Field>
          <Field id="timeZone" label={t.channels.timeZone} errors={props.errors}>
            <ZoneSelect id="timeZone" value={values.timeZone} emptyLabel={t.channels.unitZone} />
          </Field>
          <button type="submit" class="button primary">
            {t.channels.createButton}
          </button>
        </form>
      ) : null}
    </Layout>
  );
}

/** The credential fields of each platform's connect form: [form field, where it goes, input type]. */
const CONNECT_FIELDS: Partial<
  Record<Platform, [string, 'settings' | 'credentials', 'text' | 'url' | 'password'][]>
> = {
  telegram: [
    ['chatId', 'settings', 'text'],
    ['botToken', 'credentials', 'password'],
  ],
  mastodon: [
    ['instanceUrl', 'settings', 'url'],
    ['accessToken', 'credentials', 'password'],
  ],
  bluesky: [
    ['pdsUrl', 'settings', 'url'],
    ['identifier', 'credentials', 'text'],
    ['appPassword', 'credentials', 'password'],
  ],
  webhook: [
    ['url', 'settings', 'url'],
    ['secret', 'credentials', 'password'],
  ],
};

type ConnectField = keyof Messages['channels']['fields'];

/** A stored (non-secret) setting, to show in its form field again. */
const settingOf = (channel: ChannelView, name: string) =>
  typeof channel.settings[name] === 'string' ? (channel.settings[name] as string) : '';

function ConnectSection(props: {
  channel: ChannelView;
  errors?: FieldError[];
  /** Gaung's public address is https (TikTok registers https redirect addresses only). */
  httpsCallback: boolean;
  pages?: { pageId: string; name: string; instagram: string | null }[];
}) {
  const { t } = useEnv();
  const { channel } = props;
  if (channel.platform === 'x') return <ConsentButton channel={channel} label={t.channels.connectX} />;
  if (channel.platform === 'threads')
    return <ConsentButton channel={channel} label={t.channels.connectThreads} />;
  if (channel.platform === 'youtube') return <YoutubeSection channel={channel} errors={props.errors} />;
  if (channel.platform === 'tiktok')
    return <TiktokSection channel={channel} errors={props.errors} httpsCallback={props.httpsCallback} />;
  if (channel.platform === 'facebook' || channel.platform === 'instagram')
    return (
      <form method="post" action={`/admin/channels/${channel.id}/meta`}>
        <Csrf />
        <Field
          id="userAccessToken"
          label={t.channels.metaToken}
          hint={t.channels.metaHint}
          errors={props.errors}
        >
          <input id="userAccessToken" name="userAccessToken" type="password" autoComplete="off" required />
        </Field>
        {props.pages?.length ? (
          <Field id="pageId" label={t.channels.metaPage} errors={props.errors}>
            <select id="pageId" name="pageId">
              {props.pages.map((p) => (
                <option value={p.pageId}>{p.instagram ? `${p.name} (@${p.instagram})` : p.name}</option>
              ))}
            </select>
          </Field>
        ) : null}
        <button type="submit" class="button primary">
          {t.channels.connect}
        </button>
      </form>
    );
  const fields = CONNECT_FIELDS[channel.platform];
  if (!fields) return <p class="muted">{t.channels.noCredentials}</p>;
  return (
    <form method="post" action={`/admin/channels/${channel.id}/connect`}>
      <Csrf />
      {fields.map(([name, part, type]) => (
        <Field
          id={name}
          label={t.channels.fields[name as ConnectField]}
          errors={props.errors}
          field={`${part}.${name}`}
        >
          {type === 'password' ? (
            <input id={name} name={name} type="password" autoComplete="off" required />
          ) : type === 'url' ? (
            <input
              id={name}
              name={name}
              type="url"
              autoComplete="off"
              required={name !== 'pdsUrl'}
              value={settingOf(channel, name)}
            />
          ) : (
            <input
              id={name}
              name={name}
              type="text"
              autoComplete="off"
              required
              value={settingOf(channel, name)}
            />
          )}
        </Field>
      ))}
      <button type="submit" class="button primary">
        {t.channels.connect}
      </button>
    </form>
  );
}

/** Starts the platform's OAuth consent flow (the API route redirects a browser there). */
function ConsentButton(props: { channel: ChannelView; label: string }) {
  return (
    <p>
      <a
        class="button primary"
        href={`/api/v1/channels/${props.channel.id}/connect/${props.channel.platform}`}
      >
        {props.label}
      </a>
    </p>
  );
}

/** YouTube: Google's consent page, then the choices YouTube asks of every upload. */
function YoutubeSection(props: { channel: ChannelView; errors?: FieldError[] }) {
  const { t } = useEnv();
  const { channel } = props;
  const settings = channel.settings;
  const kids = typeof settings.madeForKids === 'boolean' ? settings.madeForKids : null;
  return (
    <>
      <ConsentButton channel={channel} label={t.channels.connectYoutube} />
      <p class="muted">{t.channels.youtubeApiNote}</p>
      <form method="post" action={`/admin/channels/${channel.id}/youtube`}>
        <Csrf />
        <h3>{t.channels.youtubeTitle}</h3>
        <fieldset>
          <legend>{t.channels.madeForKids}</legend>
          <p class="muted">{t.channels.madeForKidsHint}</p>
          <label>
            <input type="radio" name="madeForKids" value="false" required checked={kids === false} />{' '}
            {t.channels.madeForKidsNo}
          </label>
          <label>
            <input type="radio" name="madeForKids" value="true" checked={kids === true} />{' '}
            {t.channels.madeForKidsYes}
          </label>
        </fieldset>
        <Field
          id="privacyStatus"
          label={t.channels.privacyStatus}
          errors={props.errors}
          field="settings.privacyStatus"
        >
          <select id="privacyStatus" name="privacyStatus">
            {YOUTUBE_PRIVACY.map((value) => (
              <option value={value} selected={(settings.privacyStatus ?? 'public') === value}>
                {t.channels.privacy[value] ?? value}
              </option>
            ))}
          </select>
        </Field>
        <Field
          id="categoryId"
          label={t.channels.categoryId}
          hint={t.channels.categoryHint}
          errors={props.errors}
          field="settings.categoryId"
        >
          <input
            id="categoryId"
            name="categoryId"
            inputMode="numeric"
            maxLength={3}
            value={settingOf(channel, 'categoryId') || YOUTUBE_CATEGORY_DEFAULT}
          />
        </Field>
        <Field
          id="playlistId"
          label={t.channels.playlistId}
          errors={props.errors}
          field="settings.playlistId"
        >
          <input id="playlistId" name="playlistId" maxLength={64} value={settingOf(channel, 'playlistId')} />
        </Field>
        <label>
          <input type="checkbox" name="longUploads" value="true" checked={settings.longUploads === true} />{' '}
          {t.channels.longUploads}
        </label>
        <button type="submit" class="button primary">
          {t.common.save}
        </button>
      </form>
    </>
  );
}

/**
 * TikTok: Login Kit's consent page (only where Gaung's address is https, as TikTok requires), then
 * whether Gaung's TikTok app is audited, whether its media domain is verified with TikTok, and an
 * optional standing privacy choice; what the creator allows is shown as TikTok last reported it.
 */
function TiktokSection(props: { channel: ChannelView; errors?: FieldError[]; httpsCallback: boolean }) {
  const { t } = useEnv();
  const { channel } = props;
  const facts = tiktokFacts(channel.settings);
  const settings = channel.settings;
  return (
    <>
      {props.httpsCallback ? (
        <ConsentButton channel={channel} label={t.channels.connectTiktok} />
      ) : (
        <p class="notice" data-tiktok-https>
          {t.channels.tiktokNeedsHttps}
        </p>
      )}
      <p class="muted">{t.channels.youtubeApiNote}</p>
      {facts.privacyLevelOptions ? (
        <p class="muted">
          {t.channels.tiktokCreatorAllows(
            facts.privacyLevelOptions.map((level) => t.review.tiktokPrivacy[level]),
          )}
          {typeof settings.maxVideoSeconds === 'number'
            ? ` ${t.channels.tiktokMaxVideo(settings.maxVideoSeconds)}`
            : ''}
        </p>
      ) : null}
      <form method="post" action={`/admin/channels/${channel.id}/tiktok`}>
        <Csrf />
        <h3>{t.channels.tiktokTitle}</h3>
        <label>
          <input type="checkbox" name="unaudited" value="true" checked={settings.unaudited === true} />{' '}
          {t.channels.tiktokUnaudited}
        </label>
        <label>
          <input
            type="checkbox"
            name="mediaDomainVerified"
            value="true"
            checked={settings.mediaDomainVerified === true}
          />{' '}
          {t.channels.tiktokMediaDomain}
        </label>
        <Field
          id="privacyLevel"
          label={t.channels.tiktokPrivacyLevel}
          hint={t.channels.tiktokPrivacyHint}
          errors={props.errors}
          field="settings.privacyLevel"
        >
          <select id="privacyLevel" name="privacyLevel">
            <option value="" selected={!facts.privacyLevel}>
              {t.channels.tiktokNoStandingChoice}
            </option>
            {TIKTOK_PRIVACY_LEVELS.map((level) => (
              <option value={level} selected={facts.privacyLevel === level}>
                {t.review.tiktokPrivacy[level]}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit" class="button primary">
          {t.common.save}
        </button>
      </form>
    </>
  );
}

function ChannelPage(props: {
  channel: ChannelView;
  unitName: string;
  free: Date[];
  shares: { windowDays: number; list: SlotShare[] };
  notice?: string | null;
  error?: string | null;
  errors?: FieldError[];
  pages?: { pageId: string; name: string; instagram: string | null }[];
  httpsCallback: boolean;
}) {
  const { t, locale, zone } = useEnv();
  const { channel } = props;
  return (
    <Layout title={channel.name} notice={props.notice} error={props.error} subnav={<AdminNav />}>
      <section class="card" aria-labelledby="status-title">
        <h2 id="status-title">{t.channels.statusTitle}</h2>
        <p>
          <PlatformName platform={channel.platform} /> · {props.unitName} ·{' '}
          <span class={`badge channel-${channel.status}`} data-channel-status={channel.status}>
            {t.channelStatus[channel.status]}
          </span>
          {channel.handle ? ` · ${handleOf(channel.handle)}` : ''}
        </p>
        {channel.statusReason ? <p class="error-text">{channel.statusReason}</p> : null}
        {channel.credentialsExpiresAt ? (
          <p class="muted">
            {t.channels.expires} <Time at={channel.credentialsExpiresAt} />
          </p>
        ) : null}
        <div class="actions">
          <ActionButton action={`/admin/channels/${channel.id}/verify`} label={t.channels.verify} />
          {channel.status === 'paused' ? (
            <ActionButton
              action={`/admin/channels/${channel.id}/pause`}
              label={t.channels.resume}
              hidden={{ paused: 'false' }}
            />
          ) : (
            <ActionButton
              action={`/admin/channels/${channel.id}/pause`}
              label={t.channels.pause}
              hidden={{ paused: 'true' }}
            />
          )}
        </div>
      </section>
      <section class="card" aria-labelledby="connect-title">
        <h2 id="connect-title">{t.channels.connectTitle}</h2>
        <ConnectSection
          channel={channel}
          errors={props.errors}
          pages={props.pages}
          httpsCallback={props.httpsCallback}
        />
      </section>
      <form method="post" action={`/admin/channels/${channel.id}`} class="card">
        <Csrf />
        <h2>{t.channels.publishing}</h2>
        <Field id="name" label={t.channels.name} errors={props.errors}>
          <input id="name" name="name" required maxLength={120} value={channel.name} />
        </Field>
        <Field id="timeZone" label={t.channels.timeZone} errors={props.errors}>
          <ZoneSelect id="timeZone" value={channel.timeZone} />
        </Field>
        <Field id="slots" label={t.channels.slots} hint={t.channels.slotsHint} errors={props.errors}>
          <textarea id="slots" name="slots" rows={4}>
            {channel.slots.join('\n')}
          </textarea>
        </Field>
        <Field id="dailyCap" label={t.channels.dailyCap} hint={t.channels.dailyCapHint} errors={props.errors}>
          <input
            id="dailyCap"
            name="dailyCap"
            type="number"
            min={1}
            max={1000}
            inputMode="numeric"
            value={channel.dailyCap === null ? '' : String(channel.dailyCap)}
          />
        </Field>
        <Field id="minSpacingMinutes" label={t.channels.spacing} errors={props.errors}>
          <input
            id="minSpacingMinutes"
            name="minSpacingMinutes"
            type="number"
            min={0}
            max={1440}
            inputMode="numeric"
            value={String(channel.minSpacingMinutes)}
          />
        </Field>
        <Field
          id="creditTemplate"
          label={t.channels.credit}
          hint={t.channels.creditHint}
          errors={props.errors}
        >
          <textarea id="creditTemplate" name="creditTemplate" rows={3} maxLength={1000}>
            {channel.creditTemplate}
          </textarea>
        </Field>
        <button type="submit" class="button primary">
          {t.common.save}
        </button>
      </form>
      <section class="card" aria-labelledby="free-title">
        <h2 id="free-title">{t.channels.nextFree}</h2>
        {props.free.length === 0 ? <p class="muted">{t.channels.noFree}</p> : null}
        <ul class="bare">
          {props.free.slice(0, 10).map((slot) => (
            <li>
              <Time at={slot} /> <span class="muted">({formatTime(slot, locale, channel.timeZone)})</span>
            </li>
          ))}
        </ul>
        <p>
          <a href={`/calendar?channel=${channel.id}`}>{t.channels.onCalendar}</a>
        </p>
      </section>
      <SlotShares shares={props.shares.list} windowDays={props.shares.windowDays} />
      <details class="card danger-zone">
        <summary>{t.channels.archive}</summary>
        <p>{t.channels.archiveHint}</p>
        <ActionButton
          action={`/admin/channels/${channel.id}/archive`}
          label={t.channels.archive}
          kind="danger"
          confirm={t.channels.archiveConfirm}
        />
      </details>
      {zone !== channel.timeZone ? (
        <p class="muted">{t.channels.zoneNote(zoneLabel(channel.timeZone))}</p>
      ) : null}
    </Layout>
  );
}

const idParams = z.strictObject({ id: z.uuid() });
const csrfOnly = z.strictObject({ _csrf: z.string().max(200) });

export const channelPages: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  const managedUnits = async (actor: Actor) => {
    const units = await listVisibleUnits(ctx, actor);
    return {
      units,
      managed: units.filter(
        (u) => decide(actor, 'channel.manage', { type: 'channel', unitPath: u.path }) === 'allow',
      ),
    };
  };

  const showList = async (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: {
      notice?: string | null;
      error?: string | null;
      errors?: FieldError[];
      values?: Record<string, string>;
      status?: number;
    } = {},
  ) => {
    const actor = requireActor(request);
    const [channels, { units, managed }] = await Promise.all([
      listChannels(ctx, actor, {}),
      managedUnits(actor),
    ]);
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <ChannelsPage channels={channels} units={units} managed={managed} {...extra} />,
      extra.status ?? 200,
    );
  };

  app.get(
    '/admin/channels',
    {
      schema: {
        hide: true,
        querystring: z.strictObject({
          ok: z.string().max(40).optional(),
          connect: z.literal('denied').optional(),
        }),
      },
    },
    async (request, reply) => {
      const env = await kit.env(request, reply);
      return showList(request, reply, {
        notice: noticeOf(env.t, request.query.ok),
        error: request.query.connect === 'denied' ? env.t.channels.connectDenied : null,
      });
    },
  );

  app.post(
    '/admin/channels',
    {
      schema: {
        hide: true,
        body: z.strictObject({
          _csrf: z.string().max(200),
          unitId: z.uuid(),
          platform: z.enum(PLATFORMS),
          name: z.string().max(200),
          timeZone: z.string().max(64).optional(),
        }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const { _csrf, ...values } = request.body;
      try {
        const view = await createChannel(
          ctx,
          { actor, ip: request.ip },
          {
            unitId: values.unitId,
            platform: values.platform,
            name: values.name.trim(),
            timeZone: blank(values.timeZone),
          },
        );
        return reply.redirect(`/admin/channels/${view.id}?ok=created`, 303);
      } catch (error) {
        if (!isUserError(error)) throw error;
        const env = await kit.env(request, reply);
        return showList(request, reply, {
          error: problemText(env.t, error),
          errors: fieldErrorsOf(env.t, error),
          values,
          status: error.status,
        });
      }
    },
  );

  const manageable = async (
    request: FastifyRequest,
    id: string,
  ): Promise<{ actor: Actor; channel: ChannelRow; unitPath: string }> => {
    const actor = requireActor(request);
    const { channel, unitPath } = await channelFor(ctx, actor, 'channel.manage', id);
    return { actor, channel, unitPath };
  };

  const showChannel = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    extra: {
      notice?: string | null;
      error?: string | null;
      errors?: FieldError[];
      pages?: { pageId: string; name: string; instagram: string | null }[];
      status?: number;
    } = {},
  ) => {
    const { channel } = await manageable(request, id);
    const [[view], units] = await Promise.all([
      viewsOf(ctx.db, [channel]),
      listVisibleUnits(ctx, requireActor(request)),
    ]);
    const now = ctx.now();
    const free = await channelFreeSlots(ctx, channel, now, new Date(now.getTime() + 7 * 86_400_000));
    const windowDays = ctx.config.GAUNG_FAIR_SHARE_DAYS;
    const shares = await channelShares(ctx.db, channel.id, now, windowDays);
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <ChannelPage
        channel={view!}
        unitName={units.find((u) => u.id === channel.unitId)?.name ?? ''}
        free={free}
        httpsCallback={ctx.config.publicUrl.startsWith('https://')}
        shares={{ windowDays, list: shares }}
        {...extra}
      />,
      extra.status ?? 200,
    );
  };

  app.get(
    '/admin/channels/:id',
    {
      schema: {
        hide: true,
        params: idParams,
        querystring: z.strictObject({
          ok: z.string().max(40).optional(),
          connected: z.enum(['0', '1']).optional(),
        }),
      },
    },
    async (request, reply) => {
      const env = await kit.env(request, reply);
      const { connected, ok } = request.query;
      return showChannel(request, reply, request.params.id, {
        notice: connected === '1' ? env.t.channels.connected : noticeOf(env.t, ok),
        error: connected === '0' ? env.t.channels.connectFailed : null,
      });
    },
  );

  /** A change to a channel: done → its page with a notice; refused → its page with the reasons. */
  const change = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    ok: keyof Messages['notices'],
    work: (actor: Actor, channel: ChannelRow) => Promise<unknown>,
  ) => {
    const { actor, channel } = await manageable(request, id);
    try {
      await work(actor, channel);
      return reply.redirect(`/admin/channels/${id}?ok=${ok}`, 303);
    } catch (error) {
      if (!isUserError(error) || error.status === 404) throw error;
      const env = await kit.env(request, reply);
      const pages = error.extra?.pages as
        | { pageId: string; name: string; instagram: string | null }[]
        | undefined;
      return showChannel(request, reply, id, {
        error: problemText(env.t, error),
        errors: fieldErrorsOf(env.t, error),
        pages,
        status: error.status,
      });
    }
  };

  const numberOrNull = (value: string | undefined) => (blank(value) === undefined ? null : Number(value));

  app.post(
    '/admin/channels/:id',
    {
      schema: {
        hide: true,
        params: idParams,
        body: z.strictObject({
          _csrf: z.string().max(200),
          name: z.string().max(200),
          timeZone: z.string().max(64),
          slots: z.string().max(12_000),
          dailyCap: z.string().max(10),
          minSpacingMinutes: z.string().max(10),
          creditTemplate: z.string().max(2000),
        }),
      },
    },
    (request, reply) =>
      change(request, reply, request.params.id, 'saved', async (actor, channel) => {
        const body = request.body;
        const dailyCap = numberOrNull(body.dailyCap);
        const spacing = numberOrNull(body.minSpacingMinutes) ?? 0;
        const errors: FieldError[] = [];
        if (dailyCap !== null && (!Number.isInteger(dailyCap) || dailyCap < 1 || dailyCap > 1000))
          errors.push({ field: 'dailyCap', message: '1–1000', code: 'too_small' });
        if (!Number.isInteger(spacing) || spacing < 0 || spacing > 1440)
          errors.push({ field: 'minSpacingMinutes', message: '0–1440', code: 'too_small' });
        if (body.name.trim() === '') errors.push({ field: 'name', message: 'required', code: 'required' });
        if (errors.length > 0) throw invalid(errors);
        await updateChannel(ctx, { actor, ip: request.ip }, channel.id, {
          name: body.name.trim(),
          timeZone: body.timeZone,
          slots: body.slots
            .split('\n')
            .map((line) => line.trim())
            .filter(Boolean),
          dailyCap,
          minSpacingMinutes: spacing,
          creditTemplate: body.creditTemplate.replace(/\r\n?/g, '\n'),
        });
      }),
  );

  const connectForm = z.strictObject({
    _csrf: z.string().max(200),
    chatId: z.string().max(200).optional(),
    botToken: z.string().max(500).optional(),
    instanceUrl: z.string().max(2048).optional(),
    accessToken: z.string().max(4000).optional(),
    pdsUrl: z.string().max(2048).optional(),
    identifier: z.string().max(300).optional(),
    appPassword: z.string().max(300).optional(),
    url: z.string().max(2048).optional(),
    secret: z.string().max(500).optional(),
  });

  app.post(
    '/admin/channels/:id/connect',
    { schema: { hide: true, params: idParams, body: connectForm } },
    (request, reply) =>
      change(request, reply, request.params.id, 'connected', async (actor, channel) => {
        const fields = CONNECT_FIELDS[channel.platform] ?? [];
        const settings: Record<string, string> = {};
        const credentials: Record<string, string> = {};
        const body = request.body as Record<string, string | undefined>;
        for (const [name, part] of fields) {
          const value = blank(body[name]);
          if (value !== undefined) (part === 'settings' ? settings : credentials)[name] = value;
        }
        await updateChannel(ctx, { actor, ip: request.ip }, channel.id, { settings, credentials });
      }),
  );

  app.post(
    '/admin/channels/:id/youtube',
    {
      schema: {
        hide: true,
        params: idParams,
        body: z.strictObject({
          _csrf: z.string().max(200),
          madeForKids: z.enum(['true', 'false']).optional(),
          privacyStatus: z.string().max(20).optional(),
          categoryId: z.string().max(10).optional(),
          playlistId: z.string().max(100).optional(),
          longUploads: z.literal('true').optional(),
        }),
      },
    },
    (request, reply) =>
      change(request, reply, request.params.id, 'saved', async (actor, channel) => {
        const body = request.body;
        if (channel.platform !== 'youtube')
          throw invalid([{ field: 'platform', message: 'not a YouTube channel', code: 'wrong_platform' }]);
        if (!body.madeForKids)
          throw invalid([{ field: 'settings.madeForKids', message: 'required', code: 'required' }]);
        const { playlistId: _, categoryId: __, privacyStatus: ___, ...kept } = channel.settings;
        await updateChannel(ctx, { actor, ip: request.ip }, channel.id, {
          settings: {
            ...kept,
            madeForKids: body.madeForKids === 'true',
            longUploads: body.longUploads === 'true',
            ...(blank(body.privacyStatus) ? { privacyStatus: body.privacyStatus } : {}),
            ...(blank(body.categoryId) ? { categoryId: blank(body.categoryId) } : {}),
            ...(blank(body.playlistId) ? { playlistId: blank(body.playlistId) } : {}),
          },
        });
      }),
  );

  app.post(
    '/admin/channels/:id/tiktok',
    {
      schema: {
        hide: true,
        params: idParams,
        body: z.strictObject({
          _csrf: z.string().max(200),
          unaudited: z.literal('true').optional(),
          mediaDomainVerified: z.literal('true').optional(),
          privacyLevel: z.union([z.literal(''), z.enum(TIKTOK_PRIVACY_LEVELS)]).optional(),
        }),
      },
    },
    (request, reply) =>
      change(request, reply, request.params.id, 'saved', async (actor, channel) => {
        const body = request.body;
        if (channel.platform !== 'tiktok')
          throw invalid([{ field: 'platform', message: 'not a TikTok channel', code: 'wrong_platform' }]);
        const { privacyLevel: _, ...kept } = channel.settings;
        await updateChannel(ctx, { actor, ip: request.ip }, channel.id, {
          settings: {
            ...kept,
            unaudited: body.unaudited === 'true',
            mediaDomainVerified: body.mediaDomainVerified === 'true',
            ...(body.privacyLevel ? { privacyLevel: body.privacyLevel } : {}),
          },
        });
      }),
  );

  app.post(
    '/admin/channels/:id/meta',
    {
      schema: {
        hide: true,
        params: idParams,
        body: z.strictObject({
          _csrf: z.string().max(200),
          userAccessToken: z.string().max(1000),
          pageId: z.string().max(40).optional(),
        }),
      },
    },
    (request, reply) =>
      change(request, reply, request.params.id, 'connected', (actor, channel) =>
        connectMeta(ctx, { actor, ip: request.ip }, channel.id, {
          userAccessToken: request.body.userAccessToken.trim(),
          pageId: blank(request.body.pageId),
        }),
      ),
  );

  app.post(
    '/admin/channels/:id/verify',
    {
      config: { rateLimit: ROUTE_LIMITS.channelVerify },
      schema: { hide: true, params: idParams, body: csrfOnly },
    },
    async (request, reply) => {
      const who = { actor: requireActor(request), ip: request.ip };
      const result = await recheckChannel(ctx, who, request.params.id);
      const env = await kit.env(request, reply);
      return showChannel(request, reply, result.channel.id, {
        notice: result.account ? env.t.notices.verified : null,
        error: result.problem,
      });
    },
  );

  app.post(
    '/admin/channels/:id/pause',
    {
      schema: {
        hide: true,
        params: idParams,
        body: z.strictObject({ _csrf: z.string().max(200), paused: z.enum(['true', 'false']) }),
      },
    },
    (request, reply) =>
      change(
        request,
        reply,
        request.params.id,
        request.body.paused === 'true' ? 'paused' : 'resumed',
        (actor, channel) =>
          updateChannel(ctx, { actor, ip: request.ip }, channel.id, {
            paused: request.body.paused === 'true',
          }),
      ),
  );

  app.post(
    '/admin/channels/:id/archive',
    { schema: { hide: true, params: idParams, body: csrfOnly } },
    async (request, reply) => {
      await archiveChannel(ctx, { actor: requireActor(request), ip: request.ip }, request.params.id);
      return reply.redirect('/admin/channels?ok=archived', 303);
    },
  );
};
