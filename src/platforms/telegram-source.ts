import { isAxiosError } from 'axios';
import { createHttpClient } from './http';
import { SOURCE_ANSWER_MAX_BYTES } from './shared';
import { oversized, readClass } from './source-read';
import { classifyTelegramError } from './telegram';
import { type PlatformContext, PlatformError, type SourceItem, type SourceMedia } from './types';

/**
 * Telegram channels as sources. The Bot API has no history call: Gaung's source bot
 * (GAUNG_TELEGRAM_SOURCE_BOT_TOKEN), added by an office to its channel as an administrator, sees
 * the channel's posts from then on as `channel_post` updates, which it reads by getUpdates
 * (`readChannelUpdates`, from an offset) or receives at its webhook (`ensureWebhook`); both turn them
 * into items with `channelItemsOf`, routed to sources by chat id. Edits (`edited_channel_post`) are
 * not asked for and ignored if they come. An album (`media_group_id`) is one item. Media files are
 * found with getFile; the Bot API serves files up to 20 MB, so larger ones are named and skipped.
 * File URLs carry the bot token: marked `secretUrl`, never logged.
 */

/** The Bot API's download limit (getFile). */
export const TELEGRAM_DOWNLOAD_MAX_BYTES = 20 * 1024 * 1024;
/** getUpdates returns at most 100 updates. */
const UPDATES_MAX = 100;

interface PhotoSize {
  file_id: string;
  file_unique_id: string;
  width: number;
  height: number;
  file_size?: number;
}

interface FileRef {
  file_id: string;
  file_size?: number;
  file_name?: string;
  mime_type?: string;
}

interface ChannelPost {
  message_id: number;
  date: number;
  chat: { id: number; type: string; title?: string; username?: string };
  text?: string;
  caption?: string;
  media_group_id?: string;
  photo?: PhotoSize[];
  video?: FileRef;
  forward_origin?: unknown;
}

/** An Update as the Bot API sends it, by getUpdates or to a webhook (only what the source bot reads). */
export interface ChannelUpdate {
  update_id: number;
  channel_post?: ChannelPost;
  edited_channel_post?: ChannelPost;
}

export interface ChannelUpdatesRequest {
  /** GAUNG_TELEGRAM_SOURCE_BOT_TOKEN. */
  botToken: string;
  /** The Bot API base URL (GAUNG_TELEGRAM_API_URL). */
  apiUrl: string;
  /** The offset the previous read returned; null on the bot's first read. */
  offset: number | null;
  /** Long polling: seconds getUpdates may wait for a post (0 answers at once). */
  waitSeconds?: number;
  signal?: AbortSignal;
  log: PlatformContext['log'];
  /** The time albums are judged settled against (tests pass their own). */
  now?: Date;
}

export interface ChannelUpdatesResult {
  /** Items per channel chat id (as a string, e.g. "-1001234567890"), oldest first. */
  byChat: Map<string, SourceItem[]>;
  /**
   * The offset of the next read. Telegram forgets updates below it once asked with it, so store it
   * only after the items are saved.
   */
  nextOffset: number | null;
}

const tmeUrl = (post: ChannelPost) => `${chatUrl(post.chat)}/${post.message_id}`;

/** A Bot API caller for the source bot whose failures never carry the token (it is in every URL). */
function botApi(request: { botToken: string; apiUrl: string; signal?: AbortSignal; waitSeconds?: number }) {
  const http = createHttpClient(`${request.apiUrl.replace(/\/+$/, '')}/bot${request.botToken}`, {
    signal: request.signal,
    timeoutMs: ((request.waitSeconds ?? 0) + 30) * 1000,
  });
  return async <T>(method: string, params: Record<string, unknown>): Promise<T> => {
    try {
      const response = await http.post<{ ok?: boolean; result?: T }>(`/${method}`, params, {
        maxContentLength: SOURCE_ANSWER_MAX_BYTES,
      });
      if (response.data?.ok !== true || response.data.result === undefined)
        throw new PlatformError({ kind: 'retry', message: `Telegram answered ${method} without a result` });
      return response.data.result;
    } catch (error) {
      if (error instanceof PlatformError) throw error;
      if (isAxiosError(error) && /maxContentLength/i.test(error.message)) throw oversized('Telegram');
      // The axios error is dropped: its URL carries the bot token.
      throw new PlatformError(readClass(classifyTelegramError(error)));
    }
  };
}

/** The bot's numeric id: the part of its token before the colon. */
export const botIdOf = (botToken: string) => botToken.split(':')[0]!;

export interface SourceChat {
  /** The chat id as a string, e.g. "-1001234567890". */
  chatId: string;
  title: string | null;
  username: string | null;
  /** The channel's public address, or its t.me/c/ address when it has no username. */
  url: string;
}

