import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorClass, PlatformAdapter } from '../../../src/platforms/types';
import { createWebhookAdapter } from '../../../src/platforms/webhook';
import {
  createCredentialStore,
  createPlatformContext,
  mediaFromBuffer,
  publishRequest,
  testImage,
  testVideo,
} from '../../fakes/platform-context';
import { createWebhookReceiver, type WebhookReceiver } from '../../fakes/webhook';
import { itWithFfmpeg } from '../../helpers/ffmpeg';

async function failure(adapter: PlatformAdapter, call: Promise<unknown>): Promise<ErrorClass> {
  try {
    await call;
  } catch (error) {
    return adapter.classifyError(error);
  }
  throw new Error('the call succeeded');
}

describe('webhook adapter against a receiver that checks signatures and dedupes', () => {
  const adapter = createWebhookAdapter({ timeoutMs: 3_000 });
  const secret = randomBytes(32).toString('hex');
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = createWebhookReceiver(secret);
    await receiver.start();
  });
  afterAll(() => receiver.stop());
  beforeEach(() => receiver.server.clearFaults());

  const context = (channelSecret = secret) =>
    createPlatformContext({
      platform: 'webhook',
      store: createCredentialStore({ secret: channelSecret }),
      settings: { url: receiver.url },
    });
  const storedFor = (deliveryId: string) => receiver.stored().filter((s) => s.deliveryId === deliveryId);

  it('keeps no address of the post when the receiver answers without one: the endpoint is none', async () => {
    receiver.receipts = false;
    try {
      const request = publishRequest({ deliveryId: randomUUID() });
      const result = await adapter.publish(context(), request);
      expect(result).toEqual({ remoteId: request.deliveryId, url: null });
      expect(storedFor(request.deliveryId)).toHaveLength(1);
    } finally {
      receiver.receipts = true;
    }
  });

  itWithFfmpeg(
    'posts the delivery signed, with text, link and media URLs, and keeps the receiver’s id',
    async () => {
      const image = mediaFromBuffer(await testImage(), {
        kind: 'image',
        mime: 'image/png',
        altText: 'Loket paspor',
      });
      const video = mediaFromBuffer(await testVideo(), { kind: 'video', mime: 'video/mp4' });
      const request = publishRequest({
        deliveryId: randomUUID(),
        link: 'https://imigrasi.go.id/f',
        sourceUrl: 'https://t.me/kanim_pontianak/12',
        media: [image, video],
      });
      const result = await adapter.publish(context(), request);
      const [stored] = storedFor(request.deliveryId);
      expect(result).toEqual({ remoteId: stored!.id, url: `${receiver.server.url}/posts/${stored!.id}` });
      expect(stored!.payload).toMatchObject({
        type: 'delivery',
        mode: 'copy',
        text: request.text,
        link: 'https://imigrasi.go.id/f',
        sourceUrl: 'https://t.me/kanim_pontianak/12',
        media: [
          {
            url: image.publicUrl(),
            kind: 'image',
            mime: 'image/png',
            altText: 'Loket paspor',
            sha256: image.sha256,
          },
          { url: video.publicUrl(), kind: 'video', mime: 'video/mp4', altText: '', sha256: video.sha256 },
        ],
      });
    },
  );

  it('passes reposts and quotes on with their mode and source', async () => {
    const repost = publishRequest({
      deliveryId: randomUUID(),
      mode: 'repost',
      sourceUrl: 'https://t.me/a/1',
    });
    await adapter.repost!(context(), repost);
    const quote = publishRequest({ deliveryId: randomUUID(), mode: 'quote', sourceUrl: 'https://t.me/a/2' });
    await adapter.quote!(context(), quote);
    expect(storedFor(repost.deliveryId)[0]!.payload).toMatchObject({
      mode: 'repost',
      sourceUrl: 'https://t.me/a/1',
    });
    expect(storedFor(quote.deliveryId)[0]!.payload).toMatchObject({ mode: 'quote', text: quote.text });
  });

  it('sends again safely after a dropped connection: the receiver dedupes by delivery id', async () => {
    const request = publishRequest({ deliveryId: randomUUID() });
    receiver.server.inject({ kind: 'drop-after' });
    expect((await failure(adapter, adapter.publish(context(), request))).kind).toBe('unknown');
    expect(storedFor(request.deliveryId)).toHaveLength(1);
    // Reconciliation is idempotent: "not found", so the engine sends again.
    expect(adapter.capabilities.reconcile).toBe('idempotent');
    expect(await adapter.findPublished(context(), request)).toBeNull();
    const result = await adapter.publish(context(), request);
    const stored = storedFor(request.deliveryId);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ id: result.remoteId, received: 2 });
  });

  it('delivers once when the first attempt never arrived', async () => {
    const request = publishRequest({ deliveryId: randomUUID() });
    receiver.server.inject({ kind: 'drop-before' });
    expect((await failure(adapter, adapter.publish(context(), request))).kind).toBe('unknown');
    expect(storedFor(request.deliveryId)).toHaveLength(0);
    await adapter.publish(context(), request);
    expect(storedFor(request.deliveryId)).toMatchObject([{ received: 1 }]);
  });

  it('waits for Retry-After on a 429', async () => {
    receiver.server.inject({
      kind: 'respond',
      status: 429,
      headers: { 'retry-after': '120' },
      body: { error: 'slow down' },
    });
    const before = Date.now();
    const classification = await failure(
      adapter,
      adapter.publish(context(), publishRequest({ deliveryId: randomUUID() })),
    );
    expect(classification).toMatchObject({ kind: 'rate_limited', httpStatus: 429 });
    const until = (classification as { until: Date }).until.getTime();
    expect(until).toBeGreaterThanOrEqual(before + 120_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 120_000);
  });

  it('retries after a 5xx', async () => {
    receiver.server.inject({ kind: 'respond', status: 503, body: { error: 'maintenance' } });
    expect(
      await failure(adapter, adapter.publish(context(), publishRequest({ deliveryId: randomUUID() }))),
    ).toMatchObject({ kind: 'retry', httpStatus: 503 });
  });

  it('asks for a new secret when the receiver refuses the signature', async () => {
    const classification = await failure(
      adapter,
      adapter.publish(context(randomBytes(32).toString('hex')), publishRequest({ deliveryId: randomUUID() })),
    );
    expect(classification).toMatchObject({ kind: 'auth', httpStatus: 401 });
    receiver.server.inject({ kind: 'respond', status: 403, body: { error: 'forbidden' } });
    expect(
      await failure(adapter, adapter.publish(context(), publishRequest({ deliveryId: randomUUID() }))),
    ).toMatchObject({ kind: 'auth', httpStatus: 403 });
  });

  it('classifies what the receiver refuses as invalid', async () => {
    receiver.server.inject({ kind: 'respond', status: 422, body: { error: 'text required' } });
    const classification = await failure(
      adapter,
      adapter.publish(context(), publishRequest({ deliveryId: randomUUID() })),
    );
    expect(classification).toMatchObject({ kind: 'invalid', httpStatus: 422 });
    expect(classification.message).toContain('text required');
  });

  it('verifies the channel with a signed ping', async () => {
    const pings = receiver.pings();
    expect(await adapter.verifyCredentials(context())).toEqual({
      remoteId: receiver.url,
      handle: new URL(receiver.url).host,
    });
    expect(receiver.pings()).toBe(pings + 1);
    expect((await failure(adapter, adapter.verifyCredentials(context('a-secret-that-is-wrong')))).kind).toBe(
      'auth',
    );
  });
});
