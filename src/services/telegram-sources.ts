import { randomUUID } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { type AppContext, redisKey } from '../context';
import { sources, telegramSourceBots } from '../db/schema';
import { botIdOf, readChannelUpdates } from '../platforms/telegram-source';
import { PlatformError, type SourceItem } from '../platforms/types';
import { reachOf } from './channels';
import {
  AUTHOR_GONE,
  authorOf,
  bringInItems,
  pauseAuthorlessSource,
  recordPoll,
  type SourceRow,
} from './sources';

/**
 * The Telegram source bot's round: one `getUpdates` for every office channel the bot administers,
 * each channel post routed to the Telegram sources of its chat id. One round runs at a time per bot
 * (a Redis lease), whatever the number of worker processes; the update offset is kept in Postgres
 * only after the posts are saved, so a crash re-reads them and the source's item keys keep each one
 * a single post.
 */

/** A round holds the bot this long; a worker that dies mid-round lets the next one read again after. */
const LEASE_MS = 5 * 60_000;

export interface BotRoundResult {
  outcome: 'read' | 'busy' | 'unconfigured' | 'failed';
  /** Posts made, per source id. */
  imported: Record<string, number>;
  /** Channel posts of chats no source reads (dropped). */
  unrouted: number;
  message?: string;
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
  try {
    return await round(ctx, botToken, botId);
  } finally {
    await ctx.redis.eval(RELEASE_SCRIPT, 1, lease, holder);
  }
}

async function round(ctx: AppContext, botToken: string, botId: string): Promise<BotRoundResult> {
  const readers = await ctx.db
    .select()
    .from(sources)
    .where(and(eq(sources.kind, 'telegram'), isNull(sources.pausedAt), eq(sources.status, 'active')));
  const [stored] = await ctx.db
    .select({ offset: telegramSourceBots.updateOffset })
    .from(telegramSourceBots)
    .where(eq(telegramSourceBots.botId, botId));
  const offset = stored?.offset ?? null;

  let read: Awaited<ReturnType<typeof readChannelUpdates>>;
  try {
    read = await readChannelUpdates({
      botToken,
      apiUrl: ctx.config.GAUNG_TELEGRAM_API_URL,
      offset,
      log: ctx.log.child({ telegramBot: botId }),
      now: ctx.now(),
    });
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
    return { outcome: 'failed', imported: {}, unrouted: 0, message: failure.message };
  }

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
  if (read.nextOffset !== null && read.nextOffset !== offset)
    await ctx.db
      .insert(telegramSourceBots)
      .values({ botId, updateOffset: read.nextOffset, updatedAt: ctx.now() })
      .onConflictDoUpdate({
        target: telegramSourceBots.botId,
        set: { updateOffset: read.nextOffset, updatedAt: ctx.now() },
        // Never back: a slower round that read less must not undo a later one.
        setWhere: sql`${telegramSourceBots.updateOffset} < ${read.nextOffset}`,
      });
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
  return { outcome: 'read', imported, unrouted };
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