const chatUrl = (chat: { id: number; username?: string }) =>
  chat.username ? `https://t.me/${chat.username}` : `https://t.me/c/${String(-chat.id).replace(/^100/, '')}`;

/**
 * Finds the channel an office names (`@username`, or its numeric chat id for a private channel) and
 * checks that the source bot is one of its administrators, without which Telegram sends it no posts.
 */
export async function findSourceChat(request: {
  botToken: string;
  apiUrl: string;
  chat: string;
}): Promise<SourceChat> {
  const call = botApi(request);
  const chat = await call<{ id: number; type: string; title?: string; username?: string }>('getChat', {
    chat_id: request.chat,
  });
  if (chat.type !== 'channel')
    throw new PlatformError({ kind: 'invalid', message: 'Telegram says this chat is not a channel' });
  const member = await call<{ status: string }>('getChatMember', {
    chat_id: chat.id,
    user_id: Number(botIdOf(request.botToken)),
  });
  if (member.status !== 'administrator' && member.status !== 'creator')
    throw new PlatformError({
      kind: 'invalid',
      message: "Gaung's source bot is not an administrator of this channel; add it as one first",
    });
  return {
    chatId: String(chat.id),
    title: chat.title ?? null,
    username: chat.username ?? null,
    url: chatUrl(chat),
  };
}

/** Telegram sends an album's messages one by one: an album this recent may still be growing. */
export const ALBUM_SETTLE_SECONDS = 10;

/** The only updates the source bot asks for, by getUpdates and by webhook alike. */
const CHANNEL_POSTS = ['channel_post'];

/** Telegram refuses getUpdates while a webhook is set (409 Conflict): the bot has to delete it first. */
export const isWebhookConflict = (error: unknown) =>
  error instanceof PlatformError &&
  error.classification.httpStatus === 409 &&
  /webhook/i.test(error.classification.message);

/** Up to 100 of the source bot's updates from `offset`, by getUpdates (polling). */
async function fetchChannelUpdates(
  request: Omit<ChannelUpdatesRequest, 'log' | 'now'>,
): Promise<ChannelUpdate[]> {
  const updates = await botApi(request)<ChannelUpdate[]>('getUpdates', {
    ...(request.offset !== null ? { offset: request.offset } : {}),
    limit: UPDATES_MAX,
    timeout: request.waitSeconds ?? 0,
    allowed_updates: CHANNEL_POSTS,
  });
  if (!Array.isArray(updates))
    throw new PlatformError({ kind: 'retry', message: 'Telegram answered getUpdates without a list' });
  return updates;
}

/**
 * Reads the source bot's channel posts from `offset` by getUpdates, as items (see channelItemsOf).
 * The offset stops before an album left for the next read.
 */
export async function readChannelUpdates(request: ChannelUpdatesRequest): Promise<ChannelUpdatesResult> {
  const { byChat, taken } = await channelItemsOf(request, await fetchChannelUpdates(request));
  const last = taken.at(-1)?.update_id;
  return { byChat, nextOffset: typeof last === 'number' ? last + 1 : request.offset };
}

const albumOf = (post: ChannelPost) => `${post.chat.id}/album/${post.media_group_id}`;

/** Whether an update carries a channel post Gaung can place (its chat and message). */
const placed = (post: ChannelPost | undefined): post is ChannelPost =>
  !!post && typeof post.message_id === 'number' && typeof post.chat?.id === 'number';

/**
 * Turns the source bot's updates (oldest first, read by getUpdates or delivered to its webhook) into
 * items per channel, an album (`media_group_id`) as one item, and finds each medium's file. The
 * updates are taken in order up to the first album whose newest message is younger than
 * ALBUM_SETTLE_SECONDS: that album may still be growing (a webhook may even get its messages after
 * later updates), so it and what follows wait for a later read (`heldUntil` says when it settles),
 * and its later messages are not split into another item.
 */
