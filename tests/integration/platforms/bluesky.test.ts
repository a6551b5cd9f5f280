import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blueskyAdapter, deliveryRecordKey } from '../../../src/platforms/bluesky';
import { createFakeBluesky, type FakeBluesky, type FakeBlueskyAccount } from '../../fakes/bluesky';
import { TID_PATTERN } from '../../fakes/lexicon';
import {
  createCredentialStore,
  createPlatformContext,
  mediaFromBuffer,
  publishRequest,
  testImage,
  testVideo,
} from '../../fakes/platform-context';
import { itWithFfmpeg } from '../../helpers/ffmpeg';

describe('Bluesky adapter against a fake PDS', () => {
  let fake: FakeBluesky;
  let account: FakeBlueskyAccount;
  let office: FakeBlueskyAccount;

  beforeAll(async () => {
    fake = createFakeBluesky();
    await fake.start();
    account = fake.addAccount({ handle: 'imigrasi.bsky.social', appPassword: 'abcd-efgh-ijkl-mnop' });
    office = fake.addAccount({ handle: 'kanim-pontianak.bsky.social', appPassword: 'x' });
  });
  afterAll(() => fake.stop());
  beforeEach(() => fake.server.clearFaults());

  function channel(settings: Record<string, unknown> = {}) {
    const store = createCredentialStore({ identifier: account.handle, appPassword: account.appPassword });
    const context = () =>
      createPlatformContext({ platform: 'bluesky', store, settings: { pdsUrl: fake.url, ...settings } });
    return { store, ctx: context(), context };
  }

  const createRecordCalls = {
    match: (r: { method: string; url: string }) =>
      r.method === 'POST' && r.url === '/xrpc/com.atproto.repo.createRecord',
  };
  const utf8Slice = (text: string, index: { byteStart: number; byteEnd: number }) =>
    Buffer.from(text).subarray(index.byteStart, index.byteEnd).toString();

  it('posts text under the delivery record key with facets in UTF-8 byte offsets', async () => {
    const { ctx, store } = channel({ language: 'id' });
    const request = publishRequest({
      deliveryId: randomUUID(),
      text: `Selamat 🇮🇩 untuk @kanim-pontianak.bsky.social dan @tidak-ada.example 👏 #Imigrasi https://imigrasi.go.id/berita?id=1`,
    });
    const result = await blueskyAdapter.publish(ctx, request);
    const rkey = deliveryRecordKey(request.deliveryId);
    const record = fake.postsOf(account.did).find((r) => r.rkey === rkey)!;
    expect(result).toEqual({
      remoteId: record.uri,
      url: `https://bsky.app/profile/imigrasi.bsky.social/post/${rkey}`,
    });
    const value = record.value as {
      text: string;
      langs: string[];
      facets: { index: { byteStart: number; byteEnd: number }; features: Record<string, string>[] }[];
    };
    expect(value.langs).toEqual(['id']);
    const features = value.facets.map((f) => [utf8Slice(value.text, f.index), f.features[0]]);
    expect(features).toEqual([
      ['@kanim-pontianak.bsky.social', { $type: 'app.bsky.richtext.facet#mention', did: office.did }],
      ['#Imigrasi', { $type: 'app.bsky.richtext.facet#tag', tag: 'Imigrasi' }],
      [
        'https://imigrasi.go.id/berita?id=1',
        { $type: 'app.bsky.richtext.facet#link', uri: 'https://imigrasi.go.id/berita?id=1' },
      ],
    ]);
    expect(store.current).toMatchObject({
      did: account.did,
      handle: account.handle,
      accessJwt: expect.any(String),
    });
    expect(store.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 60 * 60_000);
    expect(ctx.rateLimits.at(-1)).toMatchObject({ remaining: expect.any(Number), scope: 'channel' });
  });

  it('turns the link into a card when there is no media', async () => {
    const { ctx } = channel();
    const result = await blueskyAdapter.publish(
      ctx,
      publishRequest({
        deliveryId: randomUUID(),
        text: 'Baca selengkapnya',
        link: 'https://imigrasi.go.id/berita/42',
      }),
    );
    const record = fake.records.find((r) => r.uri === result.remoteId)!;
    expect(record.value).toMatchObject({
      text: 'Baca selengkapnya',
      embed: {
        $type: 'app.bsky.embed.external',
        external: { uri: 'https://imigrasi.go.id/berita/42', title: 'imigrasi.go.id/berita/42' },
      },
    });
  });

  it('uploads images as blobs with alt text, and refuses an image over 2 MB before uploading', async () => {
    const { ctx } = channel();
    const [png, jpeg] = await Promise.all([testImage(), testImage({ format: 'jpeg' })]);
    const result = await blueskyAdapter.publish(
      ctx,
      publishRequest({
        deliveryId: randomUUID(),
        text: 'Foto pelayanan',
        link: 'https://imigrasi.go.id/foto',
        media: [
          mediaFromBuffer(png!, { kind: 'image', mime: 'image/png', altText: 'Loket pelayanan' }),
          mediaFromBuffer(jpeg!, { kind: 'image', mime: 'image/jpeg' }),
        ],
      }),
    );
    const value = fake.records.find((r) => r.uri === result.remoteId)!.value as {
      text: string;
      embed: { $type: string; images: { alt: string; image: { ref: { $link: string } } }[] };
    };
    expect(value.text).toBe('Foto pelayanan\n\nhttps://imigrasi.go.id/foto');
    expect(value.embed.$type).toBe('app.bsky.embed.images');
    expect(value.embed.images.map((i) => i.alt)).toEqual(['Loket pelayanan', '']);
    expect(fake.blobs.get(value.embed.images[0]!.image.ref.$link)!.bytes.equals(png!)).toBe(true);

    const uploads = fake.blobs.size;
    const big = await testImage({ width: 1400, height: 1400, format: 'png' }).then((b) =>
      Buffer.concat([b, Buffer.alloc(2_000_001 - b.length)]),
    );
    const error = await blueskyAdapter
      .publish(
        ctx,
        publishRequest({
          deliveryId: randomUUID(),
          media: [mediaFromBuffer(big, { kind: 'image', mime: 'image/png' })],
        }),
      )
      .catch((e: unknown) => e);
    expect(blueskyAdapter.classifyError(error)).toMatchObject({ kind: 'invalid' });
    expect(fake.blobs.size).toBe(uploads);
  });

  itWithFfmpeg('uploads a video blob and embeds it', async () => {
    const { ctx } = channel();
    const video = await testVideo();
    const result = await blueskyAdapter.publish(
      ctx,
      publishRequest({
        deliveryId: randomUUID(),
        text: 'Video sosialisasi',
        media: [
          mediaFromBuffer(video, {
            kind: 'video',
            mime: 'video/mp4',
            altText: 'Petugas menjelaskan syarat paspor',
          }),
        ],
      }),
    );
    const embed = (
      fake.records.find((r) => r.uri === result.remoteId)!.value as { embed: Record<string, unknown> }
    ).embed;
    expect(embed).toMatchObject({
      $type: 'app.bsky.embed.video',
      alt: 'Petugas menjelaskan syarat paspor',
      video: { mimeType: 'video/mp4', size: video.length },
    });
  });

  it('reposts the office post resolved from its bsky.app URL, and finds the repost again', async () => {
    const { ctx } = channel();
    const source = fake.addPost(office.did, 'Pengumuman kantor');
    const request = publishRequest({
      deliveryId: randomUUID(),
      mode: 'repost',
      sourceUrl: `https://bsky.app/profile/${office.handle}/post/${source.rkey}`,
    });
    expect(await blueskyAdapter.findPublished(ctx, request)).toBeNull();
    const result = await blueskyAdapter.repost!(ctx, request);
    const repost = fake.postsOf(account.did, 'app.bsky.feed.repost').find((r) => r.uri === result.remoteId)!;
    expect(repost.value).toMatchObject({
      $type: 'app.bsky.feed.repost',
      subject: { uri: source.uri, cid: source.cid },
    });
    expect(result.url).toBe(`https://bsky.app/profile/${office.did}/post/${source.rkey}`);
    expect(source.counts.repostCount).toBe(1);
    expect(await blueskyAdapter.findPublished(ctx, request)).toEqual(result);
  });

  it('quotes the office post, with and without media', async () => {
    const { ctx } = channel();
    const source = fake.addPost(office.did, 'Kegiatan pagi');
    const sourceUrl = `https://bsky.app/profile/${office.did}/post/${source.rkey}`;
    const plain = await blueskyAdapter.quote!(
      ctx,
      publishRequest({ deliveryId: randomUUID(), mode: 'quote', text: 'Mantap', sourceUrl }),
    );
    expect(fake.records.find((r) => r.uri === plain.remoteId)!.value.embed).toEqual({
      $type: 'app.bsky.embed.record',
      record: { uri: source.uri, cid: source.cid },
    });
    const withImage = await blueskyAdapter.quote!(
      ctx,
      publishRequest({
        deliveryId: randomUUID(),
        mode: 'quote',
        text: 'Dengan foto',
        sourceUrl,
        media: [mediaFromBuffer(await testImage(), { kind: 'image', mime: 'image/png', altText: 'Foto' })],
      }),
    );
    expect(fake.records.find((r) => r.uri === withImage.remoteId)!.value.embed).toMatchObject({
      $type: 'app.bsky.embed.recordWithMedia',
      record: { record: { uri: source.uri, cid: source.cid } },
      media: { $type: 'app.bsky.embed.images' },
    });
    expect(source.counts.quoteCount).toBe(2);
  });

  it('treats a source post that does not exist as invalid', async () => {
    const { ctx } = channel();
    const error = await blueskyAdapter.repost!(
      ctx,
      publishRequest({
        deliveryId: randomUUID(),
        mode: 'repost',
        sourceUrl: `https://bsky.app/profile/${office.handle}/post/3kaaaaaaaaaaa`,
      }),
    ).catch((e: unknown) => e);
    expect(blueskyAdapter.classifyError(error)).toMatchObject({ kind: 'invalid' });
  });

  it('finds a post stored before the connection dropped, and a retry cannot duplicate it', async () => {
    const { ctx } = channel();
    const request = publishRequest({
      deliveryId: randomUUID(),
      text: `Sekali saja ${randomUUID()}`,
      firstAttemptAt: new Date(),
    });
    fake.server.inject({ kind: 'drop-after' }, createRecordCalls);
    const error = await blueskyAdapter.publish(ctx, request).catch((e: unknown) => e);
    expect(blueskyAdapter.classifyError(error)).toMatchObject({ kind: 'unknown' });
    const stored = fake.postsOf(account.did).filter((r) => r.value.text === request.text);
    expect(stored).toHaveLength(1);
    const found = await blueskyAdapter.findPublished(ctx, request);
    expect(found).toEqual({
      remoteId: stored[0]!.uri,
      url: `https://bsky.app/profile/${account.handle}/post/${stored[0]!.rkey}`,
    });
    expect(await blueskyAdapter.publish(ctx, request)).toEqual(found);
    expect(fake.postsOf(account.did).filter((r) => r.value.text === request.text)).toHaveLength(1);
  });

  it('finds nothing for a post that never reached the PDS', async () => {
    const { ctx } = channel();
    const request = publishRequest({ deliveryId: randomUUID(), text: `Tidak sampai ${randomUUID()}` });
    fake.server.inject({ kind: 'drop-before' }, createRecordCalls);
    await blueskyAdapter.publish(ctx, request).catch(() => undefined);
    expect(await blueskyAdapter.findPublished(ctx, request)).toBeNull();
  });

  it('maps a 429 to rate_limited until ratelimit-reset', async () => {
    const { ctx } = channel();
    const resetAt = new Date(Math.floor((Date.now() + 30 * 60_000) / 1000) * 1000);
    fake.server.inject(fake.rateLimitFault(resetAt), createRecordCalls);
    const error = await blueskyAdapter
      .publish(ctx, publishRequest({ deliveryId: randomUUID() }))
      .catch((e: unknown) => e);
    const classified = blueskyAdapter.classifyError(error);
    expect(classified).toMatchObject({ kind: 'rate_limited', httpStatus: 429 });
    expect(classified.kind === 'rate_limited' && classified.until.getTime()).toBe(resetAt.getTime());
    expect(ctx.rateLimits.at(-1)).toMatchObject({ remaining: 0, resetAt });
  });

  it('maps a 502 that left nothing stored to retry', async () => {
    const { ctx } = channel();
    fake.server.inject(
      { kind: 'respond', status: 502, body: { error: 'UpstreamFailure', message: 'Upstream Failure' } },
      createRecordCalls,
    );
    const error = await blueskyAdapter
      .publish(ctx, publishRequest({ deliveryId: randomUUID() }))
      .catch((e: unknown) => e);
    expect(blueskyAdapter.classifyError(error)).toMatchObject({ kind: 'retry', httpStatus: 502 });
  });

  it('refreshes an expired session, stores the rotated tokens, and posts', async () => {
    const { ctx, store } = channel();
    await blueskyAdapter.verifyCredentials(ctx);
    const first = structuredClone(store.current);
    fake.expireAccessTokens(account.did);
    await blueskyAdapter.publish(
      ctx,
      publishRequest({ deliveryId: randomUUID(), text: `Setelah refresh ${randomUUID()}` }),
    );
    expect(store.current.refreshJwt).not.toBe(first.refreshJwt);
    expect(store.current.accessJwt).not.toBe(first.accessJwt);
    const calls = fake.server.received.map((r) => r.url).filter((u) => u.includes('Session'));
    expect(calls.at(-1)).toBe('/xrpc/com.atproto.server.refreshSession');
  });

  it('lets a second worker use the session another worker rotated first', async () => {
    const { store, context } = channel();
    const first = context();
    await blueskyAdapter.verifyCredentials(first);
    fake.expireAccessTokens(account.did);
    const second = context();
    await blueskyAdapter.refreshCredentials!(first);
    const sessionsBefore = fake.server.received.filter(
      (r) => r.url === '/xrpc/com.atproto.server.createSession',
    ).length;
    await blueskyAdapter.refreshCredentials!(second);
    expect(second.credentials.accessJwt).toBe(store.current.accessJwt);
    expect(
      fake.server.received.filter((r) => r.url === '/xrpc/com.atproto.server.createSession').length,
    ).toBe(sessionsBefore);
  });

  it('falls back to the app password when the refresh token is revoked, and is auth when that fails too', async () => {
    const { ctx } = channel();
    await blueskyAdapter.verifyCredentials(ctx);
    fake.expireAccessTokens(account.did);
    fake.revokeRefreshTokens(account.did);
    await blueskyAdapter.publish(
      ctx,
      publishRequest({ deliveryId: randomUUID(), text: `Sesi baru ${randomUUID()}` }),
    );

    fake.expireAccessTokens(account.did);
    fake.revokeRefreshTokens(account.did);
    fake.changeAppPassword(account.did, 'changed-by-owner');
    const error = await blueskyAdapter
      .publish(ctx, publishRequest({ deliveryId: randomUUID(), text: `Gagal ${randomUUID()}` }))
      .catch((e: unknown) => e);
    expect(blueskyAdapter.classifyError(error)).toMatchObject({ kind: 'auth', httpStatus: 401 });
    fake.changeAppPassword(account.did, account.appPassword);
  });

  it('maps a post over 300 graphemes to invalid', async () => {
    const { ctx } = channel();
    const error = await blueskyAdapter
      .publish(ctx, publishRequest({ deliveryId: randomUUID(), text: '🇮🇩'.repeat(301) }))
      .catch((e: unknown) => e);
    const classified = blueskyAdapter.classifyError(error);
    expect(classified).toMatchObject({ kind: 'invalid', httpStatus: 400 });
    expect(classified.message).toContain('300 graphemes');
  });

  it('reads engagement counts', async () => {
    const { ctx } = channel();
    const result = await blueskyAdapter.publish(
      ctx,
      publishRequest({ deliveryId: randomUUID(), text: `Metrik ${randomUUID()}` }),
    );
    Object.assign(fake.records.find((r) => r.uri === result.remoteId)!.counts, {
      likeCount: 9,
      repostCount: 4,
      replyCount: 2,
    });
    expect(await blueskyAdapter.fetchMetrics!(ctx, result.remoteId)).toMatchObject({
      impressions: null,
      likes: 9,
      reposts: 4,
      replies: 2,
      quotes: 0,
    });
  });

  it('derives a valid TID record key from the delivery id alone', () => {
    const key = deliveryRecordKey('0b6d3c1e-2a4f-4c1e-9a53-7f0c9d1e2b3a');
    expect(key).toMatch(TID_PATTERN);
    expect(deliveryRecordKey('0b6d3c1e-2a4f-4c1e-9a53-7f0c9d1e2b3a')).toBe(key);
    expect(deliveryRecordKey('5f1c2d3e-0000-4c1e-9a53-7f0c9d1e2b3a')).not.toBe(key);
  });

  it('writes a retry to the same key even when the engine reports a different first-attempt time', async () => {
    const { ctx } = channel();
    const request = publishRequest({ deliveryId: randomUUID(), text: `Kunci tetap ${randomUUID()}` });
    const first = await blueskyAdapter.publish(ctx, request);
    const later = { ...request, firstAttemptAt: new Date(request.firstAttemptAt.getTime() + 1) };
    expect(await blueskyAdapter.publish(ctx, later)).toEqual(first);
    expect(await blueskyAdapter.findPublished(ctx, later)).toEqual(first);
    expect(fake.postsOf(account.did).filter((r) => r.value.text === request.text)).toHaveLength(1);
  });
});
