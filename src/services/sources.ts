import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { and, asc, eq, getTableColumns, isNull, lte, ne, or, type SQL, sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import { type DbOrTx, preparedPerDatabase } from '../db/client';
import { channels, notifications, posts, sources, units, users } from '../db/schema';
import { AppError, conflict, invalid, notFound } from '../domain/errors';
import { ALT_TEXT_MAX } from '../domain/media-rules';
import { type Actor, authorize } from '../domain/permissions';
import type { SourceEvent } from '../domain/source-machine';
import {
  type OAuthProvider,
  type Platform,
  SOURCE_KINDS,
  type SourceKind,
  type SourceStatus,
} from '../domain/vocabulary';
import {
  FEED_KINDS,
  FeedError,
  type FeedKind,
  fetchFeedMedia,
  resolveFeed,
  shorten,
} from '../platforms/feeds';
import { sourceReaderFor } from '../platforms/index';
import { findSourceChat } from '../platforms/telegram-source';
import { type NetworkReach, type PlatformContext, PlatformError, type SourceItem } from '../platforms/types';
import { enqueueSourcePolls, enqueueTelegramBotRound } from '../queues/producers';
import { recordAudit } from './audit';
import {
  type ActingUser,
  adapterFor,
  appsOf,
  credentialsExpiry,
  endpointsOf,
  exchangeOAuthCode,
  platformContextFor,
  reachOf,
  startOAuthFlow,
} from './channels';
import { recordUploads, stageUpload, type UploadToRecord } from './media';
import { askOrigin, checkPendingOrigins, originOfDueDelivery, settleDeletedOrigin } from './origins';
import { transitionInTx } from './post-transitions';
import { insertSourceDrafts, normaliseTags, type SourceDraft } from './posts';
import { type IngestRule, queueRuleApprovals, rulesOfSource, rulesOfSourceJson } from './source-rules';
import { type SourceTransition, transitionSourceRow } from './source-transitions';
import { loadUnit } from './units';

/**
 * Ingest: Gaung reads the offices' own accounts and brings each new item in as a post of the office,
 * with its text, pictures and videos, and the item's address as the source URL (so reviewers can
 * repost or quote the original). Items become drafts for the office to finish or, when the source says
 * so, go straight to the reviewers' inbox. Each item becomes at most one post, however often it is read.
 */

export type SourceRow = typeof sources.$inferSelect;

export interface SourceView {
  id: string;
  unitId: string;
  kind: SourceKind;
  url: string;
  handle: string | null;
  title: string | null;
  settings: Record<string, unknown>;
  /** `needs_reauth` once the platform refused the credentials: reconnect (PATCH credentials) to read again. */
  status: SourceStatus;
  /** Whether the source has credentials of its own (never returned). */
  hasCredentials: boolean;
  channelId: string | null;
  autoSubmit: boolean;
  tags: string[];
  since: string;
  paused: boolean;
  nextPollAt: string | null;
  lastPolledAt: string | null;
  failures: number;
  lastError: string | null;
  itemsImported: number;
  createdBy: string;
  createdAt: string;
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function sourceView(row: SourceRow): SourceView {
  return {
    id: row.id,
    unitId: row.unitId,
    kind: row.kind,
    url: row.url,
    handle: row.handle,
    title: row.title,
    settings: row.settings,
    status: row.status,
    hasCredentials: row.credentials !== null,
    channelId: row.channelId,
    autoSubmit: row.autoSubmit,
    tags: row.tags,
    since: row.since.toISOString(),
    paused: row.pausedAt !== null,
    nextPollAt: row.pausedAt ? null : iso(row.nextPollAt),
    lastPolledAt: iso(row.lastPolledAt),
    failures: row.failures,
    lastError: row.lastError,
    itemsImported: row.itemsImported,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
  };
}

/** A source with its unit's path (for `authorize`), or 404. */
export async function loadSource(db: DbOrTx, id: string): Promise<{ source: SourceRow; unitPath: string }> {
  const [row] = await db
    .select({ source: sources, unitPath: units.path })
    .from(sources)
    .innerJoin(units, eq(units.id, sources.unitId))
    .where(eq(sources.id, id));
  if (!row) throw notFound('Source');
  return row;
}

/** The source, when the actor may `action` it; 404 or 403 otherwise. */
async function sourceFor(
  ctx: AppContext,
  actor: Actor,
  action: 'source.read' | 'source.manage' | 'source.control',
  id: string,
): Promise<SourceRow> {
  const { source, unitPath } = await loadSource(ctx.db, id);
  authorize(actor, action, { type: 'source', unitPath }, 'Source');
  return source;
}

export async function getSource(ctx: AppContext, actor: Actor, id: string): Promise<SourceView> {
  return sourceView(await sourceFor(ctx, actor, 'source.read', id));
}

/** The sources of the units whose posts the actor sees. */
export async function listSources(
  ctx: AppContext,
  actor: Actor,
  filters: { unitId?: string },
): Promise<SourceView[]> {
  const visible =
    actor.role === 'contributor'
      ? eq(units.path, actor.unitPath)
      : sql`${units.path} like ${`${actor.unitPath}%`}`;
  const rows = await ctx.db
    .select({ source: sources })
    .from(sources)
    .innerJoin(units, eq(units.id, sources.unitId))
    .where(and(visible, filters.unitId ? eq(sources.unitId, filters.unitId) : undefined))
    .orderBy(asc(units.name), asc(sources.createdAt));
  return rows.map((r) => sourceView(r.source));
}

/** The kinds this Gaung reads: those with a reader, and Telegram where a source bot is configured. */
export function offeredSourceKinds(ctx: AppContext): SourceKind[] {
  return SOURCE_KINDS.filter((kind) =>
    kind === 'telegram'
      ? ctx.config.GAUNG_TELEGRAM_SOURCE_BOT_TOKEN !== undefined
      : sourceReaderFor(ctx.platforms, kind) !== undefined,
  );
}

/** The channels of a unit a source of the same platform may read with (connected once, used for both). */
export async function lendingChannels(
  ctx: AppContext,
  unitId: string,
): Promise<{ id: string; name: string; platform: Platform }[]> {
  return ctx.db
    .select({ id: channels.id, name: channels.name, platform: channels.platform })
    .from(channels)
    .where(and(eq(channels.unitId, unitId), isNull(channels.archivedAt)))
    .orderBy(asc(channels.name));
}

export interface SourceInput {
  kind: SourceKind;
  /** The feed's or profile's address; for a platform account, `handle` may name it instead. */
  url?: string;
  handle?: string;
  settings?: Record<string, unknown>;
  /** The account's credentials, checked with the platform and kept encrypted. */
  credentials?: Record<string, unknown>;
  /** A channel of the same unit and platform whose credentials the source reads with. */
  channelId?: string;
  autoSubmit?: boolean;
  tags?: string[];
  /** Bring in items published from this time on (default: the last day; the archive stays out). */
  since?: Date;
}

const unreadable = (error: Error, field = 'url') =>
  new AppError('source_unreadable', 422, error.message, {
    errors: [{ field, message: error.message, code: 'source_unreadable' }],
  });

/** Where an account's profile is, for a source named by its handle. */
const PROFILE_URLS: Partial<Record<SourceKind, (handle: string) => string>> = {
  x: (h) => `https://x.com/${h}`,
  instagram: (h) => `https://www.instagram.com/${h}/`,
  facebook: (h) => `https://www.facebook.com/${h}`,
  threads: (h) => `https://www.threads.net/@${h}`,
  bluesky: (h) => `https://bsky.app/profile/${h}`,
  telegram: (h) => `https://t.me/${h}`,
  youtube: (h) => `https://www.youtube.com/@${h}`,
  tiktok: (h) => `https://www.tiktok.com/@${h}`,
};

const isFeedKind = (kind: SourceKind): kind is FeedKind => (FEED_KINDS as readonly string[]).includes(kind);

/** What a new source needs beyond the input: its address, account id, title and checked credentials. */
interface Resolved {
  url: string;
  handle: string | null;
  accountId: string | null;
  title: string | null;
  credentials: Record<string, unknown> | null;
  settings: Record<string, unknown>;
}

/**
 * Checks a new source before it is kept: a feed is read once; an account's credentials (its own or
 * its channel's) are verified with the platform, which also tells its handle.
 */
async function resolveSource(ctx: AppContext, unitId: string, input: SourceInput): Promise<Resolved> {
  if (input.kind === 'telegram') return resolveTelegramSource(ctx, input);
  if (!sourceReaderFor(ctx.platforms, input.kind))
    throw invalid([
      {
        field: 'kind',
        message: `Gaung cannot read ${input.kind} accounts yet`,
        code: 'source_kind_unavailable',
      },
    ]);
  const settings = input.settings ?? {};
  if (isFeedKind(input.kind)) {
    if (!input.url) throw invalid([{ field: 'url', message: 'is required for this kind', code: 'required' }]);
    const resolved = await resolveFeed(input.kind, input.url, { reach: reachOf(ctx.config) }).catch(
      (error: unknown) => {
        throw error instanceof FeedError ? unreadable(error) : error;
      },
    );
    return { url: input.url, handle: null, credentials: null, settings, ...resolved };
  }
  const kind = input.kind as Platform;
  const adapter = adapterFor(ctx, kind);
  let credentials: Record<string, unknown> | null = null;
  let verifyWith: PlatformContext | null = null;
  if (input.channelId) {
    const [channel] = await ctx.db.select().from(channels).where(eq(channels.id, input.channelId));
    if (!channel || channel.unitId !== unitId || channel.platform !== kind || channel.archivedAt)
      throw invalid([
        {
          field: 'channelId',
          message: `must be a ${kind} channel of the same unit`,
          code: 'source_channel_mismatch',
        },
      ]);
    verifyWith = await platformContextFor(ctx, channel);
  } else if (input.credentials) {
    const parsed = adapter.credentialsSchema.safeParse(input.credentials);
    if (!parsed.success)
      throw invalid([
        { field: 'credentials', message: 'are not valid for this platform', code: 'invalid_credentials' },
      ]);
    credentials = parsed.data;
    verifyWith = readingContext(ctx, { id: randomUUID(), kind, settings }, credentials);
  }
  let handle = input.handle?.replace(/^@/, '') ?? null;
  let accountId: string | null = null;
  if (verifyWith) {
    const account = await adapter.verifyCredentials(verifyWith).catch((error: unknown) => {
      const classified = adapter.classifyError(error);
      throw unreadable(
        new Error(`${kind} refused these credentials: ${classified.message}`),
        input.channelId ? 'channelId' : 'credentials',
      );
    });
    handle ??= account.handle.replace(/^@/, '');
    accountId = account.remoteId;
  }
  const youtubeChannel =
    input.kind === 'youtube' && typeof settings.channelId === 'string' ? settings.channelId : null;
  const url =
    input.url ??
    (handle ? PROFILE_URLS[input.kind]?.(handle) : undefined) ??
    (youtubeChannel ? `https://www.youtube.com/channel/${youtubeChannel}` : undefined);
  if (!url)
    throw invalid([{ field: 'handle', message: 'name the account (handle or url)', code: 'required' }]);
  return { url, handle, accountId, title: handle ? `@${handle}` : null, credentials, settings };
}

/**
 * A Telegram channel is read by Gaung's source bot, which must be one of its administrators: the
 * channel is named by its `@handle` (or `settings.chatId` for a private one) and looked up as the bot.
 */
async function resolveTelegramSource(ctx: AppContext, input: SourceInput): Promise<Resolved> {
  const botToken = ctx.config.GAUNG_TELEGRAM_SOURCE_BOT_TOKEN;
  if (!botToken)
    throw invalid([
      {
        field: 'kind',
        message:
          'Telegram channels are read by a source bot this Gaung has none of (GAUNG_TELEGRAM_SOURCE_BOT_TOKEN)',
        code: 'source_kind_unavailable',
      },
    ]);
  const settings = input.settings ?? {};
  const chatId =
    typeof settings.chatId === 'string' || typeof settings.chatId === 'number'
      ? String(settings.chatId)
      : null;
  const handle = input.handle?.replace(/^@/, '') ?? telegramHandleOf(input.url);
  if (!chatId && !handle)
    throw invalid([
      {
        field: 'handle',
        message: 'name the channel (@handle, or settings.chatId for a private one)',
        code: 'required',
      },
    ]);
  const chat = await findSourceChat({
    botToken,
    apiUrl: ctx.config.GAUNG_TELEGRAM_API_URL,
    chat: chatId ?? `@${handle}`,
  }).catch((error: unknown) => {
    if (error instanceof PlatformError)
      throw unreadable(new Error(`Telegram: ${error.message}`), chatId ? 'settings.chatId' : 'handle');
    throw error;
  });
  return {
    url: chat.url,
    handle: chat.username,
    accountId: chat.chatId,
    title: chat.title ?? (chat.username ? `@${chat.username}` : null),
    credentials: null,
    settings: { ...settings, chatId: chat.chatId },
  };
}

/** The channel a t.me address names (`https://t.me/kanim_pontianak`). */
function telegramHandleOf(url: string | undefined): string | null {
  const match = url ? /^https:\/\/t\.me\/([A-Za-z0-9_]{4,64})\/?$/.exec(url) : null;
  return match ? match[1]! : null;
}

/** Adds a source to the actor's own unit after checking it, and queues its first poll. */
export async function createSource(
  ctx: AppContext,
  who: ActingUser,
  input: SourceInput & { unitId?: string },
): Promise<SourceView> {
  const { actor } = who;
  // A source reads for the actor's own unit: naming another one is refused as that unit's reader would be.
  if (input.unitId && input.unitId !== actor.unitId) {
    const unit = await loadUnit(ctx, input.unitId);
    authorize(actor, 'source.manage', { type: 'source', unitPath: unit.path }, 'Unit');
  }
  authorize(actor, 'source.manage', { type: 'source', unitPath: actor.unitPath }, 'Unit');
  const url =
    input.url ?? (input.handle ? PROFILE_URLS[input.kind]?.(input.handle.replace(/^@/, '')) : undefined);
  if (url) {
    const [existing] = await ctx.db
      .select({ id: sources.id })
      .from(sources)
      .where(and(eq(sources.unitId, actor.unitId), eq(sources.url, url)));
    if (existing)
      throw conflict('source_exists', 'Your unit already reads this source', { sourceId: existing.id });
  }
  const resolved = await resolveSource(ctx, actor.unitId, input);
  const now = ctx.now();
  const id = randomUUID();
  const row = await ctx.db.transaction(async (tx) => {
    const [created] = await tx
      .insert(sources)
      .values({
        id,
        unitId: actor.unitId,
        createdBy: actor.userId,
        kind: input.kind,
        url: resolved.url,
        handle: resolved.handle,
        accountId: resolved.accountId,
        settings: resolved.settings,
        credentials: resolved.credentials ? ctx.keys.encrypt(resolved.credentials, id) : null,
        credentialsExpiresAt: credentialsExpiry(resolved.credentials),
        channelId: input.channelId ?? null,
        title: resolved.title ? shorten(resolved.title, 200) : null,
        autoSubmit: input.autoSubmit ?? false,
        tags: normaliseTags(input.tags ?? []),
        since: input.since ?? new Date(now.getTime() - DEFAULT_LOOKBACK_MS),
        nextPollAt: now,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing({ target: [sources.unitId, sources.url] })
      .returning();
    if (!created) throw conflict('source_exists', 'Your unit already reads this source');
    await recordAudit(ctx, tx, {
      actorId: actor.userId,
      unitId: actor.unitId,
      action: 'source.created',
      targetType: 'source',
      targetId: created.id,
      ip: who.ip,
      details: {
        kind: input.kind,
        url: resolved.url,
        autoSubmit: created.autoSubmit,
        ...(input.channelId ? { channelId: input.channelId } : {}),
        ...(resolved.credentials ? { credentials: 'given' } : {}),
      },
    });
    return created;
  });
  await enqueueReads(ctx, [row]);
  return sourceView(row);
}

export interface SourcePatch {
  autoSubmit?: boolean;
  tags?: string[];
  paused?: boolean;
  settings?: Record<string, unknown>;
  /** New credentials (a reconnection): checked with the platform; the source reads again at once. */
  credentials?: Record<string, unknown>;
}

/** Step 1 of connecting an office account as a new source by the platform's consent page. */
export function startSourceConnect(
  ctx: AppContext,
  who: ActingUser,
  provider: OAuthProvider,
  source: { autoSubmit: boolean; tags: string[] },
): Promise<string> {
  authorize(who.actor, 'source.manage', { type: 'source', unitPath: who.actor.unitPath }, 'Unit');
  return startOAuthFlow(ctx, who, provider, { source });
}

/** Step 2: the consent's code exchanged for the account's tokens, and the source made with them. */
export async function finishSourceConnect(
  ctx: AppContext,
  who: ActingUser,
  provider: OAuthProvider,
  source: { autoSubmit: boolean; tags: string[] },
  callback: { code: string; codeVerifier: string },
): Promise<SourceView> {
  authorize(who.actor, 'source.manage', { type: 'source', unitPath: who.actor.unitPath }, 'Unit');
  const account = await exchangeOAuthCode(ctx, provider, callback.code, callback.codeVerifier);
  return createSource(ctx, who, {
    kind: provider,
    credentials: account.credentials,
    settings: account.settings,
    ...source,
  });
}

export async function updateSource(
  ctx: AppContext,
  who: ActingUser,
  id: string,
  patch: SourcePatch,
): Promise<SourceView> {
  // Pausing or resuming alone is also for the admins above the office; any other change is the office's.
  const onlyPause = Object.keys(patch).every((key) => key === 'paused');
  const source = await sourceFor(ctx, who.actor, onlyPause ? 'source.control' : 'source.manage', id);
  const now = ctx.now();
  let credentials: string | null = null;
  if (patch.credentials) {
    if (isFeedKind(source.kind) || source.kind === 'telegram')
      throw invalid([
        { field: 'credentials', message: 'this kind reads without credentials', code: 'invalid' },
      ]);
    const checked = await resolveSource(ctx, source.unitId, {
      kind: source.kind,
      url: source.url,
      handle: source.handle ?? undefined,
      settings: patch.settings ?? source.settings,
      credentials: patch.credentials,
    });
    credentials = ctx.keys.encrypt(checked.credentials ?? {}, source.id);
  }
  const by = { actorId: who.actor.userId, ip: who.ip };
  const row = await ctx.db.transaction(async (tx) => {
    const columns = {
      ...(patch.settings !== undefined ? { settings: patch.settings } : {}),
      ...(patch.autoSubmit !== undefined ? { autoSubmit: patch.autoSubmit } : {}),
      ...(patch.tags !== undefined ? { tags: normaliseTags(patch.tags) } : {}),
    };
    let [updated] = await tx
      .update(sources)
      .set({ ...columns, updatedAt: now })
      .where(eq(sources.id, source.id))
      .returning();
    if (!updated) throw notFound('Source');
    if (Object.keys(columns).length > 0)
      await recordAudit(ctx, tx, {
        ...by,
        unitId: source.unitId,
        action: 'source.updated',
        targetType: 'source',
        targetId: source.id,
        details: columns,
      });
    const step = async (event: SourceEvent, action: string, stepColumns: SourceTransition['columns']) => {
      updated = (await transitionSourceRow(ctx, tx, {
        sourceId: source.id,
        event,
        now,
        by,
        action,
        columns: stepColumns,
      }))!.source;
    };
    if (credentials)
      await step('reconnected', 'source.reconnected', {
        credentials,
        credentialsVersion: source.credentialsVersion + 1,
        credentialsExpiresAt: credentialsExpiry(patch.credentials ?? null),
        failures: 0,
        lastError: null,
        nextPollAt: now,
      });
    // Pausing keeps the schedule out of the sweep; resuming polls at once and forgets earlier failures.
    if (patch.paused === true && !updated.pausedAt) await step('pause', 'source.paused', {});
    if (patch.paused === false && updated.pausedAt)
      await step('resume', 'source.resumed', { nextPollAt: now, failures: 0 });
    return updated;
  });
  if (!row.pausedAt) await enqueueReads(ctx, [row]);
  return sourceView(row);
}

/** Stops reading the source. The posts it brought in stay, without the link to it. */
export async function deleteSource(ctx: AppContext, who: ActingUser, id: string): Promise<void> {
  const source = await sourceFor(ctx, who.actor, 'source.control', id);
  await ctx.db.transaction(async (tx) => {
    await tx.delete(sources).where(eq(sources.id, source.id));
    await recordAudit(ctx, tx, {
      actorId: who.actor.userId,
      unitId: source.unitId,
      action: 'source.deleted',
      targetType: 'source',
      targetId: source.id,
      ip: who.ip,
      details: { kind: source.kind, url: source.url },
    });
  });
}

/** Makes the source due now and queues its poll (a paused source is resumed only by unpausing it). */
export async function pollSourceSoon(ctx: AppContext, actor: Actor, id: string): Promise<SourceView> {
  const source = await sourceFor(ctx, actor, 'source.manage', id);
  if (source.pausedAt) throw conflict('source_paused', 'This source is paused; resume it first');
  const now = ctx.now();
  // A poll running now keeps its lease; this one follows when it ends.
  const [row] = await ctx.db
    .update(sources)
    .set({ nextPollAt: now, updatedAt: now })
    .where(eq(sources.id, source.id))
    .returning();
  if (!row) throw notFound('Source');
  await enqueueReads(ctx, [row]);
  return sourceView(row);
}

/** Telegram sources are read together by the source bot's round; every other source by its own poll. */
async function enqueueReads(
  ctx: AppContext,
  due: readonly { id: string; kind: SourceKind; nextPollAt: Date }[],
): Promise<void> {
  const telegram = due.filter((row) => row.kind === 'telegram');
  const botToken = ctx.config.GAUNG_TELEGRAM_SOURCE_BOT_TOKEN;
  if (telegram.length > 0 && botToken)
    await enqueueTelegramBotRound(
      ctx,
      botToken,
      new Date(Math.min(...telegram.map((row) => row.nextPollAt.getTime()))),
    );
  await enqueueSourcePolls(
    ctx,
    due.filter((row) => row.kind !== 'telegram').map((row) => ({ sourceId: row.id, dueAt: row.nextPollAt })),
  );
}

// ---------------------------------------------------------------------------------------------
// Polling

/** How often a source of this kind is read: X's reads are few and paid, the others share one interval. */
export function pollSecondsOf(config: AppContext['config'], kind: SourceKind): number {
  return kind === 'x' ? config.GAUNG_SOURCE_POLL_SECONDS_X : config.GAUNG_SOURCE_POLL_SECONDS;
}

/** A new source brings in what the office published in the last day: the post it just made is usually why it adds the source. */
const DEFAULT_LOOKBACK_MS = 24 * 60 * 60_000;
/** A poll holds its source this long; a worker that dies mid-poll leaves it due again afterwards. */
const LEASE_MS = 5 * 60_000;
/** A failing source waits at most this long between polls. */
const MAX_BACKOFF_MS = 6 * 60 * 60_000;
/** Items taken per poll; the rest follow on the next one. */
const ITEMS_PER_POLL = 20;
const BODY_MAX = 10_000;

const notPolling = (now: Date | SQL) => or(isNull(sources.pollingUntil), lte(sources.pollingUntil, now));

/** Queues a poll for each source that is due; the job id makes a repeated offer a no-op. */
export async function enqueueDueSources(ctx: AppContext): Promise<number> {
  const due = await ctx.db
    .select({ id: sources.id, kind: sources.kind, nextPollAt: sources.nextPollAt })
    .from(sources)
    .where(and(isNull(sources.pausedAt), lte(sources.nextPollAt, ctx.now()), notPolling(ctx.now())))
    .orderBy(asc(sources.nextPollAt))
    .limit(1_000);
  await enqueueReads(ctx, due);
  return due.length;
}

export interface PollResult {
  outcome: 'polled' | 'not_due' | 'failed';
  imported: number;
  message?: string;
}

/**
 * What a reader needs to read a source: the source as the "channel" (its id, its kind, its settings
 * with its address), its credentials, and writes of rotated tokens back onto the source.
 */
function readingContext(
  ctx: AppContext,
  source: {
    id: string;
    kind: Platform | SourceKind;
    settings: Record<string, unknown>;
    credentialsVersion?: number;
  },
  initial: Record<string, unknown>,
): PlatformContext {
  let credentials = initial;
  let version = source.credentialsVersion ?? 0;
  return {
    channel: { id: source.id, platform: source.kind as Platform, settings: source.settings },
    get credentials() {
      return credentials;
    },
    async saveCredentials(next, expiresAt) {
      const updated = await ctx.db
        .update(sources)
        .set({
          credentials: ctx.keys.encrypt(next, source.id),
          credentialsVersion: version + 1,
          credentialsExpiresAt: expiresAt,
          updatedAt: ctx.now(),
        })
        .where(and(eq(sources.id, source.id), eq(sources.credentialsVersion, version)))
        .returning({ version: sources.credentialsVersion });
      if (updated.length === 0) return false;
      version += 1;
      credentials = next;
      return true;
    },
    async reloadCredentials() {
      const [fresh] = await ctx.db.select().from(sources).where(eq(sources.id, source.id));
      if (!fresh) throw notFound('Source');
      version = fresh.credentialsVersion;
      credentials = fresh.credentials ? ctx.keys.decrypt(fresh.credentials, fresh.id) : {};
      return credentials;
    },
    endpoints: endpointsOf(ctx.config),
    apps: appsOf(ctx.config),
    reach: reachOf(ctx.config),
    log: ctx.log.child({ sourceId: source.id, kind: source.kind }),
  };
}

/** Settings a reader sees: the source's own, and where it is (its address, handle, account id). */
const readerSettings = (source: SourceRow): Record<string, unknown> => ({
  ...source.settings,
  url: source.url,
  ...(source.handle ? { handle: source.handle } : {}),
  ...(source.accountId ? { accountId: source.accountId } : {}),
});

/**
 * The context a source is read with: its channel's (the office account connected once, for both),
 * whose rotated tokens go back to the channel; or its own credentials, refreshed as a channel's are
 * when they are about to expire.
 */
async function sourceContext(ctx: AppContext, source: SourceRow): Promise<PlatformContext> {
  const settings = readerSettings(source);
  if (source.channelId) {
    const [channel] = await ctx.db.select().from(channels).where(eq(channels.id, source.channelId));
    if (!channel || channel.archivedAt)
      throw new SourceAuthError('The channel this source reads with is gone');
    if (channel.status === 'needs_reauth')
      throw new SourceAuthError(`The channel ${channel.name} must be reconnected first`);
    const base = await platformContextFor(ctx, channel);
    return Object.assign(base, {
      channel: { id: source.id, platform: channel.platform, settings: { ...channel.settings, ...settings } },
    });
  }
  const credentials = source.credentials
    ? ctx.keys.decrypt<Record<string, unknown>>(source.credentials, source.id)
    : {};
  const reading = readingContext(ctx, { ...source, settings }, credentials);
  const adapter = isFeedKind(source.kind) ? undefined : ctx.platforms.get(source.kind as Platform);
  if (
    adapter?.refreshCredentials &&
    source.credentials &&
    source.credentialsExpiresAt &&
    source.credentialsExpiresAt.getTime() - ctx.now().getTime() < (adapter.refreshAheadMs ?? REFRESH_AHEAD_MS)
  )
    await adapter.refreshCredentials(reading);
  return reading;
}

/** Credentials that no longer work: the source waits for a person to reconnect it. */
class SourceAuthError extends Error {}

/** Tokens this close to expiry (or within their adapter's own lead time) are refreshed before a read. */
const REFRESH_AHEAD_MS = 5 * 60_000;

/** Which item kinds a source's settings include beyond its own posts (`include: ['reply', …]`). */
function included(source: SourceRow): Set<SourceItem['kind']> {
  const include = source.settings.include;
  return new Set(['post', ...(Array.isArray(include) ? include : [])] as SourceItem['kind'][]);
}

/** A failed read as the source shows it, and whether it means the credentials stopped working. */
function readFailure(
  ctx: AppContext,
  source: SourceRow,
  error: unknown,
): { message: string; retryAt?: Date | null; auth?: boolean } | null {
  if (error instanceof FeedError) return error;
  if (error instanceof SourceAuthError) return { message: error.message, auth: true };
  if (error instanceof AppError) return { message: error.message };
  const adapter = isFeedKind(source.kind) ? undefined : ctx.platforms.get(source.kind as Platform);
  if (!adapter && !(error instanceof PlatformError)) return null;
  const classified = error instanceof PlatformError ? error.classification : adapter!.classifyError(error);
  return {
    message: classified.message,
    retryAt: classified.kind === 'rate_limited' ? classified.until : null,
    auth: classified.kind === 'auth',
  };
}

/** The fixed-shape statements of every poll. */
const pollStatements = preparedPerDatabase((db) => {
  const at = (name: string) => sql.placeholder(name);
  return {
    /**
     * The lease: a conditional UPDATE, so two workers never read a source at once. It also reads
     * what the poll needs besides the source: whether its author still works in its unit, and its rules.
     */
    claim: db
      .update(sources)
      .set({ pollingUntil: sql`${at('until')}::timestamptz` })
      .where(
        and(
          eq(sources.id, sql`${at('id')}::uuid`),
          ne(sources.kind, 'telegram'),
          isNull(sources.pausedAt),
          eq(sources.status, 'active'),
          lte(sources.nextPollAt, sql`${at('now')}::timestamptz`),
          notPolling(sql`${at('now')}::timestamptz`),
        ),
      )
      .returning({ ...getTableColumns(sources), authorWorksHere, rules: rulesOfSourceJson })
      .prepare('poll_claim'),
    /** The items of a read already brought in (`keys`: a JSON array). */
    known: db
      .select({ key: posts.sourceItemKey })
      .from(posts)
      .where(
        and(
          eq(posts.sourceId, sql`${at('sourceId')}::uuid`),
          sql`${posts.sourceItemKey} in (select jsonb_array_elements_text(${at('keys')}::jsonb))`,
        ),
      )
      .prepare('poll_known'),
    record: db
      .update(sources)
      .set({
        title: sql`${at('title')}::text`,
        cursor: sql`${at('cursor')}::text`,
        lastPolledAt: sql`${at('done')}::timestamptz`,
        nextPollAt: sql`${at('next')}::timestamptz`,
        pollingUntil: null,
        failures: sql`${at('failures')}::int`,
        lastError: sql`${at('error')}::text`,
        itemsImported: sql`${sources.itemsImported} + ${at('imported')}::int`,
        updatedAt: sql`${at('done')}::timestamptz`,
      })
      .where(eq(sources.id, sql`${at('id')}::uuid`))
      .prepare('poll_record'),
  };
});

/**
 * Reads a due source and brings in its new items, oldest first. The source is claimed with a
 * conditional UPDATE (its lease), so two workers never read it at once. Any source kind whose reader
 * exists is read the same way: feeds by the feed reader, platform accounts by their adapter's
 * `source`. A failure is kept on the source (shown to the office) and the next poll waits twice as
 * long each time, or as long as the platform asked; refused credentials set the source to
 * `needs_reauth` and tell the office. An answer that cannot be read brings nothing in.
 */
export async function pollSource(ctx: AppContext, sourceId: string): Promise<PollResult> {
  const now = ctx.now();
  const [claimed] = await pollStatements(ctx.db).claim.execute({
    id: sourceId,
    now: now.toISOString(),
    until: new Date(now.getTime() + LEASE_MS).toISOString(),
  });
  if (!claimed) return { outcome: 'not_due', imported: 0 };
  const { authorWorksHere: hasAuthor, rules, ...source } = claimed;

  if (!hasAuthor) {
    await pauseAuthorlessSource(ctx, source);
    return recordPoll(ctx, source, 0, { message: AUTHOR_GONE });
  }
  const author = authorFrom(source);

  const progress = { imported: 0 };
  try {
    const { reader, reading, result } = await readSourceAnswer(ctx, source);
    await bringInItems(ctx, source, author, result.items, reading.reach, progress, ITEMS_PER_POLL, rules);
    const listed = result.items.map((item) => item.key);
    await checkPendingOrigins(ctx, source.id, reader, reading, listed);
    return await recordPoll(ctx, source, progress.imported, null, result.title ?? null, result.cursor);
  } catch (error) {
    const failure = readFailure(ctx, source, error);
    if (!failure) throw error;
    if (failure.auth) await markSourceNeedsReauth(ctx, source, failure.message);
    return recordPoll(ctx, source, progress.imported, failure);
  }
}

/**
 * One read of the source as its reader answers it: fetched and parsed, nothing brought in (a poll
 * does that next; the ingest benchmark measures this part alone as its baseline).
 */
export async function readSourceAnswer(ctx: AppContext, source: SourceRow) {
  const reader = sourceReaderFor(ctx.platforms, source.kind);
  if (!reader)
    throw new AppError('source_kind_unavailable', 422, `Gaung cannot read ${source.kind} accounts`);
  const reading = await sourceContext(ctx, source);
  const result = await reader.readSource(reading, {
    cursor: source.cursor,
    since: source.since,
    limit: ITEMS_PER_POLL,
  });
  return { reader, reading, result };
}

/**
 * The check just before publishing a due delivery of a post brought in by a source: where the
 * source's platform says the original was deleted (or it was found deleted before), the delivery and
 * the post's other scheduled ones go to `needs_attention` instead. True when the delivery was held.
 */
export async function holdIfOriginDeleted(ctx: AppContext, deliveryId: string): Promise<boolean> {
  const due = await originOfDueDelivery(ctx.db, deliveryId, ctx.now());
  if (!due) return false;
  if (!due.deleted) {
    if (!due.sourceId) return false;
    const [source] = await ctx.db.select().from(sources).where(eq(sources.id, due.sourceId));
    const reader = source && sourceReaderFor(ctx.platforms, source.kind);
    if (!source || !reader?.originExists || source.status !== 'active') return false;
    const reading = await sourceContext(ctx, source).catch(() => null);
    if (!reading) return false;
    const exists = await askOrigin(ctx, reader, reading, due.origin, { deliveryId, sourceId: source.id });
    if (exists !== false) {
      if (exists)
        await ctx.db.update(posts).set({ originCheckedAt: ctx.now() }).where(eq(posts.id, due.postId));
      return false;
    }
  }
  const settled = await settleDeletedOrigin(ctx, due.postId);
  return settled.held.includes(deliveryId);
}

export const AUTHOR_GONE =
  'The person who added this source no longer works in this unit; add the source again.';

/** Whether the person who added the source still works in its unit, as a column of a statement on `sources`. */
const authorWorksHere = sql<boolean>`exists (select 1 from users u where u.id = sources.created_by
  and u.unit_id = sources.unit_id and u.disabled_at is null)`;

/** Who the source's posts are written by: the person who added it. */
const authorFrom = (source: SourceRow) => ({ userId: source.createdBy, unitId: source.unitId });

/** Who the source's posts are written by: the person who added it, while they work in its unit. */
export async function authorOf(
  ctx: AppContext,
  source: SourceRow,
): Promise<{ userId: string; unitId: string } | null> {
  const [row] = await ctx.db
    .select({ works: authorWorksHere })
    .from(sources)
    .where(eq(sources.id, source.id));
  return row?.works ? authorFrom(source) : null;
}

/**
 * Brings a source's new items in as posts of its unit, oldest first: those of kinds the source
 * includes, published since its start, not brought in before. `progress` counts the posts made,
 * so a failure half-way still tells how many came in. `rules` are the source's, when the caller
 * has read them already.
 */
export async function bringInItems(
  ctx: AppContext,
  source: SourceRow,
  actor: { userId: string; unitId: string },
  items: readonly SourceItem[],
  reach: NetworkReach,
  progress = { imported: 0 },
  limit = ITEMS_PER_POLL,
  rules?: readonly IngestRule[],
): Promise<number> {
  const kinds = included(source);
  const fresh = items
    .filter((item) => kinds.has(item.kind))
    .filter((item) => !item.publishedAt || item.publishedAt >= source.since)
    .sort((a, b) => (a.publishedAt?.getTime() ?? 0) - (b.publishedAt?.getTime() ?? 0));
  const known = new Set(
    fresh.length === 0
      ? []
      : (
          await pollStatements(ctx.db).known.execute({
            sourceId: source.id,
            keys: JSON.stringify(fresh.map((item) => item.key)),
          })
        ).map((row) => row.key),
  );
  const unknown = fresh.filter((item) => !known.has(item.key)).slice(0, limit);
  if (unknown.length === 0) return progress.imported;
  const taken: TakenItem[] = [];
  try {
    for (const item of unknown) {
      const one = {
        item,
        body: shorten(item.text, BODY_MAX),
        ...(await takeMedia(ctx, source, item, reach)),
      };
      if (one.body.trim() || one.media.length > 0) taken.push(one);
    }
    if (taken.length === 0) return progress.imported;
    progress.imported += await insertItems(
      ctx,
      source,
      actor,
      taken,
      rules ?? (await rulesOfSource(ctx, source.id)),
      ctx.now(),
    );
    return progress.imported;
  } finally {
    for (const one of taken) for (const { upload } of one.media) await upload.discard();
  }
}

/** The platform refused the source's credentials: it waits for a reconnection and the office is told. */
async function markSourceNeedsReauth(ctx: AppContext, source: SourceRow, reason: string): Promise<void> {
  await holdSource(ctx, source, {
    event: 'credentials_refused',
    action: 'source.needs_reauth',
    kind: 'source.needs_reauth',
    reason,
  });
}

/**
 * A source whose author no longer works in its unit (moved, disabled) pauses, and its office is
 * told: its posts would have nobody to be written by. Someone of the office adds it again.
 */
export async function pauseAuthorlessSource(ctx: AppContext, source: SourceRow): Promise<void> {
  await holdSource(ctx, source, {
    event: 'pause',
    action: 'source.paused',
    kind: 'source.author_gone',
    reason: AUTHOR_GONE,
  });
}

/** Takes a source out of the reading rounds through its machine, and tells its office once. */
async function holdSource(
  ctx: AppContext,
  source: SourceRow,
  step: {
    event: 'credentials_refused' | 'pause';
    action: 'source.needs_reauth' | 'source.paused';
    kind: 'source.needs_reauth' | 'source.author_gone';
    reason: string;
  },
): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const changed = await transitionSourceRow(ctx, tx, {
      sourceId: source.id,
      event: step.event,
      now: ctx.now(),
      by: { actorId: null, ip: null },
      action: step.action,
      details: { problem: step.reason },
      onlyIfChanged: true,
    });
    if (!changed) return;
    const people = await tx
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.unitId, source.unitId), isNull(users.disabledAt)));
    if (people.length > 0)
      await tx.insert(notifications).values(
        people.map((person) => ({
          userId: person.id,
          kind: step.kind,
          data: { sourceId: source.id, channelName: source.title ?? source.url, reason: step.reason },
        })),
      );
  });
}

