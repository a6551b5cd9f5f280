import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Platform } from '../../src/domain/vocabulary';
import type { Capabilities } from '../../src/platforms/types';
import { createFakeBluesky } from '../fakes/bluesky';
import type { FakeServer } from '../fakes/harness';
import { createFakeMastodon } from '../fakes/mastodon';
import { createGraphFake, createThreadsFake } from '../fakes/meta';
import { createTelegramFake } from '../fakes/telegram';
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
