import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectMetaPages, createFacebookAdapter } from '../../../src/platforms/facebook';
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

/** The classification of what a call threw; fails the test when the call succeeds. */
async function failure(adapter: PlatformAdapter, call: Promise<unknown>): Promise<ErrorClass> {
  try {
    await call;
  } catch (error) {
    return adapter.classifyError(error);
  }
  throw new Error('the call succeeded');
}

describe('Facebook Page adapter against the fake Graph API', () => {
  const adapter = createFacebookAdapter({ timeoutMs: 5_000 });
  let graph: GraphFake;
  let host: MediaHost;
  let page: { pageId: string; pageToken: string };

  beforeAll(async () => {
    graph = createGraphFake();
    await graph.start();
    host = await createMediaHost();
    page = graph.createPage('Direktorat Jenderal Imigrasi');
  });
  afterAll(async () => {
    await graph.stop();
    await host.stop();
  });
  beforeEach(() => graph.server.clearFaults());

  const context = (token = page.pageToken, pageId = page.pageId) =>
    createPlatformContext({
      platform: 'facebook',
      store: createCredentialStore({ pageAccessToken: token }),
      settings: { pageId },
      endpoints: { graph: graph.url },
      apps: { meta: graph.app },
    });
  const unique = (text: string) => `${text} ${randomUUID().slice(0, 8)}`;
  const posting = (edge: string) => ({
    match: (r: { method: string; url: string }) =>
      r.method === 'POST' && r.url.startsWith(`/${page.pageId}/${edge}?`),
  });
  const image = async (hue: number) =>
    host.add(await testImage({ hue }), { kind: 'image', mime: 'image/png' });

  it('publishes a text post with its link to the page feed', async () => {
    const text = unique('Layanan paspor kini buka hari Sabtu di Kanim Pontianak.');
    const result = await adapter.publish(
      context(),
      publishRequest({ deliveryId: randomUUID(), text, link: 'https://imigrasi.go.id/berita/123' }),
    );
    const post = graph.pagePosts(page.pageId).at(-1)!;
    expect(result).toEqual({ remoteId: post.id, url: `https://www.facebook.com/${post.id}` });
    expect(post).toMatchObject({ message: text, link: 'https://imigrasi.go.id/berita/123', photoIds: [] });
  });

  it('publishes one photo with the caption (and the link in it)', async () => {
    const text = unique('Foto kegiatan pelayanan.');
    const result = await adapter.publish(
      context(),
      publishRequest({
        deliveryId: randomUUID(),
        text,
        link: 'https://imigrasi.go.id/a',
        media: [await image(30)],
      }),
    );
    const post = graph.pagePosts(page.pageId).at(-1)!;
    expect(result.remoteId).toBe(post.id);
    expect(post.message).toBe(`${text}\n\nhttps://imigrasi.go.id/a`);
    expect(post.photoIds).toHaveLength(1);
    expect(graph.photos(page.pageId).find((p) => p.id === post.photoIds[0])).toMatchObject({
      published: true,
    });
  });

  it('publishes several photos as unpublished uploads attached to one feed post', async () => {
    const text = unique('Tiga foto dari Entikong.');
    const media = [await image(60), await image(90), await image(120)];
    const result = await adapter.publish(
      context(),
      publishRequest({ deliveryId: randomUUID(), text, media }),
    );
    const post = graph.pagePosts(page.pageId).at(-1)!;
    expect(result.remoteId).toBe(post.id);
    expect(post.message).toBe(text);
    expect(post.photoIds).toHaveLength(3);
    const uploads = graph.photos(page.pageId).filter((p) => post.photoIds.includes(p.id));
    expect(uploads.map((p) => p.published)).toEqual([false, false, false]);
  });

  itWithFfmpeg('publishes a video with its description', async () => {
    const text = unique('Video layanan Sabtu.');
    const video = host.add(await testVideo(), { kind: 'video', mime: 'video/mp4' });
    const result = await adapter.publish(
      context(),
      publishRequest({ deliveryId: randomUUID(), text, media: [video] }),
    );
    const post = graph.pagePosts(page.pageId).at(-1)!;
    expect(post.videoId).toBe(result.remoteId);
    expect(post.message).toBe(text);
    expect(result.url).toBe(`https://www.facebook.com/${page.pageId}/videos/${result.remoteId}`);
  });

  itWithFfmpeg('refuses photos and a video in one post as invalid, before calling Meta', async () => {
    const before = graph.server.received.length;
    const video = host.add(await testVideo(), { kind: 'video', mime: 'video/mp4' });
    const classification = await failure(
      adapter,
      adapter.publish(
        context(),
        publishRequest({ deliveryId: randomUUID(), media: [await image(10), video] }),
      ),
    );
    expect(classification.kind).toBe('invalid');
    expect(graph.server.received.length).toBe(before);
  });

  it('classifies an image Meta cannot download as invalid', async () => {
    const broken = host.missing({ kind: 'image', mime: 'image/jpeg' });
    const classification = await failure(
      adapter,
      adapter.publish(context(), publishRequest({ deliveryId: randomUUID(), media: [broken] })),
    );
    expect(classification).toMatchObject({ kind: 'invalid', httpStatus: 400 });
    expect(classification.message).toContain('324');
  });

  it('reads page throttling from the error code and usage headers (HTTP 400, not 429)', async () => {
    graph.server.inject(graphThrottleFault(32, 17), posting('feed'));
    const before = Date.now();
    const classification = await failure(
      adapter,
      adapter.publish(context(), publishRequest({ deliveryId: randomUUID() })),
    );
    expect(classification).toMatchObject({ kind: 'rate_limited', scope: 'channel', httpStatus: 400 });
    const until = (classification as { until: Date }).until.getTime();
    expect(until).toBeGreaterThanOrEqual(before + 17 * MINUTE);
    expect(until).toBeLessThanOrEqual(Date.now() + 17 * MINUTE);
  });

  it('treats app-level throttling (code 4) as a wait for the whole app', async () => {
    graph.server.inject(graphThrottleFault(4, 0), posting('feed'));
    const classification = await failure(
      adapter,
      adapter.publish(context(), publishRequest({ deliveryId: randomUUID() })),
    );
    expect(classification).toMatchObject({ kind: 'rate_limited', scope: 'app' });
    expect((classification as { until: Date }).until.getTime()).toBeGreaterThan(Date.now());
  });

  it('retries after a server error', async () => {
    graph.server.inject(graphServerErrorFault, posting('feed'));
    const classification = await failure(
      adapter,
      adapter.publish(context(), publishRequest({ deliveryId: randomUUID() })),
    );
    expect(classification).toMatchObject({ kind: 'retry', httpStatus: 500 });
  });

  it('asks for re-authorisation when the page token expired', async () => {
    const expired = graph.createPage('Halaman Kedaluwarsa');
    graph.expireToken(expired.pageToken);
    const classification = await failure(
      adapter,
      adapter.publish(
        context(expired.pageToken, expired.pageId),
        publishRequest({ deliveryId: randomUUID() }),
      ),
    );
    expect(classification).toMatchObject({ kind: 'auth', httpStatus: 400 });
    expect(classification.message).toContain('190/463');
  });

  it('finds the post stored before the connection dropped, by its message', async () => {
    const request = publishRequest({ deliveryId: randomUUID(), text: unique('Terputus setelah disimpan.') });
    graph.server.inject({ kind: 'drop-after' }, posting('feed'));
    const classification = await failure(adapter, adapter.publish(context(), request));
    expect(classification.kind).toBe('unknown');
    const stored = graph.pagePosts(page.pageId).at(-1)!;
    expect(stored.message).toBe(request.text);
    expect(await adapter.findPublished(context(), request)).toEqual({
      remoteId: stored.id,
      url: stored.permalink,
    });
  });

  it('finds nothing when the connection dropped before the post was stored', async () => {
    const request = publishRequest({ deliveryId: randomUUID(), text: unique('Tidak pernah sampai.') });
    graph.server.inject({ kind: 'drop-before' }, posting('feed'));
    const classification = await failure(adapter, adapter.publish(context(), request));
    expect(classification.kind).toBe('unknown');
    expect(await adapter.findPublished(context(), request)).toBeNull();
  });

  it('does not take an older post with the same text for this delivery', async () => {
    const text = unique('Teks yang sama.');
    await adapter.publish(context(), publishRequest({ deliveryId: randomUUID(), text }));
    const later = publishRequest({
      deliveryId: randomUUID(),
      text,
      firstAttemptAt: new Date(Date.now() + 60 * MINUTE),
    });
    expect(await adapter.findPublished(context(), later)).toBeNull();
  });

  it('reads reactions, comments and shares of a post', async () => {
    const result = await adapter.publish(
      context(),
      publishRequest({ deliveryId: randomUUID(), text: unique('Metrik') }),
    );
    graph.setEngagement(result.remoteId, { reactions: 42, comments: 7, shares: 3 });
    expect(await adapter.fetchMetrics!(context(), result.remoteId)).toMatchObject({
      likes: 42,
      replies: 7,
      reposts: 3,
      impressions: null,
    });
  });

  it('verifies that the token is the configured page', async () => {
    expect(await adapter.verifyCredentials(context())).toMatchObject({
      remoteId: page.pageId,
      handle: 'Direktorat Jenderal Imigrasi',
    });
    const other = graph.createPage('Halaman Lain');
    const classification = await failure(adapter, adapter.verifyCredentials(context(other.pageToken)));
    expect(classification.kind).toBe('auth');
  });

  it('connects: exchanges the user token for a long-lived one and lists the page tokens', async () => {
    const linked = graph.createPage('Imigrasi Kalbar');
    const { igUserId } = graph.linkInstagram(linked.pageId, 'imigrasi_kalbar');
    const { shortLivedToken } = graph.createUser('Admin Humas', [page.pageId, linked.pageId]);
    const pages = await connectMetaPages(graph.url, graph.app, shortLivedToken);
    expect(pages).toEqual([
      {
        pageId: page.pageId,
        name: 'Direktorat Jenderal Imigrasi',
        pageAccessToken: page.pageToken,
        instagram: null,
      },
      {
        pageId: linked.pageId,
        name: 'Imigrasi Kalbar',
        pageAccessToken: linked.pageToken,
        instagram: { igUserId, username: 'imigrasi_kalbar' },
      },
    ]);
    const wrongSecret = { appId: graph.app.appId, appSecret: 'not-the-secret' };
    await expect(connectMetaPages(graph.url, wrongSecret, shortLivedToken)).rejects.toThrow(/client secret/);
  });
});
