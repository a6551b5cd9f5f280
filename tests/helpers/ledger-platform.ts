import { z } from 'zod';
import type { Platform } from '../../src/domain/vocabulary';
import { classifyHttpError, createHttpClient, header } from '../../src/platforms/http';
import {
  type Capabilities,
  type DeliveryMetrics,
  type ErrorClass,
  type PlatformAdapter,
  type PlatformContext,
  PlatformError,
  type PublishResult,
} from '../../src/platforms/types';
import { createFakeServer, type FakeServer } from '../fakes/harness';

/**
 * A minimal platform for engine tests: a fake server that keeps a timeline per channel, and an
 * adapter for it that can pose as any platform (so the engine applies that platform's quotas). Its
 * reconciliation is chosen per test: `idempotent` (the server dedupes by the delivery's key),
 * `search` (the adapter looks the key up), or `none` (it cannot tell).
 */

export interface LedgerPost {
  id: string;
  channel: string;
  /** The delivery id the adapter sent (bookkeeping for the test; only `idempotent` dedupes on it). */
  ref: string;
  text: string;
  at: number;
}

export interface LedgerServer {
  fake: FakeServer;
  posts: LedgerPost[];
  /** Posts removed by a DELETE, in order; a DELETE of a post already gone answers 404 and adds nothing. */
  deleted: LedgerPost[];
  /** Posts per delivery id. */
  countsByRef(): Map<string, number>;
  /** The token the server accepts; anything else is 401. */
  token: string;
}

export async function startLedgerServer(options: { dedupe: boolean; token?: string }): Promise<LedgerServer> {
  const fake = createFakeServer();
  const posts: LedgerPost[] = [];
  const token = options.token ?? 'ledger-token';
  let next = 1;
  fake.app.post<{ Params: { channel: string }; Body: { ref: string; text: string } }>(
    '/channels/:channel/posts',
    async (request, reply) => {
      if (request.headers.authorization !== `Bearer ${token}`)
        return reply.code(401).send({ error: 'invalid token' });
      const { ref, text } = request.body;
      if (options.dedupe) {
        const existing = posts.find((post) => post.channel === request.params.channel && post.ref === ref);
        if (existing) return { id: existing.id };
      }
      const post = { id: String(next++), channel: request.params.channel, ref, text, at: Date.now() };
      posts.push(post);
      return { id: post.id };
    },
  );
  const deleted: LedgerPost[] = [];
  fake.app.delete<{ Params: { channel: string; id: string } }>(
    '/channels/:channel/posts/:id',
    async (request, reply) => {
      if (request.headers.authorization !== `Bearer ${token}`)
        return reply.code(401).send({ error: 'invalid token' });
      const index = posts.findIndex(
        (post) => post.channel === request.params.channel && post.id === request.params.id,
      );
      if (index < 0) return reply.code(404).send({ error: 'not found' });
      deleted.push(...posts.splice(index, 1));
      return { deleted: true };
    },
  );
  fake.app.get<{ Params: { channel: string }; Querystring: { ref: string } }>(
    '/channels/:channel/posts',
    async (request) =>
      posts
        .filter((post) => post.channel === request.params.channel && post.ref === request.query.ref)
        .map((post) => ({ id: post.id })),
  );
  await fake.start();
  return {
    fake,
    posts,
    deleted,
    token,
    countsByRef() {
      const counts = new Map<string, number>();
      for (const post of posts) counts.set(post.ref, (counts.get(post.ref) ?? 0) + 1);
      return counts;
    },
  };
}

export interface LedgerAdapterOptions {
  platform: Platform;
  baseUrl: string;
  reconcile: Capabilities['reconcile'];
  timeoutMs?: number;
  /** Engagement the adapter reports for any post (omitted: the adapter has no metrics). */
  metrics?: DeliveryMetrics;
  /** Refreshes tokens: stores `{ token: 'refreshed-<n>' }` valid for an hour (omitted: tokens do not expire). */
  refreshable?: boolean;
}

export function createLedgerAdapter(options: LedgerAdapterOptions): PlatformAdapter {
  const url = (id: string, channel: string) => `${options.baseUrl}/channels/${channel}/posts/${id}`;
  const client = (signal?: AbortSignal) =>
    createHttpClient(options.baseUrl, { timeoutMs: options.timeoutMs ?? 5_000, signal });
  const publish: PlatformAdapter['publish'] = async (ctx, request): Promise<PublishResult> => {
    const response = await client(ctx.signal).post(
      `/channels/${ctx.channel.id}/posts`,
      { ref: request.deliveryId, text: request.text },
      { headers: { authorization: `Bearer ${String(ctx.credentials.token ?? '')}` } },
    );
    const id = String((response.data as { id: string }).id);
    return { remoteId: id, url: url(id, ctx.channel.id) };
  };
  return {
    platform: options.platform,
    capabilities: {
      text: true,
      images: false,
      video: false,
      repost: true,
      quote: true,
      metrics: Boolean(options.metrics),
      reconcile: options.reconcile,
      mediaByUrl: false,
      retract: 'api',
      replies: false,
    },
    credentialsSchema: z.object({ token: z.string() }),
    settingsSchema: z.object({}),
    publish,
    repost: publish,
    quote: publish,
    async findPublished(ctx, request) {
      if (options.reconcile === 'none') return 'cannot_tell';
      const response = await client(ctx.signal).get(`/channels/${ctx.channel.id}/posts`, {
        params: { ref: request.deliveryId },
        headers: { authorization: `Bearer ${String(ctx.credentials.token ?? '')}` },
      });
      const [found] = response.data as { id: string }[];
      return found ? { remoteId: found.id, url: url(found.id, ctx.channel.id) } : null;
    },
    async retract(ctx, request) {
      if (!request.remoteId) return { outcome: 'needs_person', message: 'no post id to delete' };
      try {
        await client(ctx.signal).delete(`/channels/${ctx.channel.id}/posts/${request.remoteId}`, {
          headers: { authorization: `Bearer ${String(ctx.credentials.token ?? '')}` },
        });
      } catch (error) {
        if ((error as { response?: { status?: number } }).response?.status !== 404) throw error;
      }
      return { outcome: 'retracted' };
    },
    async verifyCredentials(ctx) {
      return { remoteId: ctx.channel.id, handle: 'ledger' };
    },
    ...(options.metrics ? { fetchMetrics: async () => options.metrics! } : {}),
    ...(options.refreshable
      ? {
          async refreshCredentials(ctx: PlatformContext) {
            if (ctx.credentials.token === 'revoked')
              throw new PlatformError({ kind: 'auth', message: 'the refresh token was revoked' });
            const expiresAt = new Date(Date.now() + 3_600_000);
            await ctx.saveCredentials({ token: `refreshed-${Date.now()}` }, expiresAt);
            return { expiresAt };
          },
        }
      : {}),
    classifyError(error): ErrorClass {
      const classified = classifyHttpError(error);
      if (classified.kind !== 'rate_limited') return classified;
      // The fake answers like X: the reset as epoch seconds, and whether the app or the account is out.
      const response = (error as { response?: Parameters<typeof header>[0] }).response;
      const reset = Number(header(response, 'x-rate-limit-reset'));
      const scope = header(response, 'x-rate-limit-scope') === 'app' ? 'app' : 'channel';
      return {
        ...classified,
        scope,
        until: Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000) : classified.until,
      };
    },
  };
}
