import { randomBytes } from 'node:crypto';
import multipart from '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createFakeServer, type FakeServer, type Fault } from './harness';
import { graphemeCount } from './lexicon';
import { fastifyPath, loadOpenApiValidator, openApiRequest } from './openapi';
import { specPath } from './specs';
import { looksLike } from './x';

/**
 * A fake Mastodon instance: instance info, account and account lookup, media (asynchronous
 * processing: 202, then 206 until done; the files themselves are served), statuses with
 * Idempotency-Key, visibility, content warnings and replies, reblogs, quotes (only when the
 * instance's API version is 7 or later; older instances ignore quoted_status_id as real ones do),
 * search with resolve, and account timelines. Requests are validated against the Mastodon OpenAPI
 * document; content is rendered to HTML the way Mastodon does, so reconciliation must read it back.
 * Account lookup and account timelines answer anonymous callers too, with public and unlisted
 * statuses only, as real instances do.
 */

export const MASTODON_SPEC = specPath('mastodon-openapi-schema.json');

export interface FakeMastodonAccount {
  id: string;
  username: string;
  displayName: string;
  remoteDomain: string | null;
}

export type FakeMastodonVisibility = 'public' | 'unlisted' | 'private' | 'direct';

export interface FakeMastodonStatus {
  id: string;
  accountId: string;
  text: string;
  createdAt: Date;
  visibility: FakeMastodonVisibility;
  /** The content warning shown before the text ('' when there is none). */
  spoilerText: string;
  inReplyTo: string | null;
  mediaIds: string[];
  reblogOf: string | null;
  quoteOf: string | null;
  quotePolicy: 'public' | 'nobody';
  language: string | null;
  favourites: number;
  reblogs: number;
  replies: number;
  quotes: number;
}

export interface FakeMastodonMedia {
  id: string;
  accountId: string;
  /** gifv: an animated GIF, which Mastodon converts to a silent looping MP4. */
  kind: 'image' | 'video' | 'gifv';
  bytes: Buffer;
  description: string | null;
  pollsLeft: number;
}

export interface FakeMastodon {
  server: FakeServer;
  url: string;
  statuses: FakeMastodonStatus[];
  /** Ids of the statuses deleted (and of those whose reblog was undone), one entry per removal. */
  deleted: string[];
  media: Map<string, FakeMastodonMedia>;
  instance: { maxCharacters: number; apiVersion: number; version: string };
  start(): Promise<string>;
  stop(): Promise<void>;
  addAccount(options: { username: string; displayName?: string; remoteDomain?: string }): FakeMastodonAccount;
  issueToken(accountId: string, scopes?: string[]): string;
  /** The account deletes its own status (as from its Mastodon app). */
  removeStatus(id: string): void;
  revokeToken(token: string): void;
  addStatus(
    accountId: string,
    text: string,
    options?: {
      createdAt?: Date;
      quotePolicy?: 'public' | 'nobody';
      visibility?: FakeMastodonVisibility;
      spoilerText?: string;
      /** The id of the status this one replies to. */
      inReplyTo?: string;
      /** Attachments, already processed; their bytes are served at the attachment's url. */
      media?: { bytes: Buffer; kind: 'image' | 'video' | 'gifv'; description?: string }[];
    },
  ): FakeMastodonStatus;
  /** The public URL of a status, as its home server shows it. */
  statusUrl(status: FakeMastodonStatus): string;
  timeline(accountId: string): FakeMastodonStatus[];
  /** A 429 as Mastodon sends it: X-RateLimit-* headers with an ISO 8601 reset time. */
  rateLimitFault(resetAt: Date): Fault;
}

const WINDOW_MS = 5 * 60_000;
const LIMIT = 300;