export async function channelItemsOf(
  request: Pick<ChannelUpdatesRequest, 'botToken' | 'apiUrl' | 'signal' | 'log' | 'now'>,
  updates: readonly ChannelUpdate[],
): Promise<{ byChat: Map<string, SourceItem[]>; taken: ChannelUpdate[]; heldUntil: Date | null }> {
  const call = botApi(request);
  const now = (request.now ?? new Date()).getTime() / 1000;
  const newest = new Map<string, number>();
  for (const { channel_post: post } of updates)
    if (placed(post) && post.media_group_id)
      newest.set(albumOf(post), Math.max(newest.get(albumOf(post)) ?? 0, post.date));
  const settles = (post: ChannelPost) => newest.get(albumOf(post))! + ALBUM_SETTLE_SECONDS;
  const held = updates.find(
    ({ channel_post: post }) => placed(post) && post.media_group_id && now < settles(post),
  );
  const taken = held ? updates.slice(0, updates.indexOf(held)) : [...updates];
  const heldUntil = held ? new Date(settles(held.channel_post!) * 1000) : null;

  const fileUrl = (path: string) =>
    `${request.apiUrl.replace(/\/+$/, '')}/file/bot${request.botToken}/${path}`;
  const medium = async (post: ChannelPost, file: FileRef, kind: 'image' | 'video'): Promise<SourceMedia> => {
    const name = `${kind} of message ${post.message_id} in ${post.chat.title ?? post.chat.id}`;
    const tooBig = {
      url: '',
      kind,
      altText: '',
      skippedReason: `the ${name} is larger than the 20 MB the Telegram Bot API lets bots download`,
    };
    if ((file.file_size ?? 0) > TELEGRAM_DOWNLOAD_MAX_BYTES) return tooBig;
    try {
      const found = await call<{ file_path?: string; file_size?: number }>('getFile', {
        file_id: file.file_id,
      });
      if (!found.file_path) return { ...tooBig, skippedReason: `Telegram gave no file for the ${name}` };
      return { url: fileUrl(found.file_path), kind, altText: '', secretUrl: true };
    } catch (error) {
      if (error instanceof PlatformError && /file is too big/i.test(error.message)) return tooBig;
      throw error;
    }
  };

  // Albums: the messages of one media_group_id in one chat become one item.
  const groups = new Map<string, ChannelPost[]>();
  for (const { channel_post: post } of taken) {
    if (!placed(post)) continue;
    const key = post.media_group_id ? albumOf(post) : `${post.chat.id}/${post.message_id}`;
    groups.set(key, [...(groups.get(key) ?? []), post]);
  }
  const byChat = new Map<string, SourceItem[]>();
  for (const posts of groups.values()) {
    posts.sort((a, b) => a.message_id - b.message_id);
    const first = posts[0]!;
    const media: SourceMedia[] = [];
    for (const post of posts) {
      const photo = post.photo?.length
        ? [...post.photo].sort((a, b) => b.width * b.height - a.width * a.height)[0]
        : null;
      if (photo) media.push(await medium(post, photo, 'image'));
      if (post.video) media.push(await medium(post, post.video, 'video'));
    }
    const chatId = String(first.chat.id);
    const publishedAt = new Date(first.date * 1000);
    const url = tmeUrl(first);
    const item: SourceItem = {
      key: `${chatId}:${first.message_id}`,
      url,
      publishedAt,
      text: posts.map((p) => p.text ?? p.caption ?? '').find((t) => t.length > 0) ?? '',
      media,
      origin: {
        platform: 'telegram',
        nativeId: String(first.message_id),
        url,
        authorHandle: first.chat.username ? `@${first.chat.username}` : (first.chat.title ?? null),
        publishedAt: publishedAt.toISOString(),
        ref: {
          chatId,
          messageId: String(first.message_id),
          ...(posts.length > 1 ? { messageIds: posts.map((p) => p.message_id).join(',') } : {}),
        },
      },
      kind: first.forward_origin ? 'repost' : 'post',
    };
    byChat.set(chatId, [...(byChat.get(chatId) ?? []), item]);
  }
  request.log.info(
    { updates: taken.length, held: updates.length - taken.length, chats: byChat.size },
    'read the source bot updates',
  );
  return { byChat, taken, heldUntil };
}

export interface WebhookRequest {
  botToken: string;
  apiUrl: string;
  /** The HTTPS address Telegram posts updates to. */
  url: string;
  /** Sent back by Telegram in X-Telegram-Bot-Api-Secret-Token: 1-256 of A-Z a-z 0-9 _ -. */
  secretToken: string;
  /** The secret token changed since the webhook was set (Telegram does not tell it): set it again. */
  renew: boolean;
}

/**
 * Makes sure Telegram delivers the bot's channel posts to `url`: getWebhookInfo, and setWebhook
 * only when the address, the update types or the secret token differ. Pending updates are kept.
 */
export async function ensureWebhook(request: WebhookRequest): Promise<'set' | 'unchanged'> {
  const call = botApi(request);
  const info = await call<{ url?: string; allowed_updates?: string[] }>('getWebhookInfo', {});
  const sameUpdates =
    info.allowed_updates?.length === CHANNEL_POSTS.length &&
    CHANNEL_POSTS.every((kind) => info.allowed_updates!.includes(kind));
  if (info.url === request.url && sameUpdates && !request.renew) return 'unchanged';
  await call<boolean>('setWebhook', {
    url: request.url,
    secret_token: request.secretToken,
    allowed_updates: CHANNEL_POSTS,
  });
  return 'set';
}

/** Removes the bot's webhook so getUpdates works again; the updates Telegram still holds stay for it. */
export async function deleteWebhook(request: { botToken: string; apiUrl: string }): Promise<void> {
  await botApi(request)<boolean>('deleteWebhook', {});
}
