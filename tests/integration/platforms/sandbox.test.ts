import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channels, sandboxPosts } from '../../../src/db/schema';
import { createSandboxAdapter } from '../../../src/platforms/sandbox';
import { type PlatformAdapter, PlatformError } from '../../../src/platforms/types';
import { createSandboxTimeline } from '../../../src/services/sandbox-timeline';
import {
  createCredentialStore,
  createPlatformContext,
  mediaFromBuffer,
  publishRequest,
  retractRequest,
  testImage,
  testVideo,
} from '../../fakes/platform-context';
import { createTestContext, type TestContext } from '../../helpers/context';
import { testDrivers } from '../../helpers/db';
import { itWithFfmpeg } from '../../helpers/ffmpeg';
import { createTestUnit } from '../../helpers/org';

describe.each(testDrivers())('sandbox adapter on the %s timeline', (driver) => {
  let t: TestContext;
  let adapter: PlatformAdapter;
  let channelId: string;

  beforeAll(async () => {
    t = await createTestContext(driver);
    const unit = await createTestUnit(t.ctx, { name: 'Direktorat Jenderal Imigrasi', kind: 'national' });
    const [channel] = await t.ctx.db
      .insert(channels)
      .values({ unitId: unit.id, platform: 'sandbox', name: 'Linimasa uji', timeZone: 'Asia/Jakarta' })
      .returning({ id: channels.id });
    channelId = channel!.id;
    adapter = createSandboxAdapter(createSandboxTimeline(t.ctx.db), 'http://127.0.0.1:3000/');
  });
  afterAll(() => t.close());

  const context = () => {
    const ctx = createPlatformContext({ platform: 'sandbox', store: createCredentialStore({}) });
    return { ...ctx, channel: { ...ctx.channel, id: channelId } };
  };
  const rows = (deliveryId: string) =>
    t.ctx.db.select().from(sandboxPosts).where(eq(sandboxPosts.idempotencyKey, deliveryId));

  itWithFfmpeg('publishes text with images and a video into the timeline, media kept by id', async () => {
    const image = mediaFromBuffer(await testImage(), { kind: 'image', mime: 'image/png', altText: 'Loket' });
    const video = mediaFromBuffer(await testVideo(), { kind: 'video', mime: 'video/mp4' });
    const request = publishRequest({ deliveryId: randomUUID(), media: [image, video] });
    const result = await adapter.publish(context(), request);
    const [row] = await rows(request.deliveryId);
    expect(result).toEqual({
      remoteId: row!.id,
      url: `http://127.0.0.1:3000/sandbox/${channelId}#${row!.id}`,
    });
    expect(row).toMatchObject({
      channelId,
      kind: 'post',
      text: request.text,
      refersTo: null,
      media: [
        { mediaId: image.id, kind: 'image', mime: 'image/png', altText: 'Loket' },
        { mediaId: video.id, kind: 'video', mime: 'video/mp4', altText: '' },
      ],
    });
  });

  it('answers the same post when a delivery is published again, even concurrently', async () => {
    const request = publishRequest({ deliveryId: randomUUID() });
    const first = await adapter.publish(context(), request);
    const [again, concurrent] = await Promise.all([
      adapter.publish(context(), request),
      adapter.publish(context(), request),
    ]);
    expect(again).toEqual(first);
    expect(concurrent).toEqual(first);
    expect(await rows(request.deliveryId)).toHaveLength(1);
  });

  it('reposts and quotes the office post', async () => {
    const repost = publishRequest({
      deliveryId: randomUUID(),
      mode: 'repost',
      sourceUrl: 'https://t.me/kanim/5',
    });
    await adapter.repost!(context(), repost);
    const quote = publishRequest({
      deliveryId: randomUUID(),
      mode: 'quote',
      sourceUrl: 'https://t.me/kanim/6',
    });
    await adapter.quote!(context(), quote);
    expect((await rows(repost.deliveryId))[0]).toMatchObject({
      kind: 'repost',
      text: '',
      refersTo: 'https://t.me/kanim/5',
    });
    expect((await rows(quote.deliveryId))[0]).toMatchObject({
      kind: 'quote',
      text: quote.text,
      refersTo: 'https://t.me/kanim/6',
    });
  });

  it('refuses a repost without its source, and an empty post, as invalid', async () => {
    const repost = publishRequest({ deliveryId: randomUUID(), mode: 'repost' });
    const error = await adapter.repost!(context(), repost).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlatformError);
    expect(adapter.classifyError(error).kind).toBe('invalid');
    const empty = await adapter
      .publish(context(), publishRequest({ deliveryId: randomUUID(), text: ' ' }))
      .catch((e) => e);
    expect(adapter.classifyError(empty).kind).toBe('invalid');
    expect(await rows(repost.deliveryId)).toHaveLength(0);
  });

  it('reconciles: finds a post written before the worker stopped, and not one never written', async () => {
    const written = publishRequest({ deliveryId: randomUUID() });
    // The write committed, then the process died before recording the delivery.
    const { id } = await createSandboxTimeline(t.ctx.db).insert({
      channelId,
      idempotencyKey: written.deliveryId,
      kind: 'post',
      text: written.text,
      media: [],
      refersTo: null,
    });
    expect(await adapter.findPublished(context(), written)).toEqual({
      remoteId: id,
      url: `http://127.0.0.1:3000/sandbox/${channelId}#${id}`,
    });
    expect(await adapter.findPublished(context(), publishRequest({ deliveryId: randomUUID() }))).toBeNull();
  });

  it('retracts a copy, a repost, a quote and a reply from the timeline, and again without an error', async () => {
    const copy = publishRequest({ deliveryId: randomUUID() });
    const repost = publishRequest({
      deliveryId: randomUUID(),
      mode: 'repost',
      sourceUrl: 'https://t.me/kanim/7',
    });
    const quote = publishRequest({
      deliveryId: randomUUID(),
      mode: 'quote',
      sourceUrl: 'https://t.me/kanim/8',
    });
    const published = [
      [copy, await adapter.publish(context(), copy)],
      [repost, await adapter.repost!(context(), repost)],
      [quote, await adapter.quote!(context(), quote)],
    ] as const;
    const reply = publishRequest({
      deliveryId: randomUUID(),
      text: 'Ralat: layanan Sabtu mulai bulan depan.',
      replyTo: { remoteId: published[0][1].remoteId, url: published[0][1].url },
    });
    await adapter.publish(context(), reply);
    expect((await rows(reply.deliveryId))[0]).toMatchObject({ kind: 'reply', refersTo: published[0][1].url });
    for (const [request, result] of published) {
      expect(await adapter.retract(context(), retractRequest(request, result))).toEqual({
        outcome: 'retracted',
      });
      expect(await rows(request.deliveryId)).toHaveLength(0);
      // Already gone: still done.
      expect(await adapter.retract(context(), retractRequest(request, result))).toEqual({
        outcome: 'retracted',
      });
    }
    expect(await rows(reply.deliveryId)).toHaveLength(1);
  });

  it('classifies a database failure as worth another attempt', async () => {
    const broken = createSandboxAdapter(
      {
        insert: () => Promise.reject(new Error('connection terminated')),
        find: () => Promise.resolve(null),
        remove: () => Promise.resolve(),
      },
      'http://127.0.0.1:3000',
    );
    const error = await broken
      .publish(context(), publishRequest({ deliveryId: randomUUID() }))
      .catch((e) => e);
    expect(broken.classifyError(error)).toEqual({ kind: 'retry', message: 'connection terminated' });
  });
});
