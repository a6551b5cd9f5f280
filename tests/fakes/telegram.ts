import { readFileSync } from 'node:fs';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { fileTypeFromBuffer } from 'file-type';
import { createFakeServer, type FakeServer, type Fault } from './harness';
import { specPath } from './specs';

/**
 * A fake Telegram Bot API. Every call is validated against the official method and type
 * descriptions (tests/fakes/specs/telegram-bot-api.json, scraped from core.telegram.org): the method
 * must exist, required parameters must be present, no parameter outside the method's list, and
 * each value must have one of the documented types, objects (InputMediaPhoto, ReplyParameters…)
 * checked field by field. Parameters arrive as JSON, form fields or multipart (with files), as the
 * Bot API accepts them. Behind that: bot tokens (401 Unauthorized), chats with the bot's
 * membership, per-chat timelines tests read, and Telegram's error shape. Updates go to getUpdates,
 * or, once setWebhook registered an HTTPS address, are POSTed there one per request with the secret
 * token header and sent again until the answer is a 2xx; getUpdates then answers 409 Conflict.
 */

export const TELEGRAM_SPEC_FILE = specPath('telegram-bot-api.json');

interface SpecField {
  name: string;
  types: string[];
  required: boolean;
  description: string | string[];
}

interface BotApiSpec {
  version: string;
  methods: Record<string, { name: string; fields?: SpecField[] }>;
  types: Record<string, { name: string; fields?: SpecField[]; subtypes?: string[] }>;
}

/** A request value as it arrived: typed JSON, or text (form, query, multipart field), or an uploaded file. */
type Value = unknown;

export interface BotApiValidator {
  version: string;
  /** The method's documented name, matched case-insensitively as the Bot API does; null when unknown. */
  method(name: string): string | null;
  /** Problems with a call's parameters, in Telegram's "Bad Request: …" wording; empty when valid. */
  validate(method: string, params: Record<string, Value>, fromText: boolean): string[];
}

const text = (description: string | string[]) =>
  Array.isArray(description) ? description.join(' ') : description;

