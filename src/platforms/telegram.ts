import { type AxiosInstance, isAxiosError } from 'axios';
import { z } from 'zod';
import { parseSourceUrl } from '../domain/rendering';
import { classifyHttpError, createHttpClient } from './http';
import { withLink } from './shared';
import {
  type AccountInfo,
  type Capabilities,
  type ErrorClass,
  type PlatformAdapter,
  type PlatformContext,
  PlatformError,
  type PublishMedia,
  type PublishRequest,
  type PublishResult,
  type RetractResult,
} from './types';

/**
 * Telegram channels and groups through the Bot API: sendMessage, sendPhoto / sendVideo (the bytes
 * uploaded as multipart), sendMediaGroup for 2-10 media with the caption on the first, and
 * forwardMessage for reposts of an office's t.me post. The Bot API cannot list or look up what a
 * bot sent, so an unsure attempt cannot be reconciled: it goes to a human (needs_attention).
 */

const credentialsSchema = z.strictObject({
  botToken: z.string().regex(/^\d+:[A-Za-z0-9_-]{20,}$/, 'a bot token from @BotFather (123456789:AA…)'),
});
const settingsSchema = z.strictObject({
  chatId: z
    .string()
    .regex(
      /^(@[A-Za-z][A-Za-z0-9_]{3,31}|-?\d{1,20})$/,
      'a chat id: @channelusername or a number such as -1001234567890',
    ),
});

const capabilities: Capabilities = {
  text: true,
  images: true,
  video: true,
  repost: true,
  quote: false,
  metrics: false,
  reconcile: 'none',
  mediaByUrl: false,
  retract: 'api',
  replies: true,
};

/** Bots may delete a message only within 48 hours of sending it; older ones a person deletes. */
export const TELEGRAM_DELETE_WINDOW_MS = 48 * 60 * 60 * 1000;

/** https://core.telegram.org/bots/api: 4096 characters per message, 1024 per caption, 2-10 media per album, 50 MB per upload. */
export const TELEGRAM_TEXT_MAX = 4096;
export const TELEGRAM_CAPTION_MAX = 1024;
export const TELEGRAM_ALBUM_MAX = 10;
export const TELEGRAM_UPLOAD_MAX_BYTES = 50 * 1024 * 1024;

interface TelegramChat {
  id: number;
  type: 'private' | 'group' | 'supergroup' | 'channel';
  title?: string;
  username?: string;
}

interface TelegramMessage {
  message_id: number;
  chat: TelegramChat;
}

