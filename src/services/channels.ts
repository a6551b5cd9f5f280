import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Config } from '../../config/env';
import { YOUTUBE_UNITS_PER_PUBLISH } from '../../config/platform-limits';
import { type AppContext, redisKey } from '../context';
import type { DbOrTx } from '../db/client';
import { channels, notifications, postingSlots, units, users } from '../db/schema';
import type { ChannelEvent } from '../domain/channel-machine';
import { AppError, type FieldError, invalid, notFound, notFoundAt, unprocessable } from '../domain/errors';
import { isTimeZone } from '../domain/org';
import { type Actor, authorize, decide } from '../domain/permissions';
import type { QuotaOverrides } from '../domain/rate-limits';
import { validateCron } from '../domain/slots';
import type { OAuthProvider, Platform } from '../domain/vocabulary';
import { takeCallSlot } from '../infra/rate-limiter';
import { connectMetaPages } from '../platforms/facebook';
import { sleep } from '../platforms/shared';
import { buildThreadsAuthorizeUrl, exchangeThreadsCode } from '../platforms/threads';
import { buildTiktokAuthorizeUrl, exchangeTiktokCode } from '../platforms/tiktok';
import type {
  AccountInfo,
  NetworkReach,
  PlatformAdapter,
  PlatformApps,
  PlatformContext,
  PlatformEndpoints,
} from '../platforms/types';
import { PlatformError } from '../platforms/types';
import { buildXAuthorizeUrl, exchangeXCode } from '../platforms/x';
import { buildGoogleAuthorizeUrl, exchangeGoogleCode } from '../platforms/youtube';
import { recordAudit } from './audit';
import { transitionChannelRow } from './channel-transitions';
import { transitionDeliveries } from './delivery-transitions';

/**
 * Channels: the national (or regional) accounts Gaung publishes to. Credentials are encrypted with
 * the channel id as associated data, so a ciphertext cannot be moved to another channel; they never
 * leave this module in an API answer and are never logged.
 */

export type ChannelRow = typeof channels.$inferSelect;

/** Who changes a channel, for the audit trail. `actorId` is null when Gaung itself acts. */
export interface Initiator {
  actorId: string | null;
  ip: string | null;
}

export interface ActingUser {
  actor: Actor;
  ip: string | null;
}

const initiator = (who: ActingUser): Initiator => ({ actorId: who.actor.userId, ip: who.ip });

