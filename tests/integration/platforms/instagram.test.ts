import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createInstagramAdapter } from '../../../src/platforms/instagram';
import type { ErrorClass, PlatformAdapter } from '../../../src/platforms/types';
import { createMediaHost, type MediaHost } from '../../fakes/media-host';
import { createGraphFake, type GraphFake } from '../../fakes/meta/facebook-instagram';
import { graphServerErrorFault, graphThrottleFault } from '../../fakes/meta/graph';
import {
  createCredentialStore,
  createPlatformContext,
  publishRequest,
  testImage,
  testVideo,
} from '../../fakes/platform-context';
import { itWithFfmpeg } from '../../helpers/ffmpeg';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const QUOTA = 25;

async function failure(adapter: PlatformAdapter, call: Promise<unknown>): Promise<ErrorClass> {
  try {
    await call;
  } catch (error) {
    return adapter.classifyError(error);
  }
  throw new Error('the call succeeded');
}

describe('Instagram adapter against the fake Graph API', () => {
  const adapter = createInstagramAdapter({ pollIntervalMs: 5, maxPolls: 10, timeoutMs: 5_000 });
  let graph: GraphFake;
  let host: MediaHost;
  let account: { pageToken: string; igUserId: string };

  /** A page with its linked Instagram account, so each test can have its own quota window. */
  const newAccount = (username: string) => {
    const page = graph.createPage(`Halaman ${username}`);
    return { pageToken: page.pageToken, ...graph.linkInstagram(page.pageId, username) };
  };

  beforeAll(async () => {
    graph = createGraphFake({ pollsUntilFinished: 2, quotaTotal: QUOTA });
    await graph.start();
    host = await createMediaHost();
    account = newAccount('ditjen_imigrasi');
  });
  afterAll(async () => {
    await graph.stop();
    await host.stop();
  });
  beforeEach(() => graph.server.clearFaults());

  const context = (target = account) =>
    createPlatformContext({
      platform: 'instagram',
      store: createCredentialStore({ accessToken: target.pageToken }),
      settings: { igUserId: target.igUserId },
      endpoints: { graph: graph.url },
    });
  const unique = (text: string) => `${text} ${randomUUID().slice(0, 8)}`;
  const image = async (hue: number) =>
    host.add(await testImage({ hue }), { kind: 'image', mime: 'image/png' });
  const video = async () => host.add(await testVideo(), { kind: 'video', mime: 'video/mp4' });
  const statusChecks = () =>
    graph.server.received.filter((r) => r.method === 'GET' && r.url.includes('fields=status_code')).length;
  const publishing = (target = account) => ({
    match: (r: { method: string; url: string }) =>
      r.method === 'POST' && r.url.startsWith(`/${target.igUserId}/media_publish?`),
  });

  it('publishes one image: container, status polls until FINISHED, media_publish', async () => {
    const checksBefore = statusChecks();
    const text = unique('Antrean paspor pagi ini.');
    const result = await adapter.publish(
      context(),
      publishRequest({ deliveryId: randomUUID(), text, media: [await image(20)] }),
    );
    const media = graph.igMedia(account.igUserId).at(-1)!;
    expect(result).toEqual({ remoteId: media.id, url: media.permalink });
    expect(media).toMatchObject({ caption: text, mediaType: 'IMAGE' });
    // IN_PROGRESS twice, then FINISHED.
    expect(statusChecks() - checksBefore).toBe(3);
  });

  itWithFfmpeg('publishes a carousel of images and a video, with the link in the caption', async () => {
    const text = unique('Carousel kegiatan.');
    const result = await adapter.publish(
      context(),
      publishRequest({
        deliveryId: randomUUID(),
        text,
        link: 'https://imigrasi.go.id/b',
        media: [await image(40), await image(80), await video()],
      }),
    );
    const media = graph.igMedia(account.igUserId).at(-1)!;
    expect(media).toMatchObject({ id: result.remoteId, mediaType: 'CAROUSEL_ALBUM' });
    expect(media.caption).toBe(`${text}\n\nhttps://imigrasi.go.id/b`);
  });

  itWithFfmpeg('publishes a video as a reel', async () => {
    const text = unique('Reel layanan.');
    const result = await adapter.publish(
      context(),
      publishRequest({ deliveryId: randomUUID(), text, media: [await video()] }),
    );
    expect(graph.igMedia(account.igUserId).at(-1)).toMatchObject({
      id: result.remoteId,
      mediaType: 'VIDEO',
      caption: text,
    });
  });

  it('refuses a post without media, or with more than 10, as invalid before calling Meta', async () => {
    const before = graph.server.received.length;
    expect(
      (await failure(adapter, adapter.publish(context(), publishRequest({ deliveryId: randomUUID() })))).kind,
    ).toBe('invalid');
    const eleven = await Promise.all(Array.from({ length: 11 }, (_, i) => image(i * 20)));
    const classification = await failure(
      adapter,
      adapter.publish(context(), publishRequest({ deliveryId: randomUUID(), media: eleven })),
    );
    expect(classification.kind).toBe('invalid');
    expect(graph.server.received.length).toBe(before);
  });

  it('classifies a video Instagram cannot process (container ERROR) as invalid', async () => {
    const broken = host.missing({ kind: 'video', mime: 'video/mp4' });
    const classification = await failure(
      adapter,
      adapter.publish(context(), publishRequest({ deliveryId: randomUUID(), media: [broken] })),
    );
    expect(classification.kind).toBe('invalid');
    expect(classification.message).toContain('Media download has failed');
  });

  it('waits for the 24-hour publishing window when the quota is used, without creating a container', async () => {
    const full = newAccount('kanim_penuh');
    const oldest = Math.floor((Date.now() - 23 * HOUR) / 1000) * 1000;
    for (let i = 0; i < QUOTA; i++)
      graph.seedIgMedia(full.igUserId, { caption: `lama ${i}`, createdAt: oldest + i * MINUTE });
    const classification = await failure(
      adapter,
      adapter.publish(context(full), publishRequest({ deliveryId: randomUUID(), media: [await image(5)] })),
    );
    expect(classification).toMatchObject({ kind: 'rate_limited', scope: 'channel' });
    // The oldest post leaves the window 24 h after it was published.
    expect((classification as { until: Date }).until.getTime()).toBe(oldest + 24 * HOUR);
    expect(
      graph.server.received.some((r) => r.method === 'POST' && r.url.startsWith(`/${full.igUserId}/media?`)),
    ).toBe(false);
  });

  it('reads user-level throttling from the Graph error code and the usage headers', async () => {
    graph.server.inject(graphThrottleFault(17, 9), {
      match: (r) => r.method === 'POST' && r.url.startsWith(`/${account.igUserId}/media?`),
    });
    const before = Date.now();
    const classification = await failure(
      adapter,
      adapter.publish(context(), publishRequest({ deliveryId: randomUUID(), media: [await image(7)] })),
    );
    expect(classification).toMatchObject({ kind: 'rate_limited', scope: 'channel' });
    const until = (classification as { until: Date }).until.getTime();
    expect(until).toBeGreaterThanOrEqual(before + 9 * MINUTE);
    expect(until).toBeLessThanOrEqual(Date.now() + 9 * MINUTE);
  });

  it('retries after a server error', async () => {
    graph.server.inject(graphServerErrorFault, publishing());
    const classification = await failure(
      adapter,
      adapter.publish(context(), publishRequest({ deliveryId: randomUUID(), media: [await image(9)] })),
    );
    expect(classification).toMatchObject({ kind: 'retry', httpStatus: 500 });
  });

  it('asks for re-authorisation when the token expired', async () => {
    const expired = newAccount('kanim_kedaluwarsa');
    graph.expireToken(expired.pageToken);
    const classification = await failure(
      adapter,
      adapter.publish(
        context(expired),
        publishRequest({ deliveryId: randomUUID(), media: [await image(11)] }),
      ),
    );
    expect(classification).toMatchObject({ kind: 'auth' });
  });

  it('finds the post published before the connection dropped, by its caption', async () => {
    const request = publishRequest({
      deliveryId: randomUUID(),
      text: unique('Putus.'),
      media: [await image(13)],
    });
    graph.server.inject({ kind: 'drop-after' }, publishing());
    expect((await failure(adapter, adapter.publish(context(), request))).kind).toBe('unknown');
    const stored = graph.igMedia(account.igUserId).at(-1)!;
    expect(stored.caption).toBe(request.text);
    expect(await adapter.findPublished(context(), request)).toEqual({
      remoteId: stored.id,
      url: stored.permalink,
    });
  });

  it('finds nothing when media_publish never reached Instagram', async () => {
    const request = publishRequest({
      deliveryId: randomUUID(),
      text: unique('Tidak sampai.'),
      media: [await image(15)],
    });
    graph.server.inject({ kind: 'drop-before' }, publishing());
    expect((await failure(adapter, adapter.publish(context(), request))).kind).toBe('unknown');
    expect(await adapter.findPublished(context(), request)).toBeNull();
  });

  it('reads media insights as metrics', async () => {
    const result = await adapter.publish(
      context(),
      publishRequest({ deliveryId: randomUUID(), text: unique('Metrik'), media: [await image(17)] }),
    );
    graph.setEngagement(result.remoteId, { insights: { views: 1200, likes: 88, comments: 9, shares: 4 } });
    expect(await adapter.fetchMetrics!(context(), result.remoteId)).toMatchObject({
      impressions: 1200,
      likes: 88,
      replies: 9,
      reposts: 4,
      quotes: null,
    });
  });

  it('verifies the account', async () => {
    expect(await adapter.verifyCredentials(context())).toEqual({
      remoteId: account.igUserId,
      handle: '@ditjen_imigrasi',
      name: 'ditjen_imigrasi',
    });
  });
});