export function createFakeMastodon(
  options: { apiVersion?: number; videoProcessingPolls?: number } = {},
): FakeMastodon {
  const server = createFakeServer();
  const { app } = server;
  const spec = loadOpenApiValidator(MASTODON_SPEC, { oneOfAsAnyOf: true });
  const accounts = new Map<string, FakeMastodonAccount>();
  const tokens = new Map<string, { accountId: string; scopes: string[]; revoked: boolean }>();
  const statuses: FakeMastodonStatus[] = [];
  const deleted: string[] = [];
  const media = new Map<string, FakeMastodonMedia>();
  const idempotency = new Map<string, { statusId: string; at: number }>();
  const windows = new Map<string, { used: number; resetAt: number }>();
  const instance = {
    maxCharacters: 500,
    apiVersion: options.apiVersion ?? 7,
    version: (options.apiVersion ?? 7) >= 7 ? '4.5.0' : '4.3.2',
  };
  let nextId = 113_000_000_000_000_000n;
  const newId = () => String(nextId++);

  app.register(multipart, { attachFieldsToBody: 'keyValues', limits: { fileSize: 100 * 1024 * 1024 } });

  const fail = (reply: FastifyReply, status: number, error: string) => reply.code(status).send({ error });

  /**
   * Registers an operation of the document. `anonymous` routes take requests without a token (the
   * document lists OAuth2 for them, but instances answer the public part to anyone); a token that
   * is sent must still be valid. Anonymous callers are metered by address, with account id ''.
   */
  const route = (
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    handle: (request: FastifyRequest, reply: FastifyReply, accountId: string) => unknown,
    options: { anonymous?: boolean } = {},
  ) => {
    if (!spec.has(method, path)) throw new Error(`${method} ${path} is not in the Mastodon document`);
    const required = spec.scopes(method, path, 'OAuth2');
    app.route({
      method,
      url: fastifyPath(path),
      handler: async (request, reply) => {
        let accountId = '';
        if (options.anonymous && !request.headers.authorization) {
          if (!meter(reply, `ip ${request.ip}`)) return reply;
        } else if (required) {
          const header = request.headers.authorization ?? '';
          const token = header.startsWith('Bearer ') ? tokens.get(header.slice(7)) : undefined;
          if (!token) return fail(reply, 401, 'The access token is invalid');
          if (token.revoked) return fail(reply, 401, 'The access token was revoked');
          // Any listed scope will do; a top-level scope (write) covers its parts (write:statuses).
          const granted =
            required.length === 0 ||
            required.some((s) => token.scopes.includes(s) || token.scopes.includes(s.split(':')[0]!));
          if (!granted) return fail(reply, 403, 'This action is outside the authorized scopes');
          accountId = token.accountId;
          if (!meter(reply, accountId)) return reply;
        }
        const errors = spec.validate(method, path, openApiRequest(request));
        if (errors.length > 0)
          return fail(reply, request.body ? 422 : 400, `Validation failed: ${errors.join('; ')}`);
        return handle(request, reply, accountId);
      },
    });
  };

  const meter = (reply: FastifyReply, accountId: string): boolean => {
    let window = windows.get(accountId);
    if (!window || window.resetAt <= Date.now()) {
      window = { used: 0, resetAt: Date.now() + WINDOW_MS };
      windows.set(accountId, window);
    }
    reply.header('X-RateLimit-Limit', String(LIMIT));
    reply.header('X-RateLimit-Reset', new Date(window.resetAt).toISOString());
    if (window.used >= LIMIT) {
      reply.header('X-RateLimit-Remaining', '0');
      fail(reply, 429, 'Too many requests');
      return false;
    }
    window.used += 1;
    reply.header('X-RateLimit-Remaining', String(LIMIT - window.used));
    return true;
  };

  const base = () => server.url;
  const accountJson = (account: FakeMastodonAccount) => {
    const home = account.remoteDomain ? `https://${account.remoteDomain}` : base();
    return {
      id: account.id,
      username: account.username,
      acct: account.remoteDomain ? `${account.username}@${account.remoteDomain}` : account.username,
      display_name: account.displayName,
      locked: false,
      bot: false,
      group: false,
      indexable: true,
      created_at: '2020-01-01T00:00:00.000Z',
      note: '',
      url: `${home}/@${account.username}`,
      uri: `${home}/users/${account.username}`,
      avatar: `${base()}/avatars/original/missing.png`,
      avatar_static: `${base()}/avatars/original/missing.png`,
      header: `${base()}/headers/original/missing.png`,
      header_static: `${base()}/headers/original/missing.png`,
      followers_count: 0,
      following_count: 0,
      statuses_count: statuses.filter((s) => s.accountId === account.id).length,
      emojis: [],
      fields: [],
    };
  };

  const statusUrl = (status: FakeMastodonStatus) => {
    const account = accounts.get(status.accountId)!;
    const home = account.remoteDomain ? `https://${account.remoteDomain}` : base();
    return `${home}/@${account.username}/${status.id}`;
  };

  const attachmentJson = (m: FakeMastodonMedia) => {
    const ready = m.pollsLeft <= 0;
    return {
      id: m.id,
      type: m.kind,
      url: ready ? `${base()}/system/media_attachments/${m.id}/original` : null,
      preview_url: `${base()}/system/media_attachments/${m.id}/small`,
      remote_url: null,
      meta: {},
      description: m.description,
      blurhash: null,
    };
  };

  const statusJson = (status: FakeMastodonStatus, viewerId: string): Record<string, unknown> => {
    const reblog = status.reblogOf ? statuses.find((s) => s.id === status.reblogOf)! : null;
    const quoted = status.quoteOf ? statuses.find((s) => s.id === status.quoteOf)! : null;
    const quotePrefix =
      quoted && !status.text.includes(statusUrl(quoted))
        ? `<p class="quote-inline">RE: <a href="${statusUrl(quoted)}">${statusUrl(quoted)}</a></p>`
        : '';
    const repliedTo = statuses.find((s) => s.id === status.inReplyTo) ?? null;
    return {
      id: status.id,
      created_at: status.createdAt.toISOString(),
      in_reply_to_id: repliedTo?.id ?? null,
      in_reply_to_account_id: repliedTo?.accountId ?? null,
      // A content warning makes the status sensitive.
      sensitive: status.spoilerText !== '',
      spoiler_text: status.spoilerText,
      visibility: status.visibility,
      language: status.language,
      uri: `${base()}/users/${accounts.get(status.accountId)!.username}/statuses/${status.id}${reblog ? '/activity' : ''}`,
      url: reblog ? null : statusUrl(status),
      replies_count: status.replies,
      reblogs_count: status.reblogs,
      favourites_count: status.favourites,
      quotes_count: status.quotes,
      reblogged: statuses.some((s) => s.reblogOf === status.id && s.accountId === viewerId),
      content: reblog ? '' : quotePrefix + renderHtml(status.text, base()),
      reblog: reblog ? statusJson(reblog, viewerId) : null,
      quote: quoted ? { state: 'accepted', quoted_status: statusJson(quoted, viewerId) } : null,
      account: accountJson(accounts.get(status.accountId)!),
      media_attachments: status.mediaIds.map((id) => attachmentJson(media.get(id)!)),
      mentions: [],
      tags: [],
      emojis: [],
      card: null,
      poll: null,
    };
  };

  const store = (accountId: string, text: string, extra: Partial<FakeMastodonStatus> = {}) => {
    const status: FakeMastodonStatus = {
      id: newId(),
      accountId,
      text,
      createdAt: new Date(),
      visibility: 'public',
      spoilerText: '',
      inReplyTo: null,
      mediaIds: [],
      reblogOf: null,
      quoteOf: null,
      quotePolicy: 'public',
      language: null,
      favourites: 0,
      reblogs: 0,
      replies: 0,
      quotes: 0,
      ...extra,
    };
    statuses.push(status);
    return status;
  };

  route('GET', '/api/v2/instance', () => {
    const host = new URL(base()).host;
    return {
      domain: host,
      title: 'Fake Mastodon',
      version: instance.version,
      source_url: 'https://github.com/mastodon/mastodon',
      description: 'A Mastodon instance for Gaung tests',
      usage: { users: { active_month: 1 } },
      thumbnail: { url: `${base()}/thumbnail.png` },
      icon: [],
      languages: ['id', 'en'],
      configuration: {
        urls: { streaming: `ws://${host}` },
        accounts: { max_featured_tags: 10, max_pinned_statuses: 5 },
        statuses: {
          max_characters: instance.maxCharacters,
          max_media_attachments: 4,
          characters_reserved_per_url: 23,
        },
        media_attachments: {
          supported_mime_types: ['image/jpeg', 'image/png', 'video/mp4'],
          image_size_limit: 16_777_216,
          image_matrix_limit: 33_177_600,
          video_size_limit: 103_809_024,
          video_frame_rate_limit: 120,
          video_matrix_limit: 8_294_400,
          description_limit: 1500,
        },
        polls: {
          max_options: 4,
          max_characters_per_option: 50,
          min_expiration: 300,
          max_expiration: 2_629_746,
        },
        translation: { enabled: false },
      },
      registrations: { enabled: false, approval_required: false, message: null },
      api_versions: { mastodon: instance.apiVersion },
      contact: { email: 'admin@fake.invalid', account: null },
      rules: [],
    };
  });

  route('GET', '/api/v1/accounts/verify_credentials', (_request, _reply, accountId) => ({
    ...accountJson(accounts.get(accountId)!),
    source: { privacy: 'public', sensitive: false, language: null, note: '', fields: [] },
  }));

  /** Private and direct statuses are shown to their author only (the fake has no followers or mentions). */
  const visibleTo = (status: FakeMastodonStatus, viewerId: string) =>
    status.visibility === 'public' || status.visibility === 'unlisted' || status.accountId === viewerId;

  route(
    'GET',
    '/api/v1/accounts/lookup',
    (request, reply) => {
      // A local account is found by its username, also written with this instance's domain; a known
      // remote one by username@domain (lookup does not ask other servers).
      const acct = (request.query as { acct: string }).acct.replace(/^@/, '').toLowerCase();
      const host = new URL(base()).host.toLowerCase();
      const account = [...accounts.values()].find((a) => {
        const name = a.username.toLowerCase();
        return a.remoteDomain
          ? acct === `${name}@${a.remoteDomain.toLowerCase()}`
          : acct === name || acct === `${name}@${host}`;
      });
      return account ? accountJson(account) : fail(reply, 404, 'Record not found');
    },
    { anonymous: true },
  );

  app.get<{ Params: { id: string } }>('/system/media_attachments/:id/original', async (request, reply) => {
    const attachment = media.get(request.params.id);
    if (!attachment || attachment.pollsLeft > 0) return reply.code(404).type('text/plain').send('Not Found');
    const type =
      ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'video/mp4'].find((t) =>
        looksLike(t, attachment.bytes),
      ) ?? 'application/octet-stream';
    return reply.type(type).send(attachment.bytes);
  });

  route('POST', '/api/v2/media', (request, reply, accountId) => {
    const body = request.body as { file?: Buffer; description?: string };
    if (!Buffer.isBuffer(body.file)) return fail(reply, 422, 'Validation failed: File must be a file');
    const kind =
      looksLike('image/png', body.file) || looksLike('image/jpeg', body.file)
        ? 'image'
        : looksLike('video/mp4', body.file)
          ? 'video'
          : null;
    if (!kind) return fail(reply, 422, 'Validation failed: File content type is invalid, File is invalid');
    if (body.description && body.description.length > 1500)
      return fail(reply, 422, 'Validation failed: Description is too long (maximum is 1500 characters)');
    const id = newId();
    const attachment: FakeMastodonMedia = {
      id,
      accountId,
      kind,
      bytes: body.file,
      description: body.description ?? null,
      pollsLeft: kind === 'video' ? (options.videoProcessingPolls ?? 1) : 0,
    };
    media.set(id, attachment);
    return reply.code(kind === 'video' ? 202 : 200).send(attachmentJson(attachment));
  });

  route('GET', '/api/v1/media/{id}', (request, reply, accountId) => {
    const attachment = media.get((request.params as { id: string }).id);
    if (!attachment || attachment.accountId !== accountId) return fail(reply, 404, 'Record not found');
    if (attachment.pollsLeft > 0) {
      attachment.pollsLeft -= 1;
      return reply.code(206).send(attachmentJson({ ...attachment, pollsLeft: 1 }));
    }
    return attachmentJson(attachment);
  });

  route('POST', '/api/v1/statuses', (request, reply, accountId) => {
    const body = request.body as {
      status?: string;
      media_ids?: unknown;
      quoted_status_id?: string;
      in_reply_to_id?: string;
      language?: string;
      visibility?: FakeMastodonVisibility;
      spoiler_text?: string;
    };
    const key = request.headers['idempotency-key'];
    const keyId = typeof key === 'string' ? `${accountId} ${key}` : null;
    const remembered = keyId ? idempotency.get(keyId) : undefined;
    if (remembered && Date.now() - remembered.at < 60 * 60_000)
      return statusJson(statuses.find((s) => s.id === remembered.statusId)!, accountId);
    const text = body.status ?? '';
    // Rails' strong parameters drop a media_ids that is not an array.
    const mediaIds: string[] = Array.isArray(body.media_ids) ? body.media_ids.map(String) : [];
    if (!text.trim() && mediaIds.length === 0)
      return fail(reply, 422, "Validation failed: Text can't be blank");
    const length = graphemeCount(text.replace(/https?:\/\/\S+/g, 'x'.repeat(23)));
    if (length > instance.maxCharacters)
      return fail(
        reply,
        422,
        `Validation failed: Text character limit of ${instance.maxCharacters} exceeded`,
      );
    const attachments = mediaIds.map((id) => media.get(id));
    if (attachments.some((m) => !m || m.accountId !== accountId))
      return fail(reply, 422, 'Validation failed: Media is invalid');
    if (attachments.some((m) => m!.pollsLeft > 0))
      return fail(
        reply,
        422,
        'Cannot attach files that have not finished processing. Try again in a moment!',
      );
    if (attachments.length > 4 || (attachments.some((m) => m!.kind === 'video') && attachments.length > 1))
      return fail(
        reply,
        422,
        'Validation failed: Cannot attach a video to a post that already contains images',
      );
    let quoteOf: string | null = null;
    // Instances before API version 7 do not know quoted_status_id and ignore it.
    if (body.quoted_status_id && instance.apiVersion >= 7) {
      const quoted = statuses.find((s) => s.id === body.quoted_status_id);
      if (!quoted) return fail(reply, 404, 'Record not found');
      if (quoted.quotePolicy !== 'public')
        return fail(reply, 422, 'Validation failed: Quote is not allowed by the author');
      quoted.quotes += 1;
      quoteOf = quoted.id;
    }
    let inReplyTo: string | null = null;
    if (body.in_reply_to_id) {
      const parent = statuses.find((s) => s.id === body.in_reply_to_id && !s.reblogOf);
      if (!parent || !visibleTo(parent, accountId)) return fail(reply, 404, 'Record not found');
      parent.replies += 1;
      inReplyTo = parent.id;
    }
    const status = store(accountId, text, {
      mediaIds,
      inReplyTo,
      quoteOf,
      language: body.language ?? null,
      visibility: body.visibility ?? 'public',
      spoilerText: body.spoiler_text ?? '',
    });
    if (keyId) idempotency.set(keyId, { statusId: status.id, at: Date.now() });
    return statusJson(status, accountId);
  });

  route('POST', '/api/v1/statuses/{id}/reblog', (request, reply, accountId) => {
    const source = statuses.find((s) => s.id === (request.params as { id: string }).id && !s.reblogOf);
    if (!source) return fail(reply, 404, 'Record not found');
    const existing = statuses.find((s) => s.reblogOf === source.id && s.accountId === accountId);
    if (existing) return statusJson(existing, accountId);
    source.reblogs += 1;
    return statusJson(store(accountId, '', { reblogOf: source.id }), accountId);
  });

  /** Undoes the account's reblog of a status; a status it never reblogged answers as it is. */
  route('POST', '/api/v1/statuses/{id}/unreblog', (request, reply, accountId) => {
    const source = statuses.find((s) => s.id === (request.params as { id: string }).id && !s.reblogOf);
    if (!source || !visibleTo(source, accountId)) return fail(reply, 404, 'Record not found');
    const index = statuses.findIndex((s) => s.reblogOf === source.id && s.accountId === accountId);
    if (index >= 0) {
      statuses.splice(index, 1);
      source.reblogs -= 1;
      deleted.push(source.id);
    }
    return statusJson(source, accountId);
  });

  /** Only the author may delete; anyone else's status, or one already gone, is "Record not found". */
  route('DELETE', '/api/v1/statuses/{id}', (request, reply, accountId) => {
    const index = statuses.findIndex(
      (s) => s.id === (request.params as { id: string }).id && s.accountId === accountId,
    );
    if (index < 0) return fail(reply, 404, 'Record not found');
    const [status] = statuses.splice(index, 1);
    deleted.push(status!.id);
    // Mastodon answers the deleted status with its source text, for "delete and redraft".
    return { ...statusJson(status!, accountId), text: status!.text };
  });

  route('GET', '/api/v2/search', (request, _reply, accountId) => {
    const query = request.query as { q: string; resolve?: string; type?: string };
    const found = statuses.filter((s) => {
      if (s.reblogOf || statusUrl(s) !== query.q || !visibleTo(s, accountId)) return false;
      // Remote statuses are fetched from their home server only with resolve=true.
      return !accounts.get(s.accountId)!.remoteDomain || query.resolve === 'true';
    });
    const wantStatuses = !query.type || query.type === 'statuses';
    return {
      accounts: [],
      statuses: wantStatuses ? found.map((s) => statusJson(s, accountId)) : [],
      hashtags: [],
    };
  });

  route(
    'GET',
    '/api/v1/accounts/{id}/statuses',
    (request, reply, viewerId) => {
      const { id } = request.params as { id: string };
      if (!accounts.has(id)) return fail(reply, 404, 'Record not found');
      const query = request.query as Record<string, string | undefined>;
      const limit = Math.min(Number(query.limit ?? 20), 40);
      // exclude_replies keeps replies to the account's own statuses (threads), as Mastodon does.
      const repliesToOthers = (s: FakeMastodonStatus) =>
        s.inReplyTo !== null && statuses.find((r) => r.id === s.inReplyTo)?.accountId !== id;
      const selected = timeline(id)
        .filter(
          (s) =>
            visibleTo(s, viewerId) &&
            !(query.exclude_reblogs === 'true' && s.reblogOf) &&
            !(query.exclude_replies === 'true' && repliesToOthers(s)) &&
            (!query.max_id || BigInt(s.id) < BigInt(query.max_id)) &&
            (!query.since_id || BigInt(s.id) > BigInt(query.since_id)),
        )
        .slice(0, limit);
      if (selected.length > 0)
        reply.header(
          'Link',
          `<${base()}/api/v1/accounts/${id}/statuses?max_id=${selected.at(-1)!.id}>; rel="next", <${base()}/api/v1/accounts/${id}/statuses?min_id=${selected[0]!.id}>; rel="prev"`,
        );
      return selected.map((s) => statusJson(s, viewerId));
    },
    { anonymous: true },
  );

  // Public statuses answer anonymous callers; a deleted one is "Record not found".
  route(
    'GET',
    '/api/v1/statuses/{id}',
    (request, reply, viewerId) => {
      const status = statuses.find((s) => s.id === (request.params as { id: string }).id);
      return status && visibleTo(status, viewerId)
        ? statusJson(status, viewerId)
        : fail(reply, 404, 'Record not found');
    },
    { anonymous: true },
  );

  function timeline(accountId: string): FakeMastodonStatus[] {
    return statuses
      .filter((s) => s.accountId === accountId)
      .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
  }

  return {
    server,
    get url() {
      return server.url;
    },
    statuses,
    deleted,
    media,
    instance,
    start: () => server.start(),
    stop: () => server.stop(),
    addAccount({ username, displayName, remoteDomain }) {
      const account = {
        id: newId(),
        username,
        displayName: displayName ?? username,
        remoteDomain: remoteDomain ?? null,
      };
      accounts.set(account.id, account);
      return account;
    },
    issueToken(accountId, scopes = ['read', 'write', 'profile']) {
      const token = randomBytes(24).toString('base64url');
      tokens.set(token, { accountId, scopes, revoked: false });
      return token;
    },
    removeStatus(id) {
      const index = statuses.findIndex((s) => s.id === id);
      if (index < 0) throw new Error(`no status ${id}`);
      statuses.splice(index, 1);
      deleted.push(id);
    },
    revokeToken(token) {
      const stored = tokens.get(token);
      if (stored) stored.revoked = true;
    },
    addStatus(
      accountId,
      text,
      { createdAt, quotePolicy, visibility, spoilerText, inReplyTo, media: files = [] } = {},
    ) {
      const mediaIds = files.map(({ bytes, kind, description }) => {
        const id = newId();
        media.set(id, { id, accountId, kind, bytes, description: description ?? null, pollsLeft: 0 });
        return id;
      });
      return store(accountId, text, {
        createdAt: createdAt ?? new Date(),
        quotePolicy: quotePolicy ?? 'public',
        visibility: visibility ?? 'public',
        spoilerText: spoilerText ?? '',
        inReplyTo: inReplyTo ?? null,
        mediaIds,
      });
    },
    statusUrl,
    timeline,
    rateLimitFault(resetAt) {
      return {
        kind: 'respond',
        status: 429,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'X-RateLimit-Limit': '300',
          'X-RateLimit-Remaining': '0',
          'X-RateLimit-Reset': resetAt.toISOString(),
        },
        body: { error: 'Too many requests' },
      };
    },
  };
}