export interface ChannelView {
  id: string;
  unitId: string;
  platform: Platform;
  name: string;
  handle: string | null;
  status: ChannelRow['status'];
  statusReason: string | null;
  settings: Record<string, unknown>;
  timeZone: string;
  dailyCap: number | null;
  minSpacingMinutes: number;
  creditTemplate: string;
  slots: string[];
  connected: boolean;
  credentialsExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export function adapterFor(ctx: AppContext, platform: Platform): PlatformAdapter {
  const adapter = ctx.platforms.get(platform);
  if (!adapter) throw new AppError('platform_unavailable', 422, `Gaung has no adapter for ${platform}`);
  return adapter;
}

function decryptCredentials(
  ctx: AppContext,
  channel: Pick<ChannelRow, 'id' | 'credentials'>,
): Record<string, unknown> {
  if (!channel.credentials) return {};
  return ctx.keys.decrypt<Record<string, unknown>>(channel.credentials, channel.id);
}

export const endpointsOf = (config: Config): PlatformEndpoints => ({
  xApi: config.GAUNG_X_API_URL,
  xUpload: config.GAUNG_X_UPLOAD_URL,
  graph: config.GAUNG_GRAPH_API_URL,
  threads: config.GAUNG_THREADS_API_URL,
  threadsAuth: config.GAUNG_THREADS_AUTH_URL,
  telegram: config.GAUNG_TELEGRAM_API_URL,
  youtube: config.GAUNG_YOUTUBE_API_URL,
  googleAuth: config.GAUNG_GOOGLE_AUTH_URL,
  googleToken: config.GAUNG_GOOGLE_TOKEN_URL,
  tiktok: config.GAUNG_TIKTOK_API_URL,
  tiktokAuth: config.GAUNG_TIKTOK_AUTH_URL,
  plcDirectory: config.GAUNG_PLC_DIRECTORY_URL,
  youtubeFeeds: config.GAUNG_YOUTUBE_FEEDS_URL,
});

/** The operator's figures for the quotas of Gaung's platform projects. */
export const quotaOverridesOf = (config: Config): QuotaOverrides => ({
  youtube: {
    timeZone: config.GAUNG_YOUTUBE_QUOTA_TIME_ZONE,
    max: {
      uploads: config.GAUNG_YOUTUBE_DAILY_UPLOADS,
      units: Math.max(1, Math.floor(config.GAUNG_YOUTUBE_DAILY_UNITS / YOUTUBE_UNITS_PER_PUBLISH)),
    },
  },
});

export const reachOf = (config: Config): NetworkReach => (config.GAUNG_ALLOW_PRIVATE_URLS ? 'any' : 'public');

export const appsOf = (config: Config): PlatformApps => ({
  x: config.GAUNG_X_CLIENT_ID
    ? { clientId: config.GAUNG_X_CLIENT_ID, clientSecret: config.GAUNG_X_CLIENT_SECRET }
    : undefined,
  meta:
    config.GAUNG_META_APP_ID && config.GAUNG_META_APP_SECRET
      ? { appId: config.GAUNG_META_APP_ID, appSecret: config.GAUNG_META_APP_SECRET }
      : undefined,
  threads:
    config.GAUNG_THREADS_APP_ID && config.GAUNG_THREADS_APP_SECRET
      ? { appId: config.GAUNG_THREADS_APP_ID, appSecret: config.GAUNG_THREADS_APP_SECRET }
      : undefined,
  google:
    config.GAUNG_GOOGLE_CLIENT_ID && config.GAUNG_GOOGLE_CLIENT_SECRET
      ? { clientId: config.GAUNG_GOOGLE_CLIENT_ID, clientSecret: config.GAUNG_GOOGLE_CLIENT_SECRET }
      : undefined,
  tiktok:
    config.GAUNG_TIKTOK_CLIENT_KEY && config.GAUNG_TIKTOK_CLIENT_SECRET
      ? { clientKey: config.GAUNG_TIKTOK_CLIENT_KEY, clientSecret: config.GAUNG_TIKTOK_CLIENT_SECRET }
      : undefined,
  youtube: config.GAUNG_YOUTUBE_API_KEY ? { apiKey: config.GAUNG_YOUTUBE_API_KEY } : undefined,
});

/**
 * What an adapter needs to act for a channel. Rotated tokens are written back with a
 * compare-and-set on `credentials_version`, so two workers refreshing at once store one result.
 * Credentials still under an old secret key are re-encrypted under the current one on first use.
 */
export async function platformContextFor(
  ctx: AppContext,
  channel: ChannelRow,
  options: { signal?: AbortSignal; onRateLimit?: PlatformContext['onRateLimit'] } = {},
): Promise<PlatformContext> {
  let version = channel.credentialsVersion;
  let credentials = decryptCredentials(ctx, channel);

  const save = async (next: Record<string, unknown>, expiresAt: Date | null): Promise<boolean> => {
    const updated = await ctx.db
      .update(channels)
      .set({
        credentials: ctx.keys.encrypt(next, channel.id),
        credentialsVersion: version + 1,
        credentialsExpiresAt: expiresAt,
        updatedAt: ctx.now(),
      })
      .where(and(eq(channels.id, channel.id), eq(channels.credentialsVersion, version)))
      .returning({ version: channels.credentialsVersion });
    if (updated.length === 0) return false;
    version += 1;
    credentials = next;
    return true;
  };

  if (channel.credentials && ctx.keys.isStale(channel.credentials))
    await save(credentials, channel.credentialsExpiresAt);

  return {
    channel: { id: channel.id, platform: channel.platform, settings: channel.settings },
    get credentials() {
      return credentials;
    },
    saveCredentials: save,
    async reloadCredentials() {
      const [fresh] = await ctx.db.select().from(channels).where(eq(channels.id, channel.id));
      if (!fresh) throw notFound('Channel');
      version = fresh.credentialsVersion;
      credentials = decryptCredentials(ctx, fresh);
      return credentials;
    },
    endpoints: endpointsOf(ctx.config),
    apps: appsOf(ctx.config),
    reach: reachOf(ctx.config),
    onRateLimit: options.onRateLimit,
    log: ctx.log.child({ channelId: channel.id, platform: channel.platform }),
    signal: options.signal,
    callSlot: (budget) => takeCallSlot(ctx, budget, (ms) => sleep(ms, options.signal)),
  };
}

async function slotsOf(db: DbOrTx, channelIds: string[]): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>();
  if (channelIds.length === 0) return map;
  const rows = await db
    .select({ channelId: postingSlots.channelId, cron: postingSlots.cron })
    .from(postingSlots)
    .where(inArray(postingSlots.channelId, channelIds))
    .orderBy(asc(postingSlots.channelId), asc(postingSlots.position));
  for (const row of rows) map.set(row.channelId, [...(map.get(row.channelId) ?? []), row.cron]);
  return map;
}

