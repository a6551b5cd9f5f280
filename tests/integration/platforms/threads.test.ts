import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createThreadsAdapter } from '../../../src/platforms/threads';
import type { ErrorClass, PlatformAdapter } from '../../../src/platforms/types';
import { createMediaHost, type MediaHost } from '../../fakes/media-host';
import { graphServerErrorFault, graphThrottleFault } from '../../fakes/meta/graph';
import { createThreadsFake, type ThreadsFake } from '../../fakes/meta/threads';
import {
  type CredentialStore,
  createCredentialStore,
  createPlatformContext,
  publishRequest,
  testImage,
  testVideo,
} from '../../fakes/platform-context';
import { itWithFfmpeg } from '../../helpers/ffmpeg';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

async function failure(adapter: PlatformAdapter, call: Promise<unknown>): Promise<ErrorClass> {
  try {
    await call;
  } catch (error) {
    return adapter.classifyError(error);
  }
  throw new Error('the call succeeded');
}

describe('Threads adapter against the fake Threads API', () => {
  const adapter = createThreadsAdapter({ pollIntervalMs: 5, maxPolls: 10, timeoutMs: 5_000 });
  let fake: ThreadsFake;
  let host: MediaHost;
  let account: { userId: string; token: string };

  beforeAll(async () => {
    fake = createThreadsFake({ pollsUntilFinished: 2 });
    await fake.start();
    host = await createMediaHost();
    account = fake.createUser('ditjen_imigrasi');
  });
  afterAll(async () => {
    await fake.stop();
    await host.stop();
  });
  beforeEach(() => fake.server.clearFaults());

  const channel = (target = account, expiresAt?: string) => {
    const store = createCredentialStore({ accessToken: target.token, ...(expiresAt ? { expiresAt } : {}) });
    return { store, ctx: contextOf(store, target) };
  };
  const contextOf = (store: CredentialStore, target = account) =>
    createPlatformContext({
      platform: 'threads',
      store,
      settings: { userId: target.userId },
      endpoints: { threads: fake.url },
    });
  const unique = (text: string) => `${text} ${randomUUID().slice(0, 8)}`;
  const image = async (hue: number, altText?: string) =>
    host.add(await testImage({ hue }), { kind: 'image', mime: 'image/png', altText });
  const video = async () => host.add(await testVideo(), { kind: 'video', mime: 'video/mp4' });
  const publishing = (target = account) => ({
    match: (r: { method: string; url: string }) =>
      r.method === 'POST' && r.url.startsWith(`/${target.userId}/threads_publish?`),
  });

  /** A thread another account (the office) posted, and its origin as a Threads source reads it. */
  const officeThread = () => {
    const office = fake.createUser(`kanim_${randomUUID().slice(0, 6)}`);
    const original = fake.postThread(office.userId, { text: 'Pos asli kantor' });
    const origin = {
      platform: 'threads' as const,
      nativeId: original.id,
      url: original.permalink,
      authorHandle: null,
      publishedAt: new Date(original.createdAt).toISOString(),
    };
    return { original, origin };
  };

  it('publishes a text post with the link as a link attachment', async () => {
    const text = unique('Layanan paspor buka Sabtu.');
    const result = await adapter.publish(
      channel().ctx,
      publishRequest({ deliveryId: randomUUID(), text, link: 'https://imigrasi.go.id/c' }),
    );
    const thread = fake.threads(account.userId).at(-1)!;
    expect(result).toEqual({ remoteId: thread.id, url: thread.permalink });
    expect(thread).toMatchObject({
      mediaType: 'TEXT_POST',
      text,
      linkAttachment: 'https://imigrasi.go.id/c',
    });
  });

  it('publishes an image with its alt text', async () => {
    const text = unique('Foto layanan.');
    const result = await adapter.publish(
      channel().ctx,
      publishRequest({
        deliveryId: randomUUID(),
        text,
        media: [await image(30, 'Petugas melayani pemohon')],
      }),
    );
    expect(fake.threads(account.userId).at(-1)).toMatchObject({
      id: result.remoteId,
      mediaType: 'IMAGE',
      text,
      altTexts: ['Petugas melayani pemohon'],
    });
  });

  itWithFfmpeg('publishes a video', async () => {
    const result = await adapter.publish(
      channel().ctx,
      publishRequest({ deliveryId: randomUUID(), text: unique('Video.'), media: [await video()] }),
    );
    expect(fake.threads(account.userId).at(-1)).toMatchObject({ id: result.remoteId, mediaType: 'VIDEO' });
  });

  itWithFfmpeg('publishes a carousel of images and a video, with the link in the text', async () => {
    const text = unique('Carousel.');
    const result = await adapter.publish(
      channel().ctx,
      publishRequest({
        deliveryId: randomUUID(),
        text,
        link: 'https://imigrasi.go.id/d',
        media: [await image(50), await image(70), await video()],
      }),
    );
    expect(fake.threads(account.userId).at(-1)).toMatchObject({
      id: result.remoteId,
      mediaType: 'CAROUSEL_ALBUM',
      children: 3,
      text: `${text}\n\nhttps://imigrasi.go.id/d`,
      linkAttachment: null,
    });
  });

  it('classifies text over 500 characters as invalid (the platform refuses it)', async () => {
    const classification = await failure(
      adapter,
      adapter.publish(channel().ctx, publishRequest({ deliveryId: randomUUID(), text: 'a'.repeat(501) })),
    );
    expect(classification).toMatchObject({ kind: 'invalid', httpStatus: 400 });
    expect(classification.message).toContain('500 characters');
  });

  it('refuses more than 20 media as invalid before calling Threads', async () => {
    const before = fake.server.received.length;
    const media = await Promise.all(Array.from({ length: 21 }, (_, i) => image(i * 10)));
    const classification = await failure(
      adapter,
      adapter.publish(channel().ctx, publishRequest({ deliveryId: randomUUID(), media })),
    );
    expect(classification.kind).toBe('invalid');
    expect(fake.server.received.length).toBe(before);
  });

  it('reads throttling (code 613) with the usage headers', async () => {
    fake.server.inject(graphThrottleFault(613, 3), publishing());
    const before = Date.now();
    const classification = await failure(
      adapter,
      adapter.publish(channel().ctx, publishRequest({ deliveryId: randomUUID(), text: unique('Dibatasi.') })),
    );
    expect(classification).toMatchObject({ kind: 'rate_limited', scope: 'channel' });
    const until = (classification as { until: Date }).until.getTime();
    expect(until).toBeGreaterThanOrEqual(before + 3 * MINUTE);
    expect(until).toBeLessThanOrEqual(Date.now() + 3 * MINUTE);
  });

  it('waits for the 24-hour window when the 250-post quota is used', async () => {
    const busy = fake.createUser('kanim_sibuk');
    const oldest = Math.floor((Date.now() - 20 * HOUR) / 1000) * 1000;
    for (let i = 0; i < 250; i++)
      fake.seedThread(busy.userId, { text: `lama ${i}`, createdAt: oldest + i * 1000 });
    const classification = await failure(
      adapter,
      adapter.publish(
        channel(busy).ctx,
        publishRequest({ deliveryId: randomUUID(), text: unique('Kuota.') }),
      ),
    );
    expect(classification).toMatchObject({ kind: 'rate_limited', scope: 'channel' });
    expect((classification as { until: Date }).until.getTime()).toBe(oldest + DAY);
  });

  it('retries after a server error', async () => {
    fake.server.inject(graphServerErrorFault, publishing());
    const classification = await failure(
      adapter,
      adapter.publish(channel().ctx, publishRequest({ deliveryId: randomUUID(), text: unique('Galat.') })),
    );
    expect(classification).toMatchObject({ kind: 'retry', httpStatus: 500 });
  });

  it('refreshes the long-lived token and stores it with its expiry', async () => {
    const user = fake.createUser('kanim_segar');
    const { store, ctx } = channel(user, new Date(Date.now() + 5 * DAY).toISOString());
    const { expiresAt } = await adapter.refreshCredentials!(ctx);
    expect(expiresAt!.getTime()).toBeGreaterThan(Date.now() + 59 * DAY);
    expect(store.version).toBe(2);
    expect(store.expiresAt).toEqual(expiresAt);
    expect(store.current).toEqual({ accessToken: expect.any(String), expiresAt: expiresAt!.toISOString() });
    expect(store.current.accessToken).not.toBe(user.token);
    expect(fake.tokenValid(user.token)).toBe(false);
    // The next attempt reads the stored credentials and publishes with the new token.
    const result = await adapter.publish(
      contextOf(store, user),
      publishRequest({ deliveryId: randomUUID(), text: unique('Token baru.') }),
    );
    expect(fake.threads(user.userId).at(-1)!.id).toBe(result.remoteId);
  });

  it('keeps the token another process stored first, and reports its expiry', async () => {
    const user = fake.createUser('kanim_balapan');
    const { store, ctx } = channel(user);
    const theirs = {
      accessToken: 'rotated-elsewhere',
      expiresAt: new Date(Date.now() + 60 * DAY).toISOString(),
    };
    store.current = theirs;
    store.version += 1;
    const { expiresAt } = await adapter.refreshCredentials!(ctx);
    expect(expiresAt?.toISOString()).toBe(theirs.expiresAt);
    expect(store.current).toEqual(theirs);
  });

  it('asks for re-authorisation when the token expired (it can no longer be refreshed)', async () => {
    const user = fake.createUser('kanim_lupa');
    fake.expireToken(user.token);
    const { ctx } = channel(user);
    const publishing = await failure(
      adapter,
      adapter.publish(ctx, publishRequest({ deliveryId: randomUUID() })),
    );
    expect(publishing).toMatchObject({ kind: 'auth' });
    const refreshing = await failure(adapter, adapter.refreshCredentials!(ctx));
    expect(refreshing).toMatchObject({ kind: 'auth' });
  });

  it('finds the thread published before the connection dropped', async () => {
    const request = publishRequest({ deliveryId: randomUUID(), text: unique('Putus sesudah terbit.') });
    fake.server.inject({ kind: 'drop-after' }, publishing());
    expect((await failure(adapter, adapter.publish(channel().ctx, request))).kind).toBe('unknown');
    const stored = fake.threads(account.userId).at(-1)!;
    expect(stored.text).toBe(request.text);
    expect(await adapter.findPublished(channel().ctx, request)).toEqual({
      remoteId: stored.id,
      url: stored.permalink,
    });
  });

  it('finds nothing when threads_publish never arrived', async () => {
    const request = publishRequest({ deliveryId: randomUUID(), text: unique('Tidak pernah terbit.') });
    fake.server.inject({ kind: 'drop-before' }, publishing());
    expect((await failure(adapter, adapter.publish(channel().ctx, request))).kind).toBe('unknown');
    expect(await adapter.findPublished(channel().ctx, request)).toBeNull();
  });

  it('reposts the office thread by the media id its source read, and finds the repost after a dropped answer', async () => {
    const { original, origin } = officeThread();
    const request = publishRequest({
      deliveryId: randomUUID(),
      mode: 'repost',
      sourceUrl: original.permalink,
      origin,
    });
    const reposting = {
      match: (r: { method: string; url: string }) =>
        r.method === 'POST' && r.url.startsWith(`/${original.id}/repost`),
    };
    fake.server.inject({ kind: 'drop-after' }, reposting);
    expect((await failure(adapter, adapter.repost!(channel().ctx, request))).kind).toBe('unknown');
    const facades = () =>
      fake
        .threads(account.userId)
        .filter((t) => t.mediaType === 'REPOST_FACADE' && t.repostedPost === original.id);
    expect(facades()).toHaveLength(1);
    expect(await adapter.findPublished(channel().ctx, request)).toEqual({
      remoteId: facades()[0]!.id,
      url: original.permalink,
    });

    // Without a Threads origin (a pasted permalink) there is no media id to repost: nothing is sent.
    const before = fake.server.received.length;
    const pasted = publishRequest({
      deliveryId: randomUUID(),
      mode: 'repost',
      sourceUrl: original.permalink,
    });
    expect((await failure(adapter, adapter.repost!(channel().ctx, pasted))).kind).toBe('invalid');
    expect(fake.server.received.length).toBe(before);
    // A thread that does not exist is refused by Threads.
    const gone = publishRequest({
      deliveryId: randomUUID(),
      mode: 'repost',
      origin: { ...origin, nativeId: '17900000000000999' },
    });
    expect((await failure(adapter, adapter.repost!(channel().ctx, gone))).kind).toBe('invalid');
    expect(facades()).toHaveLength(1);
  });

  it('quotes the office thread by the media id its source read, with our text and image, and finds the quote after a dropped answer', async () => {
    const { original, origin } = officeThread();
    const text = unique('Simak layanan kantor kami.');
    const request = publishRequest({
      deliveryId: randomUUID(),
      mode: 'quote',
      text,
      sourceUrl: original.permalink,
      origin,
      media: [await image(90, 'Loket paspor')],
    });
    const result = await adapter.quote!(channel().ctx, request);
    const quote = fake.threads(account.userId).at(-1)!;
    expect(quote).toMatchObject({
      id: result.remoteId,
      mediaType: 'IMAGE',
      text,
      quotedPost: original.id,
      altTexts: ['Loket paspor'],
    });
    expect(result.url).toBe(quote.permalink);
    // The quote rides on the top container only, as quote_post_id.
    const quoting = fake.server.received.filter(
      (r) =>
        r.method === 'POST' &&
        r.url.startsWith(`/${account.userId}/threads?`) &&
        (r.body as Record<string, unknown>).quote_post_id !== undefined,
    );
    expect(quoting.map((r) => (r.body as Record<string, unknown>).quote_post_id)).toEqual([original.id]);

    // The answer to threads_publish is lost: the quote is found by its text and the thread it quotes.
    const again = publishRequest({
      ...request,
      deliveryId: randomUUID(),
      text: unique('Kutipan kedua.'),
      media: [],
    });
    fake.server.inject({ kind: 'drop-after' }, publishing());
    expect((await failure(adapter, adapter.quote!(channel().ctx, again))).kind).toBe('unknown');
    const second = fake.threads(account.userId).at(-1)!;
    expect(second).toMatchObject({ mediaType: 'TEXT_POST', text: again.text, quotedPost: original.id });
    expect(await adapter.findPublished(channel().ctx, again)).toEqual({
      remoteId: second.id,
      url: second.permalink,
    });
    // A copy with the same text is not taken for the quote.
    const copy = publishRequest({ deliveryId: randomUUID(), text: again.text });
    await adapter.publish(channel().ctx, copy);
    expect(await adapter.findPublished(channel().ctx, again)).toMatchObject({ remoteId: second.id });

    // Without a Threads origin there is no media id to quote: nothing is sent.
    const before = fake.server.received.length;
    const pasted = publishRequest({
      deliveryId: randomUUID(),
      mode: 'quote',
      text,
      sourceUrl: original.permalink,
    });
    expect((await failure(adapter, adapter.quote!(channel().ctx, pasted))).kind).toBe('invalid');
    expect(fake.server.received.length).toBe(before);
    // Threads refuses to quote a thread it does not know, or one deleted since.
    const unknown = publishRequest({
      deliveryId: randomUUID(),
      mode: 'quote',
      text: unique('Kutipan.'),
      origin: { ...origin, nativeId: '17900000000000999' },
    });
    expect((await failure(adapter, adapter.quote!(channel().ctx, unknown))).kind).toBe('invalid');
    fake.deleteThread(original.id);
    const deleted = publishRequest({ ...unknown, deliveryId: randomUUID(), origin });
    expect((await failure(adapter, adapter.quote!(channel().ctx, deleted))).kind).toBe('invalid');
    expect(fake.threads(account.userId).filter((t) => t.quotedPost === original.id)).toHaveLength(2);
  });

  it('reads insights as metrics', async () => {
    const result = await adapter.publish(
      channel().ctx,
      publishRequest({ deliveryId: randomUUID(), text: unique('M') }),
    );
    fake.setEngagement(result.remoteId, {
      views: 500,
      likes: 40,
      replies: 6,
      reposts: 5,
      quotes: 2,
      shares: 1,
    });
    expect(await adapter.fetchMetrics!(channel().ctx, result.remoteId)).toMatchObject({
      impressions: 500,
      likes: 40,
      replies: 6,
      reposts: 5,
      quotes: 2,
      clicks: null,
    });
  });

  it('verifies that the token is the configured user', async () => {
    expect(await adapter.verifyCredentials(channel().ctx)).toMatchObject({
      remoteId: account.userId,
      handle: '@ditjen_imigrasi',
    });
    const other = fake.createUser('akun_lain');
    const ctx = createPlatformContext({
      platform: 'threads',
      store: createCredentialStore({ accessToken: other.token }),
      settings: { userId: account.userId },
      endpoints: { threads: fake.url },
    });
    expect((await failure(adapter, adapter.verifyCredentials(ctx))).kind).toBe('auth');
  });
});
