import { randomUUID } from 'node:crypto';
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { type AppContext, redisKey } from '../context';
import { sources, telegramSourceBots, telegramSourceUpdates } from '../db/schema';
import {
  ALBUM_SETTLE_SECONDS,
  botIdOf,
  type ChannelUpdate,
  channelItemsOf,
  deleteWebhook,
  ensureWebhook,
  isWebhookConflict,
  readChannelUpdates,
} from '../platforms/telegram-source';
import { PlatformError, type SourceItem } from '../platforms/types';
import { enqueueTelegramBotRound } from '../queues/producers';
import { reachOf } from './channels';
import {
  AUTHOR_GONE,
  authorOf,
  bringInItems,
  pauseAuthorlessSource,
  pollSecondsOf,
  recordPoll,
  type SourceRow,
} from './sources';

/**
 * The Telegram source bot's round: every office channel the bot administers at once, each channel
 * post routed to the Telegram sources of its chat id. The bot reads by webhook when Gaung is
 * reachable over HTTPS (GAUNG_PUBLIC_URL), else by polling: a webhook round takes the updates
 * Telegram delivered to TELEGRAM_HOOK_PATH and Gaung stored, a polling round asks getUpdates. One
 * round runs at a time per bot (a Redis lease), whatever the number of worker processes; what was
 * read is let go (the stored updates deleted, the offset kept in Postgres) only after the posts are
 * saved, so a crash reads them again and the source's item keys keep each one a single post.
 */

/** A round holds the bot this long; a worker that dies mid-round lets the next one read again after. */
const LEASE_MS = 5 * 60_000;
/** Stored updates a webhook round takes, as many as one getUpdates answers. */
const UPDATES_PER_ROUND = 100;

/** Where Telegram delivers the source bot's updates, under GAUNG_PUBLIC_URL. */
export const TELEGRAM_HOOK_PATH = '/hooks/telegram/source';

export interface BotRoundResult {
  /** `webhook_deleted`: a polling bot found a webhook set and deleted it; the next round reads. */
  outcome: 'read' | 'busy' | 'unconfigured' | 'failed' | 'webhook_deleted';
  /** Posts made, per source id. */
  imported: Record<string, number>;
  /** Channel posts of chats no source reads (dropped). */
  unrouted: number;
  message?: string;
}

/** Telegram posts updates only to HTTPS addresses: the bot works by webhook when Gaung has one. */
export function telegramSourceMode(config: AppContext['config']): 'webhook' | 'polling' | null {
  if (!config.GAUNG_TELEGRAM_SOURCE_BOT_TOKEN) return null;
  return config.GAUNG_PUBLIC_URL?.startsWith('https://') ? 'webhook' : 'polling';
}

const hookUrl = (config: AppContext['config']) =>
  `${config.GAUNG_PUBLIC_URL!.replace(/\/+$/, '')}${TELEGRAM_HOOK_PATH}`;

/** What the webhook's secret token signs: the bot, so another bot's token never opens the hook. */
const secretSubject = (botId: string) => `telegram-source-bot:${botId}`;

/** An HMAC in base64url: 43 characters of A-Z a-z 0-9 _ -, as Telegram requires of a secret token. */
const webhookSecretToken = (ctx: AppContext, botId: string) =>
  ctx.keys.sign('telegram-webhook', secretSubject(botId));

/**
 * Whether a request to the hook carries the webhook's secret token (derived from the current or a
 * previous secret key, compared in constant time). Never while the bot polls: no webhook is Gaung's then.
 */
export function isTelegramHookSecret(ctx: AppContext, given: unknown): boolean {
  const botToken = ctx.config.GAUNG_TELEGRAM_SOURCE_BOT_TOKEN;
  if (!botToken || telegramSourceMode(ctx.config) !== 'webhook' || typeof given !== 'string') return false;
  return ctx.keys.verify('telegram-webhook', secretSubject(botIdOf(botToken)), given);
}

/**
 * Keeps an update Telegram delivered to the hook (a repeat finds its row and adds nothing) and
 * queues a round for it; an album's round waits ALBUM_SETTLE_SECONDS, so the album's other
 * messages, each delivered on its own, are read with it. Updates other than channel posts are dropped.
 */
export async function receiveTelegramUpdate(ctx: AppContext, update: ChannelUpdate): Promise<void> {
  const botToken = ctx.config.GAUNG_TELEGRAM_SOURCE_BOT_TOKEN!;
  const post = update.channel_post;
  if (!post) return;
  const now = ctx.now();
  await ctx.db
    .insert(telegramSourceUpdates)
    .values({
      botId: botIdOf(botToken),
      updateId: update.update_id,
      channelPost: post as unknown as Record<string, unknown>,
      receivedAt: now,
    })
    .onConflictDoNothing();
  try {
    await enqueueTelegramBotRound(
      ctx,
      botToken,
      new Date(now.getTime() + (post.media_group_id ? ALBUM_SETTLE_SECONDS * 1000 : 0)),
    );
  } catch (error) {
    // Stored is enough to answer Telegram: the sweep's next round reads it.
    ctx.log.warn({ err: error }, 'a round for a Telegram update could not be queued');
  }
}