export function createBotApiValidator(spec: BotApiSpec): BotApiValidator {
  const byLowerName = new Map(Object.keys(spec.methods).map((name) => [name.toLowerCase(), name]));

  /** Text transports serialise objects and arrays as JSON strings. */
  const decoded = (value: Value, fromText: boolean): Value => {
    if (!fromText || typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  };

  function check(value: Value, type: string, fromText: boolean, path: string, files: Set<string>): string[] {
    const wrong = [`Bad Request: field "${path}" must be of type ${type}`];
    if (type.startsWith('Array of ')) {
      const items = decoded(value, fromText);
      if (!Array.isArray(items)) return wrong;
      return items.flatMap((item, index) => check(item, type.slice(9), false, `${path}[${index}]`, files));
    }
    switch (type) {
      case 'Integer':
        return (typeof value === 'number' && Number.isInteger(value)) ||
          (typeof value === 'string' && /^-?\d+$/.test(value))
          ? []
          : wrong;
      case 'Float':
        return typeof value === 'number' ||
          (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)))
          ? []
          : wrong;
      case 'String':
        return typeof value === 'string' || (fromText && typeof value === 'number') ? [] : wrong;
      case 'Boolean':
        return typeof value === 'boolean' || value === 'true' || value === 'false' ? [] : wrong;
      case 'True':
        return value === true || value === 'true' ? [] : wrong;
      case 'InputFile':
        return Buffer.isBuffer(value) ? [] : wrong;
    }
    const definition = spec.types[type];
    if (!definition) return [`Bad Request: field "${path}" has an undocumented type ${type}`];
    if (definition.subtypes)
      return definition.subtypes.some((subtype) => check(value, subtype, fromText, path, files).length === 0)
        ? []
        : [`Bad Request: field "${path}" matches none of ${definition.subtypes.join(', ')}`];
    const object = decoded(value, fromText);
    if (!object || typeof object !== 'object' || Array.isArray(object)) return wrong;
    return checkFields(object as Record<string, Value>, definition.fields ?? [], false, `${path}.`, files);
  }

  /**
   * "Array of InputMediaPhoto | Array of InputMediaVideo | …" in the scraped spec means one array
   * whose items may be of any of those types (the Bot API mixes photos and videos in an album).
   */
  /** "Type of the media, must be photo": the discriminator of InputMedia* and similar unions. */
  const mustBe = (field: SpecField | undefined) =>
    field ? /must be (\w+)/.exec(text(field.description))?.[1] : undefined;
  const discriminator = (type: string) => mustBe(spec.types[type]?.fields?.find((f) => f.name === 'type'));

  const albumTypes = (types: string[]) =>
    types.length > 1 && types.every((t) => t.startsWith('Array of ')) ? types.map((t) => t.slice(9)) : null;

  function checkAlbum(
    value: Value,
    itemTypes: string[],
    fromText: boolean,
    path: string,
    files: Set<string>,
  ) {
    const items = decoded(value, fromText);
    if (!Array.isArray(items)) return [`Bad Request: field "${path}" must be an array`];
    return items.flatMap((item, index) => {
      const attempts = itemTypes.map((type) => check(item, type, false, `${path}[${index}]`, files));
      if (attempts.some((a) => a.length === 0)) return [];
      // Report against the type the item claims to be ("type": "photo"), when it names one.
      const claimed = itemTypes.findIndex(
        (type) => discriminator(type) === (item as { type?: unknown })?.type,
      );
      return attempts[Math.max(claimed, 0)]!;
    });
  }

  function checkFields(
    params: Record<string, Value>,
    fields: SpecField[],
    fromText: boolean,
    prefix: string,
    files: Set<string>,
  ): string[] {
    const problems: string[] = [];
    const known = new Map(fields.map((field) => [field.name, field]));
    for (const name of Object.keys(params))
      if (!known.has(name)) problems.push(`Bad Request: parameter "${prefix}${name}" is not documented here`);
    for (const field of fields) {
      const value = params[field.name];
      if (value === undefined || value === '') {
        if (field.required) problems.push(`Bad Request: ${prefix}${field.name} is empty`);
        continue;
      }
      const results = albumTypes(field.types)
        ? [checkAlbum(value, albumTypes(field.types)!, fromText, `${prefix}${field.name}`, files)]
        : field.types.map((type) => check(value, type, fromText, `${prefix}${field.name}`, files));
      if (results.every((r) => r.length > 0)) {
        problems.push(
          ...(results.length === 1
            ? results[0]!
            : [`Bad Request: field "${prefix}${field.name}" must be ${field.types.join(' or ')}`]),
        );
        continue;
      }
      const must = field.name === 'type' ? mustBe(field) : undefined;
      if (must && value !== must) problems.push(`Bad Request: field "${prefix}type" must be ${must}`);
      if (typeof value === 'string' && value.startsWith('attach://') && !files.has(value.slice(9)))
        problems.push(`Bad Request: file "${value.slice(9)}" for ${prefix}${field.name} is not attached`);
    }
    return problems;
  }

  return {
    version: spec.version,
    method: (name) => byLowerName.get(name.toLowerCase()) ?? null,
    validate(method, params, fromText) {
      const files = new Set(
        Object.entries(params)
          .filter(([, v]) => Buffer.isBuffer(v))
          .map(([k]) => k),
      );
      const fields = spec.methods[method]?.fields ?? [];
      // Uploaded files named by attach:// are parts of the request, not parameters of the method.
      const declared = new Set(fields.map((f) => f.name));
      const own = Object.fromEntries(
        Object.entries(params).filter(([k, v]) => declared.has(k) || !Buffer.isBuffer(v)),
      );
      return checkFields(own, fields, fromText, '', files);
    },
  };
}

export function loadBotApiValidator(file = TELEGRAM_SPEC_FILE): BotApiValidator {
  return createBotApiValidator(JSON.parse(readFileSync(file, 'utf8')) as BotApiSpec);
}

// ---------------------------------------------------------------------------------------------

