import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mastodonAdapter, readMastodonInstance } from '../../../src/platforms/mastodon';
import { createFakeMastodon, type FakeMastodon, type FakeMastodonAccount } from '../../fakes/mastodon';
import {
  createCredentialStore,
  createPlatformContext,
  mediaFromBuffer,
  publishRequest,
  retractRequest,
  testImage,
  testVideo,
} from '../../fakes/platform-context';
import { itWithFfmpeg } from '../../helpers/ffmpeg';

describe('Mastodon adapter against a fake instance', () => {
  let fake: FakeMastodon;
  let oldInstance: FakeMastodon;
  let account: FakeMastodonAccount;
  let office: FakeMastodonAccount;

  beforeAll(async () => {
    fake = createFakeMastodon({ videoProcessingPolls: 2 });
    oldInstance = createFakeMastodon({ apiVersion: 6 });
    await Promise.all([fake.start(), oldInstance.start()]);
    account = fake.addAccount({ username: 'imigrasi', displayName: 'Ditjen Imigrasi' });
    office = fake.addAccount({ username: 'kanim_pontianak', remoteDomain: 'mastodon.kalbar.example' });
  });
  afterAll(async () => {
    await Promise.all([fake.stop(), oldInstance.stop()]);
  });
  beforeEach(() => fake.server.clearFaults());

  function channel(
    options: { instance?: FakeMastodon; settings?: Record<string, unknown>; token?: string } = {},
  ) {
    const instance = options.instance ?? fake;
    const owner = instance === fake ? account : instance.addAccount({ username: 'imigrasi' });
    const token = options.token ?? instance.issueToken(owner.id);
    const store = createCredentialStore({ accessToken: token });
    return {
      token,
      ctx: createPlatformContext({
        platform: 'mastodon',
        store,
        settings: { instanceUrl: instance.url, accountId: owner.id, ...options.settings },
      }),
    };
  }

  const statusPosts = {
    match: (r: { method: string; url: string }) => r.method === 'POST' && r.url === '/api/v1/statuses',
  };

  it('publishes a status with an Idempotency-Key from the delivery id', async () => {
    const { ctx } = channel({ settings: { language: 'id' } });
    const deliveryId = randomUUID();
    const text = `Layanan paspor Sabtu #Imigrasi ${randomUUID().slice(0, 8)}`;
    const result = await mastodonAdapter.publish(
      ctx,
      publishRequest({ deliveryId, text, link: 'https://imigrasi.go.id/x' }),
    );
    const status = fake.timeline(account.id)[0]!;
    expect(result).toEqual({ remoteId: status.id, url: fake.statusUrl(status) });
    expect(status.text).toBe(`${text}\n\nhttps://imigrasi.go.id/x`);
    expect(status.language).toBe('id');
    const sent = fake.server.received.filter((r) => r.url === '/api/v1/statuses').at(-1)!;
    expect(sent.headers['idempotency-key']).toBe(deliveryId);
    expect(ctx.rateLimits.at(-1)).toMatchObject({ remaining: expect.any(Number), scope: 'channel' });
  });

  it('uploads images with descriptions', async () => {
    const { ctx } = channel();
    const [png, jpeg] = await Promise.all([testImage(), testImage({ format: 'jpeg' })]);
    const result = await mastodonAdapter.publish(
      ctx,
      publishRequest({
        deliveryId: randomUUID(),
        text: `Foto ${randomUUID()}`,
        media: [
          mediaFromBuffer(png!, { kind: 'image', mime: 'image/png', altText: 'Petugas melayani pemohon' }),
          mediaFromBuffer(jpeg!, { kind: 'image', mime: 'image/jpeg' }),
        ],
      }),
    );
    const status = fake.statuses.find((s) => s.id === result.remoteId)!;
    const [first, second] = status.mediaIds.map((id) => fake.media.get(id)!);
    expect(first!.bytes.equals(png!)).toBe(true);
    expect(first!.description).toBe('Petugas melayani pemohon');
    expect(second!.description).toBeNull();
  });

  itWithFfmpeg('uploads a video and polls until the instance has processed it', async () => {
    const { ctx } = channel();
    const video = await testVideo();
    const result = await mastodonAdapter.publish(
      ctx,
      publishRequest({
        deliveryId: randomUUID(),
        text: `Video ${randomUUID()}`,
        media: [mediaFromBuffer(video, { kind: 'video', mime: 'video/mp4' })],
      }),
    );
    const attachment = fake.media.get(fake.statuses.find((s) => s.id === result.remoteId)!.mediaIds[0]!)!;
    expect(attachment.kind).toBe('video');
    expect(attachment.bytes.equals(video)).toBe(true);
    const polls = fake.server.received.filter((r) => r.url === `/api/v1/media/${attachment.id}`);
    expect(polls.length).toBe(3);
  });

  it('does not duplicate a status when a dropped attempt is retried with the same delivery id', async () => {
    const { ctx } = channel();
    const request = publishRequest({ deliveryId: randomUUID(), text: `Sekali saja ${randomUUID()}` });
    fake.server.inject({ kind: 'drop-after' }, statusPosts);
    const error = await mastodonAdapter.publish(ctx, request).catch((e: unknown) => e);
    expect(mastodonAdapter.classifyError(error)).toMatchObject({ kind: 'unknown' });
    const retried = await mastodonAdapter.publish(ctx, request);
    const matching = fake.statuses.filter((s) => s.text === request.text);
    expect(matching).toHaveLength(1);
    expect(retried.remoteId).toBe(matching[0]!.id);
  });

  it('finds a status stored before the connection dropped by reading the account timeline', async () => {
    const { ctx } = channel();
    const request = publishRequest({
      deliveryId: randomUUID(),
      text: `Razia <orang asing> & #pengawasan ${randomUUID().slice(0, 8)}\n📍 Kanim Pontianak https://mastodon.kalbar.example/@kanim_pontianak/123456789012345678`,
      link: 'https://imigrasi.go.id/berita/2024/10/sangat-panjang-sekali-judulnya',
    });
    fake.server.inject({ kind: 'drop-after' }, statusPosts);
    await mastodonAdapter.publish(ctx, request).catch(() => undefined);
    // Later statuses push it down the timeline; reconciliation pages back to it.
    for (let i = 0; i < 45; i++) fake.addStatus(account.id, `Status lain ${i} ${randomUUID()}`);
    const stored = fake.statuses.find((s) => s.text.startsWith(request.text))!;
    expect(await mastodonAdapter.findPublished(ctx, request)).toEqual({
      remoteId: stored.id,
      url: fake.statusUrl(stored),
    });
  });

  it('finds nothing when the status never reached the instance', async () => {
    const { ctx } = channel();
    const text = `Tidak pernah terkirim ${randomUUID()}`;
    fake.addStatus(account.id, text, { createdAt: new Date(Date.now() - 3 * 60 * 60_000) });
    const request = publishRequest({ deliveryId: randomUUID(), text });
    fake.server.inject({ kind: 'drop-before' }, statusPosts);
    await mastodonAdapter.publish(ctx, request).catch(() => undefined);
    expect(await mastodonAdapter.findPublished(ctx, request)).toBeNull();
  });

  it('reblogs a remote office status after resolving it, once', async () => {
    const { ctx } = channel();
    const source = fake.addStatus(office.id, `Pengumuman ${randomUUID()}`);
    const request = publishRequest({
      deliveryId: randomUUID(),
      mode: 'repost',
      sourceUrl: fake.statusUrl(source),
    });
    expect(request.sourceUrl).toMatch(/^https:\/\/mastodon\.kalbar\.example\/@kanim_pontianak\//);
    expect(await mastodonAdapter.findPublished(ctx, request)).toBeNull();
    const first = await mastodonAdapter.repost!(ctx, request);
    const again = await mastodonAdapter.repost!(ctx, request);
    expect(again.remoteId).toBe(first.remoteId);
    expect(first.url).toBe(fake.statusUrl(source));
    expect(source.reblogs).toBe(1);
    const search = fake.server.received.find((r) => r.url.startsWith('/api/v2/search'))!;
    expect(new URL(search.url, fake.url).searchParams.get('resolve')).toBe('true');
    expect(await mastodonAdapter.findPublished(ctx, request)).toEqual(first);
  });

  it('quotes on an instance that supports quotes, and reconciles through the RE: fallback', async () => {
    const { ctx } = channel();
    const source = fake.addStatus(office.id, `Apel pagi ${randomUUID()}`);
    const request = publishRequest({
      deliveryId: randomUUID(),
      mode: 'quote',
      text: `Terima kasih Kanim Pontianak ${randomUUID()}`,
      sourceUrl: fake.statusUrl(source),
    });
    const result = await mastodonAdapter.quote!(ctx, request);
    expect(fake.statuses.find((s) => s.id === result.remoteId)!.quoteOf).toBe(source.id);
    expect(await mastodonAdapter.findPublished(ctx, request)).toEqual(result);
  });

  it('refuses to quote where the instance is too old, before posting anything', async () => {
    const { ctx } = channel({ instance: oldInstance });
    const source = oldInstance.addStatus(oldInstance.addAccount({ username: 'kanim' }).id, 'Sumber');
    const error = await mastodonAdapter.quote!(
      ctx,
      publishRequest({
        deliveryId: randomUUID(),
        mode: 'quote',
        text: 'Kutip',
        sourceUrl: oldInstance.statusUrl(source),
      }),
    ).catch((e: unknown) => e);
    const classified = mastodonAdapter.classifyError(error);
    expect(classified).toMatchObject({ kind: 'invalid' });
    expect(classified.message).toMatch(/4\.5/);
    expect(oldInstance.server.received.some((r) => r.url === '/api/v1/statuses')).toBe(false);
  });

  it('classifies a quote the author does not allow as invalid', async () => {
    const { ctx } = channel({ settings: { apiVersion: 7 } });
    const source = fake.addStatus(office.id, `Tertutup ${randomUUID()}`, { quotePolicy: 'nobody' });
    const error = await mastodonAdapter.quote!(
      ctx,
      publishRequest({
        deliveryId: randomUUID(),
        mode: 'quote',
        text: 'Kutip',
        sourceUrl: fake.statusUrl(source),
      }),
    ).catch((e: unknown) => e);
    expect(mastodonAdapter.classifyError(error)).toMatchObject({ kind: 'invalid', httpStatus: 422 });
  });

  describe('retraction', () => {
    const deletes = {
      match: (r: { method: string; url: string }) =>
        r.method === 'DELETE' && r.url.startsWith('/api/v1/statuses/'),
    };
    const published = async (ctx: ReturnType<typeof channel>['ctx']) => {
      const request = publishRequest({ deliveryId: randomUUID(), text: `Salah jadwal ${randomUUID()}` });
      return { request, result: await mastodonAdapter.publish(ctx, request) };
    };

    it('deletes a copy and a quote, undoes a reblog, and leaves a correction reply standing', async () => {
      const { ctx } = channel();
      const copy = await published(ctx);
      const reply = publishRequest({
        deliveryId: randomUUID(),
        text: `Ralat: Sabtu mulai bulan depan ${randomUUID()}`,
        replyTo: { remoteId: copy.result.remoteId, url: copy.result.url },
      });
      const correction = await mastodonAdapter.publish(ctx, reply);
      expect(fake.statuses.find((s) => s.id === correction.remoteId)!.inReplyTo).toBe(copy.result.remoteId);
      const source = fake.addStatus(office.id, `Sumber ${randomUUID()}`);
      const repost = publishRequest({
        deliveryId: randomUUID(),
        mode: 'repost',
        sourceUrl: fake.statusUrl(source),
      });
      const reblog = await mastodonAdapter.repost!(ctx, repost);
      const quote = publishRequest({
        deliveryId: randomUUID(),
        mode: 'quote',
        text: `Kutip ${randomUUID()}`,
        sourceUrl: fake.statusUrl(source),
      });
      const quoted = await mastodonAdapter.quote!(ctx, quote);
      for (const [request, result] of [
        [copy.request, copy.result],
        [repost, reblog],
        [quote, quoted],
      ] as const)
        expect(await mastodonAdapter.retract(ctx, retractRequest(request, result))).toEqual({
          outcome: 'retracted',
        });
      const remaining = new Set(fake.statuses.map((s) => s.id));
      expect(remaining.has(copy.result.remoteId)).toBe(false);
      expect(remaining.has(reblog.remoteId)).toBe(false);
      expect(remaining.has(quoted.remoteId)).toBe(false);
      expect(remaining.has(correction.remoteId)).toBe(true);
      expect(remaining.has(source.id)).toBe(true);
      expect(source.reblogs).toBe(0);
    });

    it('counts a status that is already gone (404) as retracted', async () => {
      const { ctx } = channel();
      const { request, result } = await published(ctx);
      await mastodonAdapter.retract(ctx, retractRequest(request, result));
      expect(await mastodonAdapter.retract(ctx, retractRequest(request, result))).toEqual({
        outcome: 'retracted',
      });
      expect(fake.deleted.filter((id) => id === result.remoteId)).toHaveLength(1);
    });

    it('maps a 429 to rate_limited and a 500 to retry, deleting nothing', async () => {
      const { ctx } = channel();
      const { request, result } = await published(ctx);
      fake.server.inject(fake.rateLimitFault(new Date(Date.now() + 60_000)), deletes);
      const limited = await mastodonAdapter
        .retract(ctx, retractRequest(request, result))
        .catch((e: unknown) => e);
      expect(mastodonAdapter.classifyError(limited)).toMatchObject({ kind: 'rate_limited', httpStatus: 429 });
      fake.server.inject({ kind: 'respond', status: 500, body: { error: 'Internal Server Error' } }, deletes);
      const broken = await mastodonAdapter
        .retract(ctx, retractRequest(request, result))
        .catch((e: unknown) => e);
      expect(mastodonAdapter.classifyError(broken)).toMatchObject({ kind: 'retry', httpStatus: 500 });
      expect(fake.statuses.some((s) => s.id === result.remoteId)).toBe(true);
    });

    it('sends a delete again after the connection dropped once it happened: not found, so retracted', async () => {
      const { ctx } = channel();
      const { request, result } = await published(ctx);
      fake.server.inject({ kind: 'drop-after' }, deletes);
      const dropped = await mastodonAdapter
        .retract(ctx, retractRequest(request, result))
        .catch((e: unknown) => e);
      expect(mastodonAdapter.classifyError(dropped).kind).toBe('unknown');
      expect(await mastodonAdapter.retract(ctx, retractRequest(request, result))).toEqual({
        outcome: 'retracted',
      });
      expect(fake.deleted.filter((id) => id === result.remoteId)).toHaveLength(1);
    });
  });

  it('maps a 429 to rate_limited until X-RateLimit-Reset', async () => {
    const { ctx } = channel();
    const resetAt = new Date(Date.now() + 4 * 60_000);
    fake.server.inject(fake.rateLimitFault(resetAt), statusPosts);
    const error = await mastodonAdapter
      .publish(ctx, publishRequest({ deliveryId: randomUUID() }))
      .catch((e: unknown) => e);
    const classified = mastodonAdapter.classifyError(error);
    expect(classified).toMatchObject({ kind: 'rate_limited', httpStatus: 429 });
    expect(classified.kind === 'rate_limited' && classified.until.toISOString()).toBe(resetAt.toISOString());
    expect(ctx.rateLimits.at(-1)).toMatchObject({ remaining: 0, resetAt });
  });

  it('maps a 503 to retry', async () => {
    const { ctx } = channel();
    fake.server.inject({ kind: 'respond', status: 503, body: { error: 'Service Unavailable' } }, statusPosts);
    const error = await mastodonAdapter
      .publish(ctx, publishRequest({ deliveryId: randomUUID() }))
      .catch((e: unknown) => e);
    expect(mastodonAdapter.classifyError(error)).toMatchObject({ kind: 'retry', httpStatus: 503 });
  });

  it('maps a revoked token to auth (Mastodon tokens cannot be refreshed)', async () => {
    const { ctx, token } = channel();
    fake.revokeToken(token);
    expect(mastodonAdapter.refreshCredentials).toBeUndefined();
    const error = await mastodonAdapter
      .publish(ctx, publishRequest({ deliveryId: randomUUID() }))
      .catch((e: unknown) => e);
    expect(mastodonAdapter.classifyError(error)).toMatchObject({ kind: 'auth', httpStatus: 401 });
  });

  it('maps text over the instance limit to invalid with the instance message', async () => {
    const { ctx } = channel();
    const error = await mastodonAdapter
      .publish(ctx, publishRequest({ deliveryId: randomUUID(), text: 'kata '.repeat(120) }))
      .catch((e: unknown) => e);
    const classified = mastodonAdapter.classifyError(error);
    expect(classified).toMatchObject({ kind: 'invalid', httpStatus: 422 });
    expect(classified.message).toContain('character limit of 500');
  });

  it('reads the instance limits for the channel settings', async () => {
    const limits = await readMastodonInstance(fake.url, { reach: 'any' });
    expect(limits).toEqual({
      maxCharacters: 500,
      charactersReservedPerUrl: 23,
      maxMediaAttachments: 4,
      apiVersion: 7,
    });
    expect(mastodonAdapter.settingsSchema.parse({ instanceUrl: fake.url, ...limits })).toMatchObject(limits);
    expect((await readMastodonInstance(oldInstance.url, { reach: 'any' })).apiVersion).toBe(6);
  });

  it('verifies credentials and reads metrics', async () => {
    const { ctx } = channel();
    expect(await mastodonAdapter.verifyCredentials(ctx)).toEqual({
      remoteId: account.id,
      handle: `@imigrasi@${new URL(fake.url).host}`,
      name: 'Ditjen Imigrasi',
    });
    const result = await mastodonAdapter.publish(
      ctx,
      publishRequest({ deliveryId: randomUUID(), text: `Metrik ${randomUUID()}` }),
    );
    Object.assign(fake.statuses.find((s) => s.id === result.remoteId)!, {
      favourites: 5,
      reblogs: 2,
      replies: 1,
    });
    expect(await mastodonAdapter.fetchMetrics!(ctx, result.remoteId)).toMatchObject({
      impressions: null,
      likes: 5,
      reposts: 2,
      replies: 1,
      quotes: 0,
    });
  });
});
