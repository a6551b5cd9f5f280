import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Platform } from '../../src/domain/vocabulary';
import type { Capabilities } from '../../src/platforms/types';
import { createFakeBluesky } from '../fakes/bluesky';
import type { FakeServer, Fault } from '../fakes/harness';
import { createFakeMastodon } from '../fakes/mastodon';
import { createGraphFake } from '../fakes/meta/facebook-instagram';
import { graphThrottleFault } from '../fakes/meta/graph';
import { createThreadsFake } from '../fakes/meta/threads';
import { createTelegramFake, telegramTooManyRequests } from '../fakes/telegram';
import { createWebhookReceiver } from '../fakes/webhook';
import { createFakeX } from '../fakes/x';
import { type LedgerServer, startLedgerServer } from './ledger-platform';

/**
 * The platforms of the engine's crash test: each fake started, an account per channel with the
 * credentials and settings its adapter expects, and a way to find a delivery's posts on the fake.
 */

export interface FakePost {
  /** What the adapter reported as the remote id. */
  id: string;
}

export interface CrashChannel {
  credentials: Record<string, unknown>;
  settings: Record<string, unknown>;
  /** The posts carrying this text on the channel's account. */
  postsWith(text: string, deliveryId: string): FakePost[];
}

export interface CrashPlatform {
  platform: Platform;
  reconcile: Capabilities['reconcile'];
  server: FakeServer;
  /** The requests that publish (the chaos hits those). */
  publishes(request: FastifyRequest): boolean;
  /** The requests that delete (retraction faults hit those). */
  deletes(request: FastifyRequest): boolean;
  /** What the fake removed, one entry per removal: counts deletes across a whole test. */
  removed(): string[];
  /** The platform's own "too many requests" answer, with its headers, lifting `seconds` from now. */
  tooMany(seconds: number): Fault;
  /** An office's original post on another account, by its public URL (for reposts and quotes). */
  original?(n: number): string;
  channel(n: number): CrashChannel;
  /** Environment for the worker processes (API URLs, OAuth apps). */
  env: Record<string, string>;
  /** Set for a platform published through a ledger adapter rather than the built-in one. */
  ledger?: LedgerServer;
  stop(): Promise<void>;
}

const X_CLIENT_ID = 'gaung-crash-test';