export function toView(channel: ChannelRow, slots: string[]): ChannelView {
  return {
    id: channel.id,
    unitId: channel.unitId,
    platform: channel.platform,
    name: channel.name,
    handle: channel.handle,
    status: channel.status,
    statusReason: channel.statusReason,
    settings: channel.settings,
    timeZone: channel.timeZone,
    dailyCap: channel.dailyCap,
    minSpacingMinutes: channel.minSpacingMinutes,
    creditTemplate: channel.creditTemplate,
    slots,
    connected: channel.credentials !== null,
    credentialsExpiresAt: channel.credentialsExpiresAt?.toISOString() ?? null,
    createdAt: channel.createdAt.toISOString(),
    updatedAt: channel.updatedAt.toISOString(),
  };
}

export async function viewsOf(db: DbOrTx, rows: ChannelRow[]): Promise<ChannelView[]> {
  const slots = await slotsOf(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((row) => toView(row, slots.get(row.id) ?? []));
}

/**
 * The view as the actor may see it: settings that may carry a secret (a webhook's URL) only for
 * those who manage the channel; everyone else who may read it sees the rest.
 */
export function channelViewFor(
  ctx: AppContext,
  actor: Actor,
  view: ChannelView,
  unitPath: string,
): ChannelView {
  if (decide(actor, 'channel.manage', { type: 'channel', unitPath }) === 'allow') return view;
  const hidden = ctx.platforms.get(view.platform)?.privateSettings ?? [];
  const settings = Object.fromEntries(Object.entries(view.settings).filter(([key]) => !hidden.includes(key)));
  return { ...view, settings };
}

/** The channel, when the actor may `action` it; 404 or 403 otherwise. */
export async function channelFor(
  ctx: AppContext,
  actor: Actor,
  action: 'channel.read' | 'channel.manage' | 'channel.target',
  id: string,
): Promise<{ channel: ChannelRow; unitPath: string }> {
  const found = await loadChannel(ctx.db, id);
  authorize(actor, action, { type: 'channel', unitPath: found.unitPath }, 'Channel');
  return found;
}

export const readableChannel = (ctx: AppContext, actor: Actor, id: string) =>
  channelFor(ctx, actor, 'channel.read', id);

/** One channel as the actor may see it. */
export async function getChannel(ctx: AppContext, actor: Actor, id: string): Promise<ChannelView> {
  const { channel, unitPath } = await readableChannel(ctx, actor, id);
  return channelViewFor(ctx, actor, (await viewsOf(ctx.db, [channel]))[0]!, unitPath);
}

/** Replaces a channel's posting slots (cron lines in its time zone). */
export async function setChannelSlots(
  ctx: AppContext,
  actor: Actor,
  id: string,
  slots: string[],
): Promise<ChannelView> {
  const { channel } = await channelFor(ctx, actor, 'channel.manage', id);
  checkSlots(slots);
  await ctx.db.transaction((tx) => replaceSlots(tx, channel.id, slots));
  return toView(channel, slots);
}

/** A manager's check of the channel's credentials with its platform, now. */
export async function recheckChannel(
  ctx: AppContext,
  who: ActingUser,
  id: string,
): Promise<{ channel: ChannelView; account: AccountInfo | null; problem: string | null }> {
  const { channel } = await channelFor(ctx, who.actor, 'channel.manage', id);
  const result = await verifyChannel(ctx, channel, initiator(who));
  return {
    channel: (await viewsOf(ctx.db, [result.channel]))[0]!,
    account: result.account,
    problem: result.problem,
  };
}

/** The channel with its owning unit's path (for `authorize`), or 404. Archived channels are gone. */
export async function loadChannel(
  db: DbOrTx,
  id: string,
): Promise<{ channel: ChannelRow; unitPath: string }> {
  const [row] = await db
    .select({ channel: channels, unitPath: units.path })
    .from(channels)
    .innerJoin(units, eq(units.id, channels.unitId))
    .where(and(eq(channels.id, id), isNull(channels.archivedAt)));
  if (!row) throw notFound('Channel');
  return row;
}

/** Channels the actor may see: those of their subtree and of the units above them. */
export async function listChannels(
  ctx: AppContext,
  actor: Actor,
  filters: { unitId?: string; platform?: Platform; status?: ChannelRow['status'] },
): Promise<ChannelView[]> {
  const visibleUnit =
    actor.role === 'contributor'
      ? sql`(${units.path} = ${actor.unitPath} or ${actor.unitPath} like ${units.path} || '%')`
      : sql`(${units.path} like ${`${actor.unitPath}%`} or ${actor.unitPath} like ${units.path} || '%')`;
  const rows = await ctx.db
    .select({ channel: channels, unitPath: units.path })
    .from(channels)
    .innerJoin(units, eq(units.id, channels.unitId))
    .where(
      and(
        isNull(channels.archivedAt),
        visibleUnit,
        filters.unitId ? eq(channels.unitId, filters.unitId) : undefined,
        filters.platform ? eq(channels.platform, filters.platform) : undefined,
        filters.status ? eq(channels.status, filters.status) : undefined,
      ),
    )
    .orderBy(asc(channels.platform), asc(channels.name));
  const views = await viewsOf(
    ctx.db,
    rows.map((r) => r.channel),
  );
  return views.map((view, i) => channelViewFor(ctx, actor, view, rows[i]!.unitPath));
}

/**
 * When credentials given with an `expiresAt` (as OAuth hands them over, or as a person pastes them
 * through the API) expire: the refresher renews them before then. Channels and sources alike.
 */
export function credentialsExpiry(credentials: Record<string, unknown> | null | undefined): Date | null {
  const at = typeof credentials?.expiresAt === 'string' ? new Date(credentials.expiresAt) : null;
  return at && !Number.isNaN(at.getTime()) ? at : null;
}

/** Checks settings and credentials against the adapter's schemas; field errors name `settings.x`. */
export function parseChannelSecrets(
  adapter: PlatformAdapter,
  input: { settings?: unknown; credentials?: unknown },
): { settings?: Record<string, unknown>; credentials?: Record<string, unknown> } {
  const errors: FieldError[] = [];
  const out: { settings?: Record<string, unknown>; credentials?: Record<string, unknown> } = {};
  for (const part of ['settings', 'credentials'] as const) {
    if (input[part] === undefined) continue;
    const schema = part === 'settings' ? adapter.settingsSchema : adapter.credentialsSchema;
    const parsed = schema.safeParse(input[part]);
    if (parsed.success) out[part] = parsed.data;
    // Credential values are never echoed back in messages.
    else
      for (const issue of parsed.error.issues)
        errors.push({ field: [part, ...issue.path].join('.'), message: issue.message, code: issue.code });
  }
  if (errors.length > 0) throw invalid(errors);
  return out;
}

export function checkSlots(slots: string[]): void {
  const errors: FieldError[] = [];
  slots.forEach((cron, index) => {
    const problem = validateCron(cron);
    if (problem) errors.push({ field: `slots.${index}`, message: problem, code: 'invalid_cron' });
  });
  if (errors.length > 0) throw invalid(errors);
}

export async function replaceSlots(db: DbOrTx, channelId: string, slots: string[]): Promise<void> {
  await db.delete(postingSlots).where(eq(postingSlots.channelId, channelId));
  if (slots.length > 0)
    await db.insert(postingSlots).values(slots.map((cron, position) => ({ channelId, cron, position })));
}

/**
 * Asks the platform whether the stored credentials work. A refusal of the credentials marks the
 * channel `needs_reauth` (its deliveries wait) and tells the owners; success makes it active again.
 */
export async function verifyChannel(
  ctx: AppContext,
  channel: ChannelRow,
  by: Initiator,
): Promise<{ channel: ChannelRow; account: AccountInfo | null; problem: string | null }> {
  const adapter = adapterFor(ctx, channel.platform);
  let account: AccountInfo | null = null;
  let problem: string | null = null;
  let authFailure = false;
  let settings = channel.settings;
  if (!channel.credentials && adapter.credentialsSchema.safeParse({}).success === false) {
    problem = 'Not connected yet: add the account credentials';
    authFailure = true;
  } else {
    try {
      const platform = await platformContextFor(ctx, channel);
      const found = await adapter.verifyCredentials(platform);
      if (adapter.describeChannel)
        settings = adapter.settingsSchema.parse({
          ...channel.settings,
          ...(await adapter.describeChannel(platform)),
        });
      account = found;
    } catch (error) {
      const classification =
        error instanceof PlatformError ? error.classification : adapter.classifyError(error);
      problem = classification.message;
      authFailure = classification.kind === 'auth' || classification.kind === 'invalid';
    }
  }
  const now = ctx.now();
  // A transient failure (network, 5xx) changes no status; it is only reported.
  const event: ChannelEvent | null = account ? 'verified' : authFailure ? 'credentials_refused' : null;
  const columns = account ? { handle: account.handle, settings } : {};
  const action = account ? 'channel.verified' : 'channel.verify_failed';
  const details = problem ? { problem } : {};
  const updated = await ctx.db.transaction(async (tx) => {
    if (event)
      return (await transitionChannelRow(ctx, tx, {
        channelId: channel.id,
        event,
        now,
        by,
        action,
        details,
        columns,
        statusReason: (to, current) => (to === 'paused' ? current.statusReason : account ? null : problem),
      }))!.channel;
    const [row] = await tx
      .update(channels)
      .set({ statusReason: channel.status === 'paused' ? channel.statusReason : problem, updatedAt: now })
      .where(eq(channels.id, channel.id))
      .returning();
    await recordAudit(ctx, tx, {
      ...by,
      unitId: channel.unitId,
      action,
      targetType: 'channel',
      targetId: channel.id,
      details: { from: channel.status, status: channel.status, ...details },
    });
    return row!;
  });
  // Owners hear of a new problem once, not on every failed check of the same one.
  if (!account && authFailure && (channel.status !== 'needs_reauth' || channel.statusReason !== problem))
    await notifyNeedsReauth(ctx, updated);
  return { channel: updated, account, problem };
}

/** Marks a channel `needs_reauth` after the platform refused its credentials while publishing. */
export async function markNeedsReauth(ctx: AppContext, channelId: string, reason: string): Promise<void> {
  const changed = await ctx.db.transaction((tx) =>
    transitionChannelRow(ctx, tx, {
      channelId,
      event: 'credentials_refused',
      now: ctx.now(),
      by: { actorId: null, ip: null },
      action: 'channel.needs_reauth',
      details: { problem: reason },
      statusReason: () => reason,
      onlyIfChanged: true,
    }),
  );
  if (changed) await notifyNeedsReauth(ctx, changed.channel);
}

/** Tells the channel's owners (admins and reviewers of its unit) in the app. */
async function notifyNeedsReauth(ctx: AppContext, channel: ChannelRow): Promise<void> {
  const owners = await ctx.db
    .select({ id: users.id })
    .from(users)
    .where(
      and(
        eq(users.unitId, channel.unitId),
        inArray(users.role, ['admin', 'reviewer']),
        isNull(users.disabledAt),
      ),
    );
  if (owners.length === 0) return;
  await ctx.db.insert(notifications).values(
    owners.map((owner) => ({
      userId: owner.id,
      kind: 'channel.needs_reauth' as const,
      data: {
        channelId: channel.id,
        channelName: channel.name,
        platform: channel.platform,
        reason: channel.statusReason,
      },
    })),
  );
}

/**
 * Removes a channel from use: it is archived (deliveries keep their history) and its scheduled
 * deliveries are cancelled through the delivery state machine.
 */
export async function archiveChannel(ctx: AppContext, who: ActingUser, channelId: string): Promise<void> {
  const { channel } = await channelFor(ctx, who.actor, 'channel.manage', channelId);
  const by = initiator(who);
  const now = ctx.now();
  await ctx.db.transaction(async (tx) => {
    let cancelled = 0;
    for (const from of ['scheduled', 'failed', 'needs_attention'] as const) {
      const rows = await transitionDeliveries(
        tx,
        {
          from,
          event: 'cancel',
          now,
          where: sql`d.channel_id = ${channel.id}::uuid`,
          actorId: by.actorId,
          reason: 'channel removed',
        },
        sql`select id from changed`,
      );
      cancelled += rows.length;
    }
    await transitionChannelRow(ctx, tx, {
      channelId: channel.id,
      event: 'archive',
      now,
      by,
      action: 'channel.archived',
      details: { cancelledDeliveries: cancelled },
      columns: { credentials: null },
    });
  });
}

const PLACEHOLDERS = new Set(['text', 'unit', 'source_url', 'link', 'hashtags']);

export function checkCreditTemplate(template: string): FieldError | null {
  if (!template.includes('{text}'))
    return { field: 'creditTemplate', message: 'must contain {text}', code: 'missing_text_placeholder' };
  for (const match of template.matchAll(/\{([a-z_]+)\}/g))
    if (!PLACEHOLDERS.has(match[1]!))
      return {
        field: 'creditTemplate',
        message: `unknown placeholder {${match[1]}}; use {text}, {unit}, {source_url}, {link}, {hashtags}`,
        code: 'unknown_placeholder',
      };
  return null;
}

export interface ChannelInput {
  unitId: string;
  platform: Platform;
  name: string;
  settings?: Record<string, unknown>;
  credentials?: Record<string, unknown>;
  timeZone?: string;
  dailyCap?: number | null;
  minSpacingMinutes?: number;
  creditTemplate?: string;
  slots?: string[];
}

export type ChannelPatch = Partial<Omit<ChannelInput, 'unitId' | 'platform'>> & { paused?: boolean };

function checkCommon(input: { timeZone?: string; creditTemplate?: string; slots?: string[] }): void {
  const errors: FieldError[] = [];
  if (input.timeZone !== undefined && !isTimeZone(input.timeZone))
    errors.push({
      field: 'timeZone',
      message: 'not an IANA time zone (e.g. Asia/Jakarta)',
      code: 'invalid_time_zone',
    });
  if (input.creditTemplate !== undefined) {
    const problem = checkCreditTemplate(input.creditTemplate);
    if (problem) errors.push(problem);
  }
  if (errors.length > 0) throw invalid(errors);
  if (input.slots) checkSlots(input.slots);
}

export async function createChannel(
  ctx: AppContext,
  who: ActingUser,
  input: ChannelInput,
): Promise<ChannelView> {
  const [unit] = await ctx.db.select().from(units).where(eq(units.id, input.unitId));
  if (!unit) throw notFoundAt('Unit', 'unitId');
  authorize(who.actor, 'channel.manage', { type: 'channel', unitPath: unit.path }, 'Unit', 'unitId');
  checkCommon(input);
  const adapter = adapterFor(ctx, input.platform);
  // Settings may come later with a connect flow; an unverified channel does not publish.
  const parsed = parseChannelSecrets(adapter, { settings: input.settings, credentials: input.credentials });
  const id = crypto.randomUUID();
  const now = ctx.now();
  const row = await ctx.db.transaction(async (tx) => {
    const [created] = await tx
      .insert(channels)
      .values({
        id,
        unitId: unit.id,
        platform: input.platform,
        name: input.name,
        settings: parsed.settings ?? {},
        credentials: parsed.credentials ? ctx.keys.encrypt(parsed.credentials, id) : null,
        credentialsVersion: parsed.credentials ? 1 : 0,
        credentialsExpiresAt: credentialsExpiry(parsed.credentials),
        timeZone: input.timeZone ?? unit.timeZone,
        dailyCap: input.dailyCap ?? null,
        minSpacingMinutes: input.minSpacingMinutes ?? 0,
        ...(input.creditTemplate !== undefined ? { creditTemplate: input.creditTemplate } : {}),
        status: 'needs_reauth',
        statusReason: 'Not verified yet',
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await replaceSlots(tx, id, input.slots ?? []);
    await recordAudit(ctx, tx, {
      ...initiator(who),
      unitId: unit.id,
      action: 'channel.created',
      targetType: 'channel',
      targetId: id,
      details: { platform: input.platform, name: input.name },
    });
    return created!;
  });
  const verified = await verifyChannel(ctx, row, initiator(who));
  return toView(verified.channel, input.slots ?? []);
}

export async function updateChannel(
  ctx: AppContext,
  who: ActingUser,
  channelId: string,
  patch: ChannelPatch,
): Promise<ChannelView> {
  const { channel } = await channelFor(ctx, who.actor, 'channel.manage', channelId);
  checkCommon(patch);
  const adapter = adapterFor(ctx, channel.platform);
  const parsed = parseChannelSecrets(adapter, { settings: patch.settings, credentials: patch.credentials });
  const now = ctx.now();
  const changed = Object.keys(patch).filter((key) => key !== 'credentials');
  const row = await ctx.db.transaction(async (tx) => {
    const [updated] = await tx
      .update(channels)
      .set({
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(parsed.settings ? { settings: parsed.settings } : {}),
        ...(parsed.credentials
          ? {
              credentials: ctx.keys.encrypt(parsed.credentials, channel.id),
              credentialsVersion: sql`${channels.credentialsVersion} + 1`,
              credentialsExpiresAt: credentialsExpiry(parsed.credentials),
            }
          : {}),
        ...(patch.timeZone !== undefined ? { timeZone: patch.timeZone } : {}),
        ...(patch.dailyCap !== undefined ? { dailyCap: patch.dailyCap } : {}),
        ...(patch.minSpacingMinutes !== undefined ? { minSpacingMinutes: patch.minSpacingMinutes } : {}),
        ...(patch.creditTemplate !== undefined ? { creditTemplate: patch.creditTemplate } : {}),
        updatedAt: now,
      })
      .where(eq(channels.id, channel.id))
      .returning();
    if (patch.slots) await replaceSlots(tx, channel.id, patch.slots);
    const event =
      patch.paused === true
        ? 'pause'
        : patch.paused === false && updated!.status === 'paused'
          ? 'resume'
          : null;
    const stepped = event
      ? await transitionChannelRow(ctx, tx, {
          channelId: channel.id,
          event,
          now,
          by: initiator(who),
          action: event === 'pause' ? 'channel.paused' : 'channel.resumed',
          statusReason: () => (event === 'pause' ? 'Paused by an administrator' : null),
        })
      : null;
    await recordAudit(ctx, tx, {
      ...initiator(who),
      unitId: channel.unitId,
      action: 'channel.updated',
      targetType: 'channel',
      targetId: channel.id,
      details: { fields: parsed.credentials ? [...changed, 'credentials'] : changed },
    });
    return stepped?.channel ?? updated!;
  });
  // New credentials, or un-pausing, are checked with the platform before the channel is used again.
  if (parsed.credentials || patch.paused === false)
    return toView(
      (await verifyChannel(ctx, row, initiator(who))).channel,
      (await slotsOf(ctx.db, [row.id])).get(row.id) ?? [],
    );
  return toView(row, (await slotsOf(ctx.db, [row.id])).get(row.id) ?? []);
}

const OAUTH_STATE_TTL_SECONDS = 600;

interface OAuthFlow {
  label: string;
  /** Why the operator's app is missing, or null when it is configured. */
  appMissing(apps: PlatformApps): string | null;
  /** Why the platform would refuse Gaung's callback address, or null. */
  redirectProblem?(redirectUri: string): string | null;
  authorize(
    endpoints: PlatformEndpoints,
    apps: PlatformApps,
    redirectUri: string,
  ): { url: string; state: string; codeVerifier: string };
  exchange(
    endpoints: PlatformEndpoints,
    apps: PlatformApps,
    callback: { code: string; codeVerifier: string; redirectUri: string },
  ): Promise<{
    credentials: Record<string, unknown> & { expiresAt: string };
    settings: Record<string, unknown>;
  }>;
}

const OAUTH_FLOWS: Record<OAuthProvider, OAuthFlow> = {
  x: {
    label: 'X',
    appMissing: (apps) => (apps.x ? null : 'No X app is configured (GAUNG_X_CLIENT_ID)'),
    authorize: buildXAuthorizeUrl,
    exchange: exchangeXCode,
  },
  youtube: {
    label: 'YouTube',
    appMissing: (apps) =>
      apps.google
        ? null
        : 'No Google OAuth client is configured (GAUNG_GOOGLE_CLIENT_ID, GAUNG_GOOGLE_CLIENT_SECRET)',
    authorize: buildGoogleAuthorizeUrl,
    exchange: exchangeGoogleCode,
  },
  threads: {
    label: 'Threads',
    appMissing: (apps) =>
      apps.threads ? null : 'No Threads app is configured (GAUNG_THREADS_APP_ID, GAUNG_THREADS_APP_SECRET)',
    authorize: buildThreadsAuthorizeUrl,
    exchange: exchangeThreadsCode,
  },
  tiktok: {
    label: 'TikTok',
    appMissing: (apps) =>
      apps.tiktok
        ? null
        : 'No TikTok app is configured (GAUNG_TIKTOK_CLIENT_KEY, GAUNG_TIKTOK_CLIENT_SECRET)',
    // TikTok registers web redirect URIs only with https.
    redirectProblem: (redirectUri) =>
      redirectUri.startsWith('https://')
        ? null
        : 'TikTok accepts only https redirect addresses: set GAUNG_PUBLIC_URL to an https address, or give the tokens through the API',
    authorize: buildTiktokAuthorizeUrl,
    exchange: exchangeTiktokCode,
  },
};

export const oauthCallbackUrl = (ctx: AppContext, provider: OAuthProvider) =>
  `${ctx.config.publicUrl}/api/v1/oauth/${provider}/callback`;

/** Fails a connect flow with the platform's own words, without touching the channel. */
function connectFailed(error: unknown, adapter: PlatformAdapter): never {
  const classification = error instanceof PlatformError ? error.classification : adapter.classifyError(error);
  throw unprocessable('connect_failed', classification.message);
}

/**
 * What an OAuth flow connects: an existing channel, or a new source of the user's own unit (created
 * once the platform hands over the tokens).
 */
export type OAuthTarget = { channelId: string } | { source: { autoSubmit: boolean; tags: string[] } };

/**
 * Step 1 of connecting an account by OAuth 2.0 (X, YouTube, TikTok with PKCE; Threads): the consent
 * URL. The verifier stays in Redis for ten minutes under the random `state`, bound to the user who started
 * the flow and to what it connects.
 */
export async function startOAuthFlow(
  ctx: AppContext,
  who: ActingUser,
  provider: OAuthProvider,
  target: OAuthTarget,
): Promise<string> {
  const flow = OAUTH_FLOWS[provider];
  const apps = appsOf(ctx.config);
  const missing = flow.appMissing(apps);
  if (missing) throw unprocessable(`${provider}_app_missing`, missing);
  const redirectProblem = flow.redirectProblem?.(oauthCallbackUrl(ctx, provider));
  if (redirectProblem) throw unprocessable('redirect_not_https', redirectProblem);
  const link = flow.authorize(endpointsOf(ctx.config), apps, oauthCallbackUrl(ctx, provider));
  await ctx.redis.set(
    redisKey(ctx, 'oauth', provider, link.state),
    JSON.stringify({ target, userId: who.actor.userId, codeVerifier: link.codeVerifier }),
    'EX',
    OAUTH_STATE_TTL_SECONDS,
  );
  return link.url;
}

/** Step 1 for a channel of this platform. */
export async function startOAuthConnect(
  ctx: AppContext,
  who: ActingUser,
  channelId: string,
  provider: OAuthProvider,
): Promise<string> {
  const { channel } = await channelFor(ctx, who.actor, 'channel.manage', channelId);
  if (channel.platform !== provider)
    throw unprocessable('wrong_platform', `This channel is not a ${OAUTH_FLOWS[provider].label} account`);
  return startOAuthFlow(ctx, who, provider, { channelId: channel.id });
}

/** The state of a callback: single-use, and it must come back to the user who started. */
export async function takeOAuthState(
  ctx: AppContext,
  who: ActingUser,
  provider: OAuthProvider,
  state: string,
): Promise<{ target: OAuthTarget; codeVerifier: string }> {
  const raw = await ctx.redis.getdel(redisKey(ctx, 'oauth', provider, state));
  const saved = raw
    ? (JSON.parse(raw) as { target: OAuthTarget; userId: string; codeVerifier: string })
    : null;
  if (!saved || saved.userId !== who.actor.userId)
    throw invalid([
      { field: 'state', message: 'unknown or expired; start connecting again', code: 'oauth_state' },
    ]);
  return saved;
}

/** Step 2: the code exchanged for the account's tokens (and what the platform tells of the account). */
export function exchangeOAuthCode(
  ctx: AppContext,
  provider: OAuthProvider,
  code: string,
  codeVerifier: string,
): Promise<{
  credentials: Record<string, unknown> & { expiresAt: string };
  settings: Record<string, unknown>;
}> {
  const adapter = adapterFor(ctx, provider);
  return OAUTH_FLOWS[provider]
    .exchange(endpointsOf(ctx.config), appsOf(ctx.config), {
      code,
      codeVerifier,
      redirectUri: oauthCallbackUrl(ctx, provider),
    })
    .catch((error: unknown) => connectFailed(error, adapter));
}

/** Step 2 for a channel: its new tokens, checked with the platform. */
export async function finishOAuthConnect(
  ctx: AppContext,
  who: ActingUser,
  provider: OAuthProvider,
  target: { channelId: string },
  callback: { code: string; codeVerifier: string },
): Promise<ChannelView> {
  const { channel } = await channelFor(ctx, who.actor, 'channel.manage', target.channelId);
  const result = await exchangeOAuthCode(ctx, provider, callback.code, callback.codeVerifier);
  return updateChannel(ctx, who, channel.id, {
    credentials: result.credentials,
    settings: { ...channel.settings, ...result.settings },
  });
}

/**
 * A Facebook Page or the Instagram account linked to it, from a short-lived user token of Meta's
 * login dialog: exchanged for a long-lived one, whose page token is what Gaung keeps. A user who
 * manages several Pages is asked which one (`choose_page`, with the Pages).
 */
export async function metaAccount(
  ctx: AppContext,
  platform: 'facebook' | 'instagram',
  input: { userAccessToken: string; pageId?: string },
): Promise<{ credentials: Record<string, unknown>; settings: Record<string, unknown> }> {
  const adapter = adapterFor(ctx, platform);
  const pages = await connectMetaPages(
    ctx.config.GAUNG_GRAPH_API_URL,
    appsOf(ctx.config).meta,
    input.userAccessToken,
  ).catch((error: unknown) => connectFailed(error, adapter));
  const candidates = pages.filter((page) => platform === 'facebook' || page.instagram);
  const page = input.pageId
    ? candidates.find((p) => p.pageId === input.pageId)
    : candidates.length === 1
      ? candidates[0]
      : undefined;
  if (!page)
    throw unprocessable(
      candidates.length === 0 ? 'no_pages' : 'choose_page',
      candidates.length === 0
        ? `This Meta account manages no Page${platform === 'instagram' ? ' with a linked Instagram account' : ''}`
        : 'Choose which Page to connect (pageId)',
      {
        pages: candidates.map((p) => ({
          pageId: p.pageId,
          name: p.name,
          instagram: p.instagram?.username ?? null,
        })),
      },
    );
  return platform === 'facebook'
    ? { credentials: { pageAccessToken: page.pageAccessToken }, settings: { pageId: page.pageId } }
    : {
        credentials: { accessToken: page.pageAccessToken },
        settings: { igUserId: page.instagram!.igUserId },
      };
}

/** Connects a Facebook Page channel, or an Instagram one, through Meta's login dialog. */
export async function connectMeta(
  ctx: AppContext,
  who: ActingUser,
  channelId: string,
  input: { userAccessToken: string; pageId?: string },
): Promise<ChannelView> {
  const { channel } = await channelFor(ctx, who.actor, 'channel.manage', channelId);
  if (channel.platform !== 'facebook' && channel.platform !== 'instagram')
    throw unprocessable('wrong_platform', 'Only Facebook and Instagram channels connect through Meta');
  const account = await metaAccount(ctx, channel.platform, {
    userAccessToken: input.userAccessToken,
    pageId: input.pageId ?? (channel.settings.pageId as string | undefined),
  });
  return updateChannel(ctx, who, channel.id, account);
}