/** Deletes the lease only while it is still this round's. */
const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export async function runTelegramBotRound(ctx: AppContext): Promise<BotRoundResult> {
  const botToken = ctx.config.GAUNG_TELEGRAM_SOURCE_BOT_TOKEN;
  if (!botToken) return { outcome: 'unconfigured', imported: {}, unrouted: 0 };
  const botId = botIdOf(botToken);
  const lease = redisKey(ctx, 'telegram-source-bot', botId);
  const holder = randomUUID();
  if ((await ctx.redis.set(lease, holder, 'PX', LEASE_MS, 'NX')) !== 'OK')
    return { outcome: 'busy', imported: {}, unrouted: 0 };
  let done: Awaited<ReturnType<typeof round>>;
  try {
    done = await round(ctx, botToken, botId);
  } finally {
    await ctx.redis.eval(RELEASE_SCRIPT, 1, lease, holder);
  }
  // After the lease is let go: an update stored while this round ran, whose own round found the bot
  // busy, is seen here and gets the next round.
  if (done.result.outcome === 'read' && telegramSourceMode(ctx.config) === 'webhook') {
    const now = ctx.now();
    if (await hasStoredUpdates(ctx, botId))
      await enqueueTelegramBotRound(
        ctx,
        botToken,
        done.heldUntil && done.heldUntil > now ? done.heldUntil : now,
      );
  }
  return done.result;
}

/** A round's channel posts as items, and how to let them go once their posts are saved. */
interface Read {
  byChat: Map<string, SourceItem[]>;
  /** When an album held for the next round settles. */
  heldUntil: Date | null;
  release(): Promise<void>;
}

type BotRequest = Parameters<typeof channelItemsOf>[0];

async function round(
  ctx: AppContext,
  botToken: string,
  botId: string,
): Promise<{ result: BotRoundResult; heldUntil: Date | null }> {
  const readers = await ctx.db
    .select()
    .from(sources)
    .where(and(eq(sources.kind, 'telegram'), isNull(sources.pausedAt), eq(sources.status, 'active')));
  const request: BotRequest = {
    botToken,
    apiUrl: ctx.config.GAUNG_TELEGRAM_API_URL,
    log: ctx.log.child({ telegramBot: botId }),
    now: ctx.now(),
  };

  let read: Read | null;
  try {
    const webhook = telegramSourceMode(ctx.config) === 'webhook';
    // A bot that has gone back to polling first reads what its webhook stored and nobody read yet:
    // Telegram counts those as delivered and would not send them again.
    read =
      webhook || (await hasStoredUpdates(ctx, botId))
        ? await receivedUpdates(ctx, request, botId, webhook)
        : await polledUpdates(ctx, request, botId);
  } catch (error) {
    if (!(error instanceof PlatformError)) throw error;
    const { classification } = error;
    // The bot is Gaung's, not the office's: a refused bot token is the operator's to fix, shown on every source.
    const failure = {
      message: `Gaung's Telegram source bot: ${classification.message}`,
      retryAt: classification.kind === 'rate_limited' ? classification.until : null,
    };
    ctx.log.warn(
      { telegramBot: botId, message: classification.message },
      'the Telegram source bot could not read',
    );
    for (const source of readers) await recordPoll(ctx, source, 0, failure);
    return {
      result: { outcome: 'failed', imported: {}, unrouted: 0, message: failure.message },
      heldUntil: null,
    };
  }
  // The sources stay due, so the sweep offers the next round at once.
  if (!read) return { result: { outcome: 'webhook_deleted', imported: {}, unrouted: 0 }, heldUntil: null };

  const byChat = new Map<string, SourceRow[]>();
  for (const source of readers)
    if (source.accountId) byChat.set(source.accountId, [...(byChat.get(source.accountId) ?? []), source]);
  const imported: Record<string, number> = {};
  const authorless = new Set<string>();
  let unrouted = 0;
  const reach = reachOf(ctx.config);
  for (const [chatId, items] of read.byChat) {
    const readersOfChat = byChat.get(chatId) ?? [];
    if (readersOfChat.length === 0) unrouted += items.length;
    for (const source of readersOfChat)
      imported[source.id] = await bringIn(ctx, source, items, reach, authorless);
  }
  await read.release();
  for (const source of readers) {
    if (authorless.has(source.id)) await pauseAuthorlessSource(ctx, source);
    await recordPoll(
      ctx,
      source,
      imported[source.id] ?? 0,
      authorless.has(source.id) ? { message: AUTHOR_GONE } : null,
    );
  }
  if (unrouted > 0) ctx.log.info({ telegramBot: botId, unrouted }, 'channel posts of chats no source reads');
  return { result: { outcome: 'read', imported, unrouted }, heldUntil: read.heldUntil };
}

/**
 * Polling: getUpdates from the stored offset, which moves on once the posts are saved. A webhook
 * left set (Telegram answers 409) is deleted, keeping the updates it holds, and null says so.
 */