/**
 * Keeps the outcome of a poll on the source and schedules the next one: after the usual interval, or
 * after a failure twice as long as the last wait (up to 6 h), and never before a time the site asked for.
 */
export async function recordPoll(
  ctx: AppContext,
  source: SourceRow,
  imported: number,
  failure: { message: string; retryAt?: Date | null } | null,
  title: string | null = null,
  cursor: string | null = source.cursor,
): Promise<PollResult> {
  const done = ctx.now();
  const failures = failure ? source.failures + 1 : 0;
  const interval = pollSecondsOf(ctx.config, source.kind) * 1000;
  const asked = failure?.retryAt ? Math.min(failure.retryAt.getTime() - done.getTime(), 86_400_000) : 0;
  const wait = failure ? Math.max(Math.min(interval * 2 ** failures, MAX_BACKOFF_MS), asked) : interval;
  await pollStatements(ctx.db).record.execute({
    id: source.id,
    title: source.title ?? (title ? shorten(title, 200) : null),
    cursor,
    done: done.toISOString(),
    next: new Date(done.getTime() + wait).toISOString(),
    failures,
    error: failure?.message ?? null,
    imported,
  });
  const outcome = failure ? 'failed' : 'polled';
  ctx.metrics.sourcePolls.inc({ kind: source.kind, outcome });
  ctx.metrics.sourceItemsImported.inc({ kind: source.kind }, imported);
  if (failure)
    ctx.log.warn({ sourceId: source.id, failures, message: failure.message }, 'source poll failed');
  else if (imported > 0) ctx.log.info({ sourceId: source.id, imported }, 'source items brought in');
  return failure ? { outcome, imported, message: failure.message } : { outcome, imported };
}