export interface TelegramChat {
  id: number;
  type: 'channel' | 'supergroup' | 'group';
  title: string;
  username: string | null;
  /** The bot's membership: what getChatMember answers and what sending requires. */
  botStatus: 'administrator' | 'member' | 'left';
  canPostMessages: boolean;
}

export interface TelegramMessage {
  messageId: number;
  chatId: number;
  kind: 'text' | 'photo' | 'video' | 'forward';
  text: string | null;
  caption: string | null;
  mediaGroupId: string | null;
  forwardedFrom: { chatId: number; messageId: number } | null;
  date: number;
}

export interface TelegramFake {
  server: FakeServer;
  url: string;
  validator: BotApiValidator;
  bot: { id: number; username: string; token: string };
  createChat(chat: Partial<TelegramChat> & { title: string }): TelegramChat;
  /** A message already in a chat (e.g. the office's post a delivery forwards). */
  seedMessage(chatId: number, text: string): TelegramMessage;
  messages(chatId: number): TelegramMessage[];
  /** Every message deleteMessage/deleteMessages removed, in order. */
  deleted: { chatId: number; messageId: number }[];
  revokeToken(): void;
  /**
   * The office posts in its channel (the bot is an administrator there): a `channel_post` update
   * waits for getUpdates, or goes to the webhook. Several media make an album (one message each,
   * one media_group_id). `claimedBytes` makes a file report that size (a video over the 20 MB download limit).
   */
  postInChannel(
    chatId: number,
    post: {
      text?: string;
      media?: { kind: 'photo' | 'video'; bytes: Buffer; claimedBytes?: number }[];
      forwardedFrom?: { chatId: number; messageId: number };
    },
  ): TelegramMessage[];
  /** The office edits a post: an `edited_channel_post` update (sent only to bots that ask for it). */
  editInChannel(chatId: number, messageId: number, text: string): void;
  /** The getFile paths handed out, to see that a download URL was never logged. */
  filePaths(): string[];
  /** The webhook setWebhook registered (null while the bot uses getUpdates). */
  webhook(): TelegramWebhook | null;
  /**
   * Where webhook deliveries really go: the registered HTTPS address with its scheme, host and port
   * replaced by `origin` (the app under test listens on plain HTTP on loopback).
   */
  deliverTo(origin: string): void;
  /** The next `times` deliveries reach the webhook but their answers are lost: Telegram sends them again. */
  loseWebhookAnswers(times: number): void;
  /** Every webhook request, in order, with the status it got (null: no answer). */
  webhookDeliveries: { updateId: number; status: number | null }[];
  /** Resolves once every pending update was delivered to the webhook with a 2xx answer. */
  webhookDelivered(): Promise<void>;
  start(): Promise<string>;
  stop(): Promise<void>;
}

export interface TelegramWebhook {
  url: string;
  secretToken: string | null;
  /** null: every update type (the default when setWebhook never named any). */
  allowedUpdates: string[] | null;
}

/** Telegram's flood-control answer. */
export function telegramTooManyRequests(retryAfter: number): Fault {
  return {
    kind: 'respond',
    status: 429,
    body: {
      ok: false,
      error_code: 429,
      description: `Too Many Requests: retry after ${retryAfter}`,
      parameters: { retry_after: retryAfter },
    },
  };
}

export const telegramServerError: Fault = {
  kind: 'respond',
  status: 502,
  body: { ok: false, error_code: 502, description: 'Bad Gateway' },
};

/** core.telegram.org/bots/api#deletemessage: "A message can only be deleted if it was sent less than 48 hours ago." */
const DELETE_WINDOW_SECONDS = 48 * 3600;

class BotApiFailure extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
  ) {
    super(description);
  }
}

const badRequest = (description: string) => new BotApiFailure(400, `Bad Request: ${description}`);

function reply(res: FastifyReply, failure: BotApiFailure) {
  return res
    .code(failure.code)
    .send({ ok: false, error_code: failure.code, description: failure.description });
}