/** Mastodon's HTML for a plain-text status: paragraphs, line breaks, shortened links, hashtags. */
function renderHtml(text: string, base: string): string {
  const escapeHtml = (value: string) =>
    value
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;');
  const inline = (line: string) =>
    line
      .split(/(https?:\/\/\S+|#[\p{L}\p{N}_]+)/u)
      .map((part) => {
        if (/^https?:\/\//.test(part)) {
          const [, scheme, rest] = part.match(/^(https?:\/\/)(.*)$/)!;
          const shown = rest!.slice(0, 30);
          const hidden = rest!.slice(30);
          return `<a href="${escapeHtml(part)}" target="_blank" rel="nofollow noopener" translate="no"><span class="invisible">${escapeHtml(scheme!)}</span><span class="${hidden ? 'ellipsis' : ''}">${escapeHtml(shown)}</span><span class="invisible">${escapeHtml(hidden)}</span></a>`;
        }
        if (part.startsWith('#'))
          return `<a href="${base}/tags/${encodeURIComponent(part.slice(1))}" class="mention hashtag" rel="tag">#<span>${escapeHtml(part.slice(1))}</span></a>`;
        return escapeHtml(part);
      })
      .join('');
  return text
    .split(/\n{2,}/)
    .map((paragraph) => `<p>${paragraph.split('\n').map(inline).join('<br />')}</p>`)
    .join('');
}