/** The last segment of a media address, as the medium's original name. */
function fileNameOf(url: string): string {
  try {
    return decodeURIComponent(path.posix.basename(new URL(url).pathname)).slice(0, 200);
  } catch {
    return '';
  }
}

/** An item whose media were taken, ready to become a post. */
interface TakenItem {
  item: SourceItem;
  body: string;
  /** Through the upload checks and staged, recorded with the item's post. */
  media: UploadToRecord[];
  skipped: { url: string; reason: string }[];
}

/** Takes an item's media through the same checks as an upload (type from the bytes, size, pixels). */
async function takeMedia(
  ctx: AppContext,
  source: SourceRow,
  item: SourceItem,
  reach: NetworkReach,
): Promise<Pick<TakenItem, 'media' | 'skipped'>> {
  const media: UploadToRecord[] = [];
  const skipped: { url: string; reason: string }[] = [];
  for (const medium of item.media) {
    if (medium.skippedReason) {
      skipped.push({ url: medium.url, reason: medium.skippedReason });
      continue;
    }
    try {
      const maxBytes =
        medium.kind === 'image'
          ? ctx.config.GAUNG_MEDIA_MAX_IMAGE_BYTES
          : ctx.config.GAUNG_MEDIA_MAX_VIDEO_BYTES;
      const stream = await fetchFeedMedia(medium.url, {
        reach,
        maxBytes: maxBytes + 1,
        headers: medium.headers,
      });
      const upload = await stageUpload(ctx, {
        stream,
        fileName: fileNameOf(medium.url),
        contentType: undefined,
      });
      media.push({ upload, altText: medium.altText.slice(0, ALT_TEXT_MAX) });
    } catch (error) {
      // One medium that cannot be taken (refused, too large, the connection lost) does not hold the item back.
      const reason = error instanceof FeedError || error instanceof AppError ? error.message : String(error);
      skipped.push({ url: medium.url, reason });
      if (!(error instanceof FeedError || error instanceof AppError))
        ctx.log.warn(
          { err: error, sourceId: source.id, url: medium.url },
          'a source medium could not be taken',
        );
    }
  }
  return { media, skipped };
}