async function polledUpdates(ctx: AppContext, request: BotRequest, botId: string): Promise<Read | null> {
  const [stored] = await ctx.db
    .select({ offset: telegramSourceBots.updateOffset })
    .from(telegramSourceBots)
    .where(eq(telegramSourceBots.botId, botId));
  const offset = stored?.offset ?? null;
  try {
    const read = await readChannelUpdates({ ...request, offset });
    const next = read.nextOffset;
    return {
      byChat: read.byChat,
      heldUntil: null,
      release: async () => {
        if (next === null || next === offset) return;
        await ctx.db
          .insert(telegramSourceBots)
          .values({ botId, updateOffset: next, updatedAt: ctx.now() })
          .onConflictDoUpdate({
            target: telegramSourceBots.botId,
            set: { updateOffset: next, updatedAt: ctx.now() },
            // Never back: a slower round that read less must not undo a later one.
            setWhere: sql`coalesce(${telegramSourceBots.updateOffset}, 0) < ${next}`,
          });
      },
    };
  } catch (error) {
    if (!isWebhookConflict(error)) throw error;
    await deleteWebhook(request);
    await ctx.db
      .update(telegramSourceBots)
      .set({ webhookKeyId: null, webhookCheckedAt: null, updatedAt: ctx.now() })
      .where(eq(telegramSourceBots.botId, botId));
    ctx.log.info({ telegramBot: botId }, "the source bot's webhook was deleted: it reads by polling");
    return null;
  }
}

/** Whether the webhook stored updates of the bot that no round has read yet. */
async function hasStoredUpdates(ctx: AppContext, botId: string): Promise<boolean> {
  const [left] = await ctx.db
    .select({ updateId: telegramSourceUpdates.updateId })
    .from(telegramSourceUpdates)
    .where(eq(telegramSourceUpdates.botId, botId))
    .limit(1);
  return left !== undefined;
}

/**
 * The oldest stored updates, deleted once the posts are saved; in webhook mode (`keep`), the
 * webhook is first kept set.
 */
async function receivedUpdates(
  ctx: AppContext,
  request: BotRequest,
  botId: string,
  keep: boolean,
): Promise<Read> {
  if (keep) await keepWebhook(ctx, request, botId);
  const rows = await ctx.db
    .select({ updateId: telegramSourceUpdates.updateId, channelPost: telegramSourceUpdates.channelPost })
    .from(telegramSourceUpdates)
    .where(eq(telegramSourceUpdates.botId, botId))
    .orderBy(telegramSourceUpdates.updateId)
    .limit(UPDATES_PER_ROUND);
  const { byChat, taken, heldUntil } = await channelItemsOf(
    request,
    rows.map((row) => ({
      update_id: row.updateId,
      channel_post: row.channelPost as unknown as ChannelUpdate['channel_post'],
    })),
  );
  return {
    byChat,
    heldUntil,
    release: async () => {
      if (taken.length === 0) return;
      await ctx.db.delete(telegramSourceUpdates).where(
        and(
          eq(telegramSourceUpdates.botId, botId),
          inArray(
            telegramSourceUpdates.updateId,
            taken.map((update) => update.update_id),
          ),
        ),
      );
    },
  };
}

/**
 * Makes sure Telegram delivers to Gaung's hook with the current secret token: asked at most once
 * per poll interval, and set again when it differs or the secret key changed.
 */
async function keepWebhook(ctx: AppContext, request: BotRequest, botId: string): Promise<void> {
  const [bot] = await ctx.db
    .select({ keyId: telegramSourceBots.webhookKeyId, checkedAt: telegramSourceBots.webhookCheckedAt })
    .from(telegramSourceBots)
    .where(eq(telegramSourceBots.botId, botId));
  const now = ctx.now();
  const keyId = ctx.keys.currentKeyId;
  const interval = pollSecondsOf(ctx.config, 'telegram') * 1000;
  if (bot?.keyId === keyId && bot.checkedAt && now.getTime() - bot.checkedAt.getTime() < interval) return;
  const url = hookUrl(ctx.config);
  const outcome = await ensureWebhook({
    ...request,
    url,
    secretToken: webhookSecretToken(ctx, botId),
    renew: bot?.keyId !== keyId,
  });
  const kept = { webhookKeyId: keyId, webhookCheckedAt: now, updatedAt: now };
  await ctx.db
    .insert(telegramSourceBots)
    .values({ botId, ...kept })
    .onConflictDoUpdate({ target: telegramSourceBots.botId, set: kept });
  if (outcome === 'set') ctx.log.info({ telegramBot: botId, url }, "the source bot's webhook was set");
}

/** One source's share of the round; a source whose author left brings nothing in and says why. */
async function bringIn(
  ctx: AppContext,
  source: SourceRow,
  items: SourceItem[],
  reach: ReturnType<typeof reachOf>,
  authorless: Set<string>,
): Promise<number> {
  const author = await authorOf(ctx, source);
  if (!author) {
    authorless.add(source.id);
    return 0;
  }
  // Telegram sends a post once: every item of the round is taken, not a poll's share.
  return bringInItems(ctx, source, author, items, reach, { imported: 0 }, Number.POSITIVE_INFINITY);
}