export function createTelegramFake(): TelegramFake {
  const server = createFakeServer();
  server.app.register(formbody);
  server.app.register(multipart, { attachFieldsToBody: 'keyValues', limits: { fileSize: 50 * 1024 * 1024 } });
  const validator = loadBotApiValidator();
  const bot = { id: 7_000_000_001, username: 'gaung_pusat_bot', token: `7000000001:AAF${'x'.repeat(32)}` };
  let tokenRevoked = false;
  const chats = new Map<number, TelegramChat>();
  const timeline: TelegramMessage[] = [];
  let nextChatId = -1_001_000_000_001;
  const updates: {
    update_id: number;
    kind: 'channel_post' | 'edited_channel_post';
    message: TelegramMessage;
  }[] = [];
  let nextUpdateId = 500_000_001;
  const files = new Map<string, { bytes: Buffer; size: number; path: string }>();
  let mediaGroups = 0;
  // Message ids grow per chat and are never reused, deleted messages included.
  const lastMessageId = new Map<number, number>();
  const deleted: TelegramFake['deleted'] = [];

  const chatOf = (value: unknown): TelegramChat => {
    const raw = String(value);
    const chat = raw.startsWith('@')
      ? [...chats.values()].find((c) => c.username?.toLowerCase() === raw.slice(1).toLowerCase())
      : chats.get(Number(raw));
    if (!chat || chat.botStatus === 'left') throw badRequest('chat not found');
    return chat;
  };

  const chatJson = (chat: TelegramChat) => ({
    id: chat.id,
    type: chat.type,
    title: chat.title,
    ...(chat.username ? { username: chat.username } : {}),
  });

  const mayPost = (chat: TelegramChat) => {
    if (chat.type === 'channel' && !(chat.botStatus === 'administrator' && chat.canPostMessages))
      throw badRequest('need administrator rights in the channel chat');
  };

  function store(chat: TelegramChat, message: Omit<TelegramMessage, 'messageId' | 'chatId' | 'date'>) {
    const messageId = (lastMessageId.get(chat.id) ?? 0) + 1;
    lastMessageId.set(chat.id, messageId);
    const stored: TelegramMessage = {
      ...message,
      messageId,
      chatId: chat.id,
      date: Math.floor(Date.now() / 1000),
    };
    timeline.push(stored);
    return stored;
  }

  const messageJson = (chat: TelegramChat, message: TelegramMessage) => ({
    message_id: message.messageId,
    sender_chat: chatJson(chat),
    chat: chatJson(chat),
    date: message.date,
    ...(message.text !== null ? { text: message.text } : {}),
    ...(message.caption ? { caption: message.caption } : {}),
    ...(message.mediaGroupId ? { media_group_id: message.mediaGroupId } : {}),
    ...(message.kind === 'photo'
      ? {
          // A small preview first, then the photo as sent (Telegram lists every size it made).
          photo: [
            {
              file_id: `AgACthumb${message.chatId}_${message.messageId}`,
              file_unique_id: `AQADt${message.messageId}`,
              width: 32,
              height: 24,
              file_size: 600,
            },
            {
              file_id: `AgAC${message.chatId}_${message.messageId}`,
              file_unique_id: `AQAD${message.messageId}`,
              width: 64,
              height: 48,
              ...(files.get(`AgAC${message.chatId}_${message.messageId}`)
                ? { file_size: files.get(`AgAC${message.chatId}_${message.messageId}`)!.size }
                : {}),
            },
          ],
        }
      : {}),
    ...(message.kind === 'video'
      ? {
          video: {
            file_id: `BAAC${message.chatId}_${message.messageId}`,
            file_unique_id: `AgAD${message.messageId}`,
            width: 160,
            height: 120,
            duration: 1,
            mime_type: 'video/mp4',
            ...(files.get(`BAAC${message.chatId}_${message.messageId}`)
              ? { file_size: files.get(`BAAC${message.chatId}_${message.messageId}`)!.size }
              : {}),
          },
        }
      : {}),
    ...(message.forwardedFrom
      ? {
          forward_origin: {
            type: 'channel',
            chat: chatJson(chats.get(message.forwardedFrom.chatId)!),
            message_id: message.forwardedFrom.messageId,
            date: message.date,
          },
        }
      : {}),
  });

  async function upload(value: unknown, kind: 'photo' | 'video'): Promise<void> {
    if (!Buffer.isBuffer(value)) throw badRequest('wrong file identifier/HTTP URL specified');
    const type = await fileTypeFromBuffer(new Uint8Array(value));
    if (kind === 'photo' && !/^image\/(jpeg|png|webp)$/.test(type?.mime ?? ''))
      throw badRequest('IMAGE_PROCESS_FAILED');
    if (kind === 'video' && !/^video\//.test(type?.mime ?? ''))
      throw badRequest('wrong type of the web page content');
  }

  const captionOf = (value: unknown) => {
    const caption = value === undefined ? null : String(value);
    if (caption && caption.length > 1024) throw badRequest('message caption is too long');
    return caption;
  };

  let confirmed = 0;
  const listOf = (value: unknown) =>
    (typeof value === 'string' ? JSON.parse(value) : value) as string[] | undefined;

  // Webhook delivery: one POST per update, in order, sent again until the answer is a 2xx.
  let webhook: TelegramWebhook | null = null;
  let deliverOrigin: string | null = null;
  let answersToLose = 0;
  let lastError: { date: number; message: string } | null = null;
  let pumping: Promise<void> | null = null;
  let stopped = false;
  const webhookDeliveries: TelegramFake['webhookDeliveries'] = [];
  const pendingUpdates = () =>
    updates.filter(
      (u) =>
        u.update_id >= confirmed &&
        (!webhook?.allowedUpdates?.length || webhook.allowedUpdates.includes(u.kind)),
    );

  async function deliver(hook: TelegramWebhook, update: (typeof updates)[number]): Promise<boolean> {
    const target = new URL(hook.url);
    if (deliverOrigin) {
      const origin = new URL(deliverOrigin);
      target.protocol = origin.protocol;
      target.host = origin.host;
    }
    let status: number | null = null;
    try {
      const response = await fetch(target, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(hook.secretToken ? { 'x-telegram-bot-api-secret-token': hook.secretToken } : {}),
        },
        body: JSON.stringify({
          update_id: update.update_id,
          [update.kind]: messageJson(chats.get(update.message.chatId)!, update.message),
        }),
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      status = response.status;
      if (answersToLose > 0) {
        answersToLose -= 1;
        status = null;
      }
    } catch {
      status = null;
    }
    webhookDeliveries.push({ updateId: update.update_id, status });
    const ok = status !== null && status >= 200 && status < 300;
    if (!ok)
      lastError = {
        date: Math.floor(Date.now() / 1000),
        message: status === null ? 'Connection timed out' : `Wrong response from the webhook: ${status}`,
      };
    return ok;
  }

  async function pump(): Promise<void> {
    let wait = 20;
    while (webhook && !stopped) {
      const next = pendingUpdates()[0];
      if (!next) return;
      if (await deliver(webhook, next)) {
        confirmed = Math.max(confirmed, next.update_id + 1);
        wait = 20;
      } else {
        await new Promise((resolve) => setTimeout(resolve, wait));
        wait = Math.min(wait * 2, 1_000);
      }
    }
  }

  const kick = () => {
    if (pumping || !webhook || stopped) return;
    pumping = pump().finally(() => {
      pumping = null;
      if (pendingUpdates().length > 0) kick();
    });
  };

  const methods: Record<string, (params: Record<string, unknown>) => Promise<unknown>> = {
    /** Updates from `offset` on; asking with an offset confirms (forgets) every update below it. */
    async getUpdates(params) {
      if (webhook)
        throw new BotApiFailure(
          409,
          "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        );
      const offset = params.offset === undefined ? confirmed : Number(params.offset);
      confirmed = Math.max(confirmed, offset);
      const allowed = listOf(params.allowed_updates);
      const limit = Math.min(Number(params.limit ?? 100), 100);
      return updates
        .filter((u) => u.update_id >= confirmed && (!allowed?.length || allowed.includes(u.kind)))
        .slice(0, limit)
        .map((u) => ({
          update_id: u.update_id,
          [u.kind]: messageJson(chats.get(u.message.chatId)!, u.message),
        }));
    },
    /** An empty url removes the webhook; allowed_updates left out keeps the previous list. */
    async setWebhook(params) {
      const url = String(params.url);
      if (url === '') return methods.deleteWebhook!({});
      if (!url.startsWith('https://'))
        throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
      const secret = params.secret_token === undefined ? null : String(params.secret_token);
      if (secret !== null && !/^[A-Za-z0-9_-]{1,256}$/.test(secret))
        throw badRequest('secret token contains unallowed characters');
      if (params.drop_pending_updates === true || params.drop_pending_updates === 'true')
        confirmed = nextUpdateId;
      webhook = {
        url,
        secretToken: secret,
        allowedUpdates: listOf(params.allowed_updates) ?? webhook?.allowedUpdates ?? null,
      };
      lastError = null;
      kick();
      return true;
    },
    async deleteWebhook(params) {
      webhook = null;
      if (params.drop_pending_updates === true || params.drop_pending_updates === 'true')
        confirmed = nextUpdateId;
      return true;
    },
    async getWebhookInfo() {
      return {
        url: webhook?.url ?? '',
        has_custom_certificate: false,
        pending_update_count: webhook ? pendingUpdates().length : 0,
        ...(webhook ? { max_connections: 40, ip_address: '149.154.167.220' } : {}),
        ...(webhook?.allowedUpdates ? { allowed_updates: webhook.allowedUpdates } : {}),
        ...(webhook && lastError
          ? { last_error_date: lastError.date, last_error_message: lastError.message }
          : {}),
      };
    },
    async getFile(params) {
      const file = files.get(String(params.file_id));
      if (!file) throw badRequest('invalid file_id');
      if (file.size > 20 * 1024 * 1024) throw badRequest('file is too big');
      return {
        file_id: params.file_id,
        file_unique_id: `u${params.file_id}`,
        file_size: file.size,
        file_path: file.path,
      };
    },
    async getMe() {
      return {
        id: bot.id,
        is_bot: true,
        first_name: 'Gaung Pusat',
        username: bot.username,
        can_join_groups: false,
      };
    },
    async getChat(params) {
      const chat = chatOf(params.chat_id);
      return { ...chatJson(chat), accent_color_id: 0, max_reaction_count: 11, accepted_gift_types: {} };
    },
    async getChatMember(params) {
      const chat = chatOf(params.chat_id);
      const user = {
        id: Number(params.user_id),
        is_bot: Number(params.user_id) === bot.id,
        first_name: 'Someone',
      };
      if (Number(params.user_id) !== bot.id) return { status: 'left', user };
      if (chat.botStatus === 'member') return { status: 'member', user };
      return {
        status: 'administrator',
        user,
        can_be_edited: false,
        is_anonymous: false,
        can_manage_chat: true,
        can_delete_messages: true,
        can_manage_video_chats: false,
        can_restrict_members: false,
        can_promote_members: false,
        can_change_info: false,
        can_invite_users: true,
        can_post_stories: false,
        can_edit_stories: false,
        can_delete_stories: false,
        ...(chat.type === 'channel'
          ? { can_post_messages: chat.canPostMessages, can_edit_messages: true }
          : {}),
      };
    },
    async sendMessage(params) {
      const chat = chatOf(params.chat_id);
      mayPost(chat);
      const body = String(params.text);
      if (body.length > 4096) throw badRequest('message is too long');
      return messageJson(
        chat,
        store(chat, { kind: 'text', text: body, caption: null, mediaGroupId: null, forwardedFrom: null }),
      );
    },
    async sendPhoto(params) {
      const chat = chatOf(params.chat_id);
      mayPost(chat);
      await upload(params.photo, 'photo');
      const caption = captionOf(params.caption);
      return messageJson(
        chat,
        store(chat, { kind: 'photo', text: null, caption, mediaGroupId: null, forwardedFrom: null }),
      );
    },
    async sendVideo(params) {
      const chat = chatOf(params.chat_id);
      mayPost(chat);
      await upload(params.video, 'video');
      const caption = captionOf(params.caption);
      return messageJson(
        chat,
        store(chat, { kind: 'video', text: null, caption, mediaGroupId: null, forwardedFrom: null }),
      );
    },
    async sendMediaGroup(params) {
      const chat = chatOf(params.chat_id);
      mayPost(chat);
      const items = (typeof params.media === 'string' ? JSON.parse(params.media) : params.media) as {
        type: 'photo' | 'video';
        media: string;
        caption?: string;
      }[];
      if (items.length < 2 || items.length > 10)
        throw badRequest('wrong number of media in the album: 2-10 expected');
      for (const item of items) {
        captionOf(item.caption);
        await upload(params[item.media.replace(/^attach:\/\//, '')], item.type);
      }
      const group = String(13_000_000_000 + ++mediaGroups);
      return items.map((item) =>
        messageJson(
          chat,
          store(chat, {
            kind: item.type,
            text: null,
            caption: item.caption ?? null,
            mediaGroupId: group,
            forwardedFrom: null,
          }),
        ),
      );
    },
    async forwardMessage(params) {
      const chat = chatOf(params.chat_id);
      mayPost(chat);
      const from = chatOf(params.from_chat_id);
      const original = timeline.find(
        (m) => m.chatId === from.id && m.messageId === Number(params.message_id),
      );
      if (!original) throw badRequest('message to forward not found');
      return messageJson(
        chat,
        store(chat, {
          kind: 'forward',
          text: original.text,
          caption: original.caption,
          mediaGroupId: null,
          forwardedFrom: { chatId: from.id, messageId: original.messageId },
        }),
      );
    },
  };

  // File downloads: https://api.telegram.org/file/bot<token>/<file_path>.
  server.app.get('/file/*', async (request: FastifyRequest, res: FastifyReply) => {
    const match = /^\/file\/bot([^/]+)\/(.+)$/.exec(request.url.split('?')[0]!);
    if (!match || match[1] !== bot.token || tokenRevoked)
      return res.code(401).send({ ok: false, error_code: 401, description: 'Unauthorized' });
    const file = [...files.values()].find((f) => f.path === match[2]);
    if (!file) return res.code(404).send({ ok: false, error_code: 404, description: 'Not Found' });
    return res.type('application/octet-stream').send(file.bytes);
  });
  /**
   * What Telegram lets a bot delete: any message of a chat where it is an administrator with
   * can_delete_messages (or its own posts in a channel), sent less than 48 hours ago.
   */
  const deletable = (chat: TelegramChat, messageId: number) => {
    const index = timeline.findIndex((m) => m.chatId === chat.id && m.messageId === messageId);
    if (index < 0) return { index, ok: false };
    const message = timeline[index]!;
    const recent = Date.now() / 1000 - message.date < DELETE_WINDOW_SECONDS;
    return { index, ok: recent && chat.botStatus === 'administrator' };
  };
  const remove = (chat: TelegramChat, index: number) => {
    const [message] = timeline.splice(index, 1);
    deleted.push({ chatId: chat.id, messageId: message!.messageId });
  };
  const idList = (value: unknown) =>
    (typeof value === 'string' ? (JSON.parse(value) as unknown[]) : (value as unknown[])).map(Number);

  methods.deleteMessage = async (params) => {
    const chat = chatOf(params.chat_id);
    const { index, ok } = deletable(chat, Number(params.message_id));
    if (index < 0) throw badRequest('message to delete not found');
    if (!ok) throw badRequest("message can't be deleted");
    remove(chat, index);
    return true;
  };
  /** 1-100 ids; those that cannot be found are skipped; if none can be deleted, the call fails. */
  methods.deleteMessages = async (params) => {
    const chat = chatOf(params.chat_id);
    const ids = idList(params.message_ids);
    if (ids.length < 1 || ids.length > 100) throw badRequest('too many messages to delete');
    const found = ids.map((id) => ({ id, ...deletable(chat, id) })).filter((m) => m.index >= 0);
    if (found.length === 0) throw badRequest('message to delete not found');
    if (found.some((m) => !m.ok)) throw badRequest("message can't be deleted");
    for (const { id } of found)
      remove(
        chat,
        timeline.findIndex((m) => m.chatId === chat.id && m.messageId === id),
      );
    return true;
  };

  server.app.route({
    method: ['GET', 'POST'],
    url: '/*',
    handler: async (request: FastifyRequest, res: FastifyReply) => {
      try {
        const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(request.url.split('?')[0]!);
        if (!match) throw new BotApiFailure(404, 'Not Found');
        if (match[1] !== bot.token || tokenRevoked) throw new BotApiFailure(401, 'Unauthorized');
        const method = validator.method(match[2]!);
        if (!method) throw new BotApiFailure(404, 'Not Found');
        const isJson = String(request.headers['content-type'] ?? '').startsWith('application/json');
        const body =
          request.body && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
        const params = { ...(request.query as Record<string, unknown>), ...body };
        const problems = validator.validate(method, params, !isJson);
        if (problems.length > 0) throw new BotApiFailure(400, problems[0]!);
        const handler = methods[method];
        if (!handler) throw badRequest(`${method} is outside what this fake platform implements`);
        return { ok: true, result: await handler(params) };
      } catch (error) {
        if (error instanceof BotApiFailure) return reply(res, error);
        throw error;
      }
    },
  });

  const fake: TelegramFake = {
    server,
    url: '',
    validator,
    bot,
    createChat(input) {
      const chat: TelegramChat = {
        id: input.id ?? nextChatId--,
        type: input.type ?? 'channel',
        title: input.title,
        username: input.username ?? null,
        botStatus: input.botStatus ?? 'administrator',
        canPostMessages: input.canPostMessages ?? true,
      };
      chats.set(chat.id, chat);
      return chat;
    },
    seedMessage(chatId, body) {
      return store(chats.get(chatId)!, {
        kind: 'text',
        text: body,
        caption: null,
        mediaGroupId: null,
        forwardedFrom: null,
      });
    },
    messages: (chatId) => timeline.filter((m) => m.chatId === chatId),
    postInChannel(chatId, post) {
      const chat = chats.get(chatId)!;
      const media = post.media ?? [];
      const group = media.length > 1 ? String(13_500_000_000 + ++mediaGroups) : null;
      const parts = media.length > 0 ? media : [null];
      return parts.map((medium, index) => {
        const message = store(chat, {
          kind: medium ? medium.kind : post.forwardedFrom ? 'forward' : 'text',
          text: medium ? null : (post.text ?? ''),
          caption: medium && index === 0 ? (post.text ?? null) : null,
          mediaGroupId: group,
          forwardedFrom: post.forwardedFrom ?? null,
        });
        if (medium) {
          const fileId = `${medium.kind === 'photo' ? 'AgAC' : 'BAAC'}${chatId}_${message.messageId}`;
          files.set(fileId, {
            bytes: medium.bytes,
            size: medium.claimedBytes ?? medium.bytes.length,
            path: `${medium.kind === 'photo' ? 'photos' : 'videos'}/file_${files.size}.${medium.kind === 'photo' ? 'jpg' : 'mp4'}`,
          });
        }
        updates.push({ update_id: nextUpdateId++, kind: 'channel_post', message });
        kick();
        return message;
      });
    },
    editInChannel(chatId, messageId, body) {
      const message = timeline.find((m) => m.chatId === chatId && m.messageId === messageId)!;
      updates.push({
        update_id: nextUpdateId++,
        kind: 'edited_channel_post',
        message: { ...message, text: body },
      });
    },
    filePaths: () => [...files.values()].map((f) => f.path),
    webhook: () => webhook,
    deliverTo(origin) {
      deliverOrigin = origin;
      kick();
    },
    loseWebhookAnswers(times) {
      answersToLose = times;
    },
    webhookDeliveries,
    async webhookDelivered() {
      while (pumping) await pumping;
    },
    deleted,
    revokeToken() {
      tokenRevoked = true;
    },
    async start() {
      fake.url = await server.start();
      return fake.url;
    },
    async stop() {
      stopped = true;
      await pumping;
      await server.stop();
    },
  };
  return fake;
}