/**
 * Inserts the posts of a read's taken items in one statement, with the approvals of the rules that
 * take them; their media are recorded first (one statement for all, under the blobs' locks), and the
 * posts a rule takes, or all with auto-submit, are submitted through the state machine in the same
 * transaction. Returns how many posts were made: an item another poll brought in first makes none.
 */
async function insertItems(
  ctx: AppContext,
  source: SourceRow,
  actor: { userId: string; unitId: string },
  taken: readonly TakenItem[],
  rules: readonly IngestRule[],
  at: Date,
): Promise<number> {
  const checkable = sourceReaderFor(ctx.platforms, source.kind)?.originExists !== undefined;
  // The drafts, with the ids their media were recorded under.
  const draftsOf = (mediumIds: ReadonlyMap<UploadToRecord, string>): SourceDraft[] =>
    taken.map(({ item, body, media, skipped }) => ({
      body,
      sourceUrl: item.url && item.url.length <= 2048 ? item.url : null,
      media: media.map((medium) => ({ id: mediumIds.get(medium)!, altText: medium.altText || null })),
      origin: {
        sourceId: source.id,
        sourceItemKey: item.key,
        origin: item.origin,
        details: {
          id: source.id,
          kind: source.kind,
          item: item.url,
          ...(skipped.length ? { mediaSkipped: skipped } : {}),
        },
        checkable,
      },
    }));
  const uploads = taken.flatMap((one) => one.media);
  // Without media, rules or auto-submit the one statement is the whole write.
  if (uploads.length === 0 && !source.autoSubmit && rules.length === 0)
    return (await insertSourceDrafts(ctx.db, actor, source.tags, draftsOf(new Map()), at)).length;
  return ctx.db.transaction(async (tx) => {
    const recorded = await recordUploads(ctx, tx, actor, uploads);
    const drafts = draftsOf(new Map(uploads.map((medium, index) => [medium, recorded[index]!.media.id])));
    const made = await insertSourceDrafts(tx, actor, source.tags, drafts, at);
    const bodies = new Map(drafts.map((draft) => [draft.origin.sourceItemKey, draft.body]));
    // A rule that takes an item approves it after its stop window: the item goes to review at once.
    const ruled = await queueRuleApprovals(
      tx,
      rules,
      made.map((post) => ({ id: post.id, body: bodies.get(post.key)!, tags: source.tags })),
      at,
    );
    const submitted = made.filter((post) => source.autoSubmit || ruled.has(post.id));
    if (submitted.length > 0) {
      const [unit] = await tx.select({ path: units.path }).from(units).where(eq(units.id, source.unitId));
      for (const post of submitted)
        await transitionInTx(
          tx,
          actor,
          { id: post.id, unitId: source.unitId, unitPath: unit!.path, status: 'draft' },
          'submit',
          1,
          at,
          { columns: { submittedAt: at } },
        );
    }
    return made.length;
  });
}