export async function startCrashPlatforms(): Promise<CrashPlatform[]> {
  const x = createFakeX();
  x.registerClient(X_CLIENT_ID);
  const graph = createGraphFake();
  const threads = createThreadsFake({ pollsUntilFinished: 1 });
  const telegram = createTelegramFake();
  const mastodon = createFakeMastodon();
  const bluesky = createFakeBluesky();
  const webhook = createWebhookReceiver(randomBytes(32).toString('hex'));
  // Instagram takes media only, fetched from Gaung's public URL, which worker processes do not serve.
  const instagram = await startLedgerServer({ dedupe: false });
  await Promise.all([x, graph, threads, telegram, mastodon, bluesky, webhook].map((fake) => fake.start()));
  const post = (path: RegExp) => (request: FastifyRequest) =>
    request.method === 'POST' && path.test(request.url);
  const method = (verb: string, path: RegExp) => (request: FastifyRequest) =>
    request.method === verb && path.test(request.url);
  const soon = (seconds: number) => new Date(Date.now() + seconds * 1000);
  const withText =
    <T>(posts: T[], text: (post: T) => string | null | undefined, id: (post: T) => string) =>
    (wanted: string) =>
      posts.filter((p) => (text(p) ?? '').startsWith(wanted)).map((p) => ({ id: id(p) }));

  return [
    {
      platform: 'x',
      reconcile: 'search',
      server: x.server,
      publishes: post(/^\/2\/tweets$/),
      deletes: (request) => request.method === 'DELETE',
      removed: () => x.removals.map((r) => r.id),
      tooMany: (seconds) => x.rateLimitFault(soon(seconds), 50),
      original(n) {
        const office = x.addUser({ username: `kanim_${n}` });
        const source = x.addPost(office.id, `Kabar asli kantor ${n}`);
        return `https://x.com/${office.username}/status/${source.id}`;
      },
      env: { GAUNG_X_API_URL: x.url, GAUNG_X_UPLOAD_URL: x.url, GAUNG_X_CLIENT_ID: X_CLIENT_ID },
      channel(n) {
        const user = x.addUser({ username: `imigrasi_${n}` });
        const tokens = x.issueTokens(user.id, { clientId: X_CLIENT_ID });
        return {
          credentials: {
            accessToken: tokens.accessToken,
            refreshToken: tokens.refreshToken,
            expiresAt: tokens.expiresAt.toISOString(),
          },
          settings: { userId: user.id, username: user.username },
          postsWith: (text) =>
            withText(
              x.timeline(user.id),
              (p) => p.submittedText,
              (p) => p.id,
            )(text),
        };
      },
      stop: () => x.stop(),
    },
    {
      platform: 'facebook',
      reconcile: 'search',
      server: graph.server,
      publishes: post(/\/feed(\?|$)/),
      deletes: (request) => request.method === 'DELETE',
      removed: () => [...graph.deleted],
      tooMany: () => graphThrottleFault(32, 1),
      env: {
        GAUNG_GRAPH_API_URL: graph.url,
        GAUNG_META_APP_ID: graph.app.appId,
        GAUNG_META_APP_SECRET: graph.app.appSecret,
      },
      channel(n) {
        const page = graph.createPage(`Imigrasi ${n}`);
        return {
          credentials: { pageAccessToken: page.pageToken },
          settings: { pageId: page.pageId },
          postsWith: (text) =>
            withText(
              graph.pagePosts(page.pageId),
              (p) => p.message,
              (p) => p.id,
            )(text),
        };
      },
      stop: () => graph.stop(),
    },
    {
      platform: 'threads',
      reconcile: 'search',
      server: threads.server,
      publishes: post(/threads_publish/),
      deletes: (request) => request.method === 'DELETE',
      removed: () => [...threads.deleted],
      tooMany: () => graphThrottleFault(32, 1),
      env: { GAUNG_THREADS_API_URL: threads.url },
      channel(n) {
        const user = threads.createUser(`imigrasi_${n}`);
        return {
          credentials: { accessToken: user.token },
          settings: { userId: user.userId },
          postsWith: (text) =>
            withText(
              threads.threads(user.userId),
              (p) => p.text,
              (p) => p.id,
            )(text),
        };
      },
      stop: () => threads.stop(),
    },
    {
      platform: 'telegram',
      reconcile: 'none',
      server: telegram.server,
      publishes: post(/\/send[A-Za-z]+$/),
      deletes: post(/\/deleteMessages?$/),
      removed: () => telegram.deleted.map((m) => `${m.chatId}/${m.messageId}`),
      tooMany: (seconds) => telegramTooManyRequests(seconds),
      original(n) {
        const office = telegram.createChat({ title: `Kanim ${n}`, username: `kanim_${n}` });
        return `https://t.me/kanim_${n}/${telegram.seedMessage(office.id, `Kabar asli kantor ${n}`).messageId}`;
      },
      env: { GAUNG_TELEGRAM_API_URL: telegram.url },
      channel(n) {
        const chat = telegram.createChat({ title: `Imigrasi ${n}`, username: `imigrasi_${n}` });
        return {
          credentials: { botToken: telegram.bot.token },
          settings: { chatId: `@imigrasi_${n}` },
          postsWith: (text) =>
            withText(
              telegram.messages(chat.id),
              (m) => m.text ?? m.caption,
              (m) => String(m.messageId),
            )(text),
        };
      },
      stop: () => telegram.stop(),
    },
    {
      platform: 'mastodon',
      reconcile: 'idempotent',
      server: mastodon.server,
      publishes: post(/^\/api\/v1\/statuses$/),
      deletes: (request) =>
        method('DELETE', /^\/api\/v1\/statuses\//)(request) || post(/\/unreblog$/)(request),
      removed: () => [...mastodon.deleted],
      tooMany: (seconds) => mastodon.rateLimitFault(soon(seconds)),
      original(n) {
        const office = mastodon.addAccount({ username: `kanim_${n}` });
        return mastodon.statusUrl(mastodon.addStatus(office.id, `Kabar asli kantor ${n}`));
      },
      env: {},
      channel(n) {
        const account = mastodon.addAccount({ username: `imigrasi_${n}` });
        return {
          credentials: { accessToken: mastodon.issueToken(account.id) },
          settings: { instanceUrl: mastodon.url, accountId: account.id },
          postsWith: (text) =>
            withText(
              mastodon.timeline(account.id),
              (s) => s.text,
              (s) => s.id,
            )(text),
        };
      },
      stop: () => mastodon.stop(),
    },
    {
      platform: 'bluesky',
      reconcile: 'idempotent',
      server: bluesky.server,
      publishes: post(/com\.atproto\.repo\.createRecord/),
      deletes: post(/com\.atproto\.repo\.deleteRecord/),
      removed: () => [...bluesky.deleted],
      tooMany: (seconds) => bluesky.rateLimitFault(soon(seconds)),
      original(n) {
        const office = bluesky.addAccount({
          handle: `kanim-${n}.bsky.social`,
          appPassword: 'qrst-uvwx-yzab-cdef',
        });
        return `https://bsky.app/profile/${office.handle}/post/${bluesky.addPost(office.did, `Kabar asli kantor ${n}`).rkey}`;
      },
      env: {},
      channel(n) {
        const account = bluesky.addAccount({
          handle: `imigrasi-${n}.bsky.social`,
          appPassword: 'abcd-efgh-ijkl-mnop',
        });
        return {
          credentials: { identifier: account.handle, appPassword: 'abcd-efgh-ijkl-mnop' },
          settings: { pdsUrl: bluesky.url },
          postsWith: (text) =>
            withText(
              bluesky.postsOf(account.did),
              (r) => r.value.text as string,
              (r) => r.uri,
            )(text),
        };
      },
      stop: () => bluesky.stop(),
    },
    {
      platform: 'webhook',
      reconcile: 'idempotent',
      server: webhook.server,
      publishes: (request) => request.method === 'POST',
      deletes: (request) => String(request.headers['x-gaung-delivery'] ?? '').startsWith('retraction-'),
      // The receiver dedupes retraction messages by X-Gaung-Delivery: a repeat removes nothing.
      removed: () =>
        webhook
          .stored()
          .filter((stored) => stored.retracted)
          .map((stored) => stored.deliveryId),
      tooMany: (seconds) => ({ kind: 'respond', status: 429, headers: { 'retry-after': String(seconds) } }),
      env: {},
      channel() {
        return {
          credentials: { secret: webhook.secret },
          settings: { url: webhook.url },
          postsWith: (_text, deliveryId) =>
            webhook
              .stored()
              .filter((stored) => stored.deliveryId === deliveryId)
              .map((stored) => ({ id: stored.id })),
        };
      },
      stop: () => webhook.stop(),
    },
    {
      platform: 'instagram',
      reconcile: 'search',
      server: instagram.fake,
      ledger: instagram,
      publishes: (request) => request.method === 'POST',
      deletes: () => false,
      removed: () => [],
      tooMany: (seconds) => ({ kind: 'respond', status: 429, headers: { 'retry-after': String(seconds) } }),
      env: {},
      channel() {
        return {
          credentials: { token: instagram.token },
          settings: {},
          postsWith: (_text, deliveryId) =>
            instagram.posts.filter((p) => p.ref === deliveryId).map((p) => ({ id: p.id })),
        };
      },
      stop: () => instagram.fake.stop(),
    },
  ];
}