interface TelegramFailure {
  ok: false;
  error_code: number;
  description: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

function failureOf(data: unknown): TelegramFailure | null {
  if (!data || typeof data !== 'object') return null;
  const body = data as Partial<TelegramFailure>;
  return body.ok === false && typeof body.error_code === 'number' ? (body as TelegramFailure) : null;
}

export function classifyTelegramError(error: unknown, now = Date.now()): ErrorClass {
  if (error instanceof PlatformError) return error.classification;
  const failure = isAxiosError(error) ? failureOf(error.response?.data) : null;
  if (!isAxiosError(error) || !error.response || !failure) return classifyHttpError(error);
  const httpStatus = error.response.status;
  const message = `Telegram ${failure.error_code}: ${failure.description}`;
  if (failure.error_code === 429) {
    const seconds = failure.parameters?.retry_after ?? 30;
    return {
      kind: 'rate_limited',
      until: new Date(now + seconds * 1000),
      scope: 'channel',
      message,
      httpStatus,
    };
  }
  // 401: revoked token; 403: the bot was removed from the chat; 404: malformed token.
  if ([401, 403, 404].includes(failure.error_code)) return { kind: 'auth', message, httpStatus };
  if (failure.parameters?.migrate_to_chat_id)
    return {
      kind: 'invalid',
      message: `${message}; the group became a supergroup: set the chat id to ${failure.parameters.migrate_to_chat_id}`,
      httpStatus,
    };
  if (failure.error_code === 400) return { kind: 'invalid', message, httpStatus };
  return classifyHttpError(error, () => message);
}

const invalid = (message: string) => new PlatformError({ kind: 'invalid', message });

/**
 * One Bot API call. Failures are classified on the spot and the axios error is dropped: its URL
 * carries the bot token, which must never reach a log.
 */
async function call<T>(
  http: AxiosInstance,
  method: string,
  params: Record<string, unknown> | FormData,
): Promise<T> {
  try {
    const response = await http.post<{ ok: true; result: T }>(`/${method}`, params);
    return response.data.result;
  } catch (error) {
    throw new PlatformError(classifyTelegramError(error));
  }
}

function messageUrl(message: TelegramMessage): string {
  const { chat } = message;
  if (chat.username) return `https://t.me/${chat.username}/${message.message_id}`;
  return `https://t.me/c/${String(chat.id).replace(/^-100/, '')}/${message.message_id}`;
}

const result = (message: TelegramMessage): PublishResult => ({
  remoteId: String(message.message_id),
  url: messageUrl(message),
});

async function bytesOf(medium: PublishMedia): Promise<Blob> {
  if (medium.bytes > TELEGRAM_UPLOAD_MAX_BYTES)
    throw invalid(`Telegram bots upload at most 50 MB; this ${medium.kind} has ${medium.bytes} bytes`);
  const chunks: Buffer[] = await (await medium.open()).toArray();
  return new Blob([new Uint8Array(Buffer.concat(chunks))], { type: medium.mime });
}

const extension = (mime: string) =>
  mime.split('/')[1]?.replace('quicktime', 'mov').replace('jpeg', 'jpg') ?? 'bin';

export function createTelegramAdapter(options: { timeoutMs?: number } = {}): PlatformAdapter {
  const setup = (ctx: PlatformContext) => {
    const { botToken } = credentialsSchema.parse(ctx.credentials);
    const { chatId } = settingsSchema.parse(ctx.channel.settings);
    const http = createHttpClient(`${ctx.endpoints.telegram}/bot${botToken}`, {
      timeoutMs: options.timeoutMs,
      signal: ctx.signal,
    });
    return { http, chatId };
  };

  async function sendMedia(
    http: AxiosInstance,
    chatId: string,
    request: PublishRequest,
    caption: string,
    reply: Record<string, unknown>,
  ) {
    const media = request.media;
    if (caption.length > TELEGRAM_CAPTION_MAX)
      throw invalid(
        `a Telegram caption holds at most ${TELEGRAM_CAPTION_MAX} characters; this one has ${caption.length}`,
      );
    if (media.length > TELEGRAM_ALBUM_MAX)
      throw invalid(
        `a Telegram album holds at most ${TELEGRAM_ALBUM_MAX} media; this post has ${media.length}`,
      );
    const form = new FormData();
    form.append('chat_id', chatId);
    if (media.length === 1) {
      const medium = media[0]!;
      const field = medium.kind === 'image' ? 'photo' : 'video';
      form.append(field, await bytesOf(medium), `${field}.${extension(medium.mime)}`);
      if (caption) form.append('caption', caption);
      for (const [name, value] of Object.entries(reply)) form.append(name, JSON.stringify(value));
      if (medium.kind === 'video') form.append('supports_streaming', 'true');
      return result(
        await call<TelegramMessage>(http, medium.kind === 'image' ? 'sendPhoto' : 'sendVideo', form),
      );
    }
    const album = [];
    for (const [index, medium] of media.entries()) {
      const name = `file${index}`;
      form.append(name, await bytesOf(medium), `${name}.${extension(medium.mime)}`);
      album.push({
        type: medium.kind === 'image' ? 'photo' : 'video',
        media: `attach://${name}`,
        ...(index === 0 && caption ? { caption } : {}),
      });
    }
    form.append('media', JSON.stringify(album));
    for (const [name, value] of Object.entries(reply)) form.append(name, JSON.stringify(value));
    const sent = await call<TelegramMessage[]>(http, 'sendMediaGroup', form);
    // Every message of the album is kept: a retraction deletes them all.
    return { ...result(sent[0]!), remoteIds: sent.map((message) => String(message.message_id)) };
  }

  return {
    platform: 'telegram',
    capabilities,
    credentialsSchema,
    settingsSchema,

    async publish(ctx, request) {
      const { http, chatId } = setup(ctx);
      const text = withLink(request.text, request.link);
      const reply = request.replyTo
        ? {
            reply_parameters: {
              message_id: Number(request.replyTo.remoteId),
              allow_sending_without_reply: true,
            },
          }
        : {};
      if (request.media.length > 0) return sendMedia(http, chatId, request, text, reply);
      if (text.length === 0) throw invalid('a Telegram message needs text or media');
      if (text.length > TELEGRAM_TEXT_MAX)
        throw invalid(
          `a Telegram message holds at most ${TELEGRAM_TEXT_MAX} characters; this one has ${text.length}`,
        );
      return result(await call<TelegramMessage>(http, 'sendMessage', { chat_id: chatId, text, ...reply }));
    },

    /** Forwards the office's post (t.me/<channel>/<id>); the bot must be able to read the source chat. */
    async repost(ctx, request) {
      const { http, chatId } = setup(ctx);
      // A Telegram source kept the chat id and message id of the original (a private channel has no t.me address).
      const ref = request.origin?.platform === 'telegram' ? request.origin.ref : undefined;
      if (ref?.chatId && ref.messageId)
        return result(
          await call<TelegramMessage>(http, 'forwardMessage', {
            chat_id: chatId,
            from_chat_id: /^-?\d+$/.test(ref.chatId) ? Number(ref.chatId) : ref.chatId,
            message_id: Number(ref.messageId),
          }),
        );
      const source = request.sourceUrl ? parseSourceUrl('telegram', request.sourceUrl) : null;
      if (source?.platform !== 'telegram')
        throw invalid(
          `not a Telegram post address (https://t.me/<channel>/<id>): ${request.sourceUrl ?? 'none'}`,
        );
      return result(
        await call<TelegramMessage>(http, 'forwardMessage', {
          chat_id: chatId,
          from_chat_id: source.chatId,
          message_id: source.messageId,
        }),
      );
    },

    /**
     * deleteMessages with every message of the delivery (an album is several); messages already
     * gone are skipped by Telegram. Past 48 hours, or where Telegram refuses, a person deletes them.
     */
    async retract(ctx, request): Promise<RetractResult> {
      const ids = (request.remoteIds.length > 0 ? request.remoteIds : [request.remoteId])
        .filter((id): id is string => id !== null && /^\d+$/.test(id))
        .map(Number);
      const where = request.remoteUrl ?? 'the message in the channel';
      const byHand = (why: string): RetractResult => ({
        outcome: 'needs_person',
        message: `${why}. Open ${where} in Telegram as a channel administrator, long-press each message of the post, choose Delete and confirm; then mark it removed here.`,
      });
      if (ids.length === 0)
        return byHand('Gaung does not know the message ids (the delivery was confirmed by hand)');
      if (Date.now() - request.publishedAt.getTime() >= TELEGRAM_DELETE_WINDOW_MS)
        return byHand('Telegram lets bots delete messages only within 48 hours of sending them');
      const { http, chatId } = setup(ctx);
      try {
        await call<boolean>(http, 'deleteMessages', { chat_id: chatId, message_ids: ids });
      } catch (error) {
        const failure = classifyTelegramError(error);
        if (failure.kind === 'invalid' && /not found/i.test(failure.message)) return { outcome: 'retracted' };
        if (failure.kind === 'invalid' && /can't be deleted|cannot be deleted/i.test(failure.message))
          return byHand(`Telegram refused to delete it (${failure.message})`);
        throw error;
      }
      return { outcome: 'retracted' };
    },

    /** The Bot API offers no way to read a channel's history: a human checks (needs_attention). */
    async findPublished() {
      return 'cannot_tell';
    },

    /** The token works, the chat exists, and the bot may post there (a channel admin with "post messages"). */
    async verifyCredentials(ctx): Promise<AccountInfo> {
      const { http, chatId } = setup(ctx);
      const bot = await call<{ id: number; username: string }>(http, 'getMe', {});
      const chat = await call<TelegramChat>(http, 'getChat', { chat_id: chatId });
      const member = await call<{ status: string; can_post_messages?: boolean; can_send_messages?: boolean }>(
        http,
        'getChatMember',
        { chat_id: chatId, user_id: bot.id },
      );
      const mayPost =
        member.status === 'creator' ||
        (chat.type === 'channel'
          ? member.status === 'administrator' && member.can_post_messages === true
          : member.status === 'administrator' ||
            member.status === 'member' ||
            (member.status === 'restricted' && member.can_send_messages === true));
      if (!mayPost)
        throw new PlatformError({
          kind: 'auth',
          message:
            chat.type === 'channel'
              ? `@${bot.username} must be an administrator of the channel with the right to post messages`
              : `@${bot.username} may not send messages in this chat (status: ${member.status})`,
        });
      return {
        remoteId: String(chat.id),
        handle: chat.username ? `@${chat.username}` : (chat.title ?? String(chat.id)),
        name: chat.title,
      };
    },

    classifyError: (error) => classifyTelegramError(error),
  };
}

export const telegramAdapter = createTelegramAdapter();
