import { describe, expect, it } from 'vitest';
import { instagramAdapter } from '../../../src/platforms/instagram';
import type { PostOrigin } from '../../../src/platforms/types';
import { createGraphFake } from '../../fakes/meta/facebook-instagram';
import { graphThrottleFault } from '../../fakes/meta/graph';
import {
  createCredentialStore,
  createPlatformContext,
  testImage,
  testVideo,
} from '../../fakes/platform-context';
import { malformedJsonFault, OVERSIZED_MESSAGE, oversizedJsonFault } from '../../fakes/source-faults';
import { bytesAt, DAY, failure, sourceRead, useFake } from './source-support';

const source = instagramAdapter.source!;

describe('Instagram as a source: the office account read through the fake Graph API', () => {
  const graph = useFake(createGraphFake());
  let counter = 0;

  function office() {
    counter += 1;
    const page = graph.createPage(`Kanim ${counter}`);
    const username = `kanim_pontianak_${counter}`;
    const { igUserId } = graph.linkInstagram(page.pageId, username);
    const ctx = createPlatformContext({
      platform: 'instagram',
      store: createCredentialStore({ accessToken: page.pageToken }),
      settings: { igUserId },
      endpoints: { graph: graph.url },
    });
    return { igUserId, username, token: page.pageToken, ctx };
  }

  const read = sourceRead(instagramAdapter);
  const mediaRequests = (igUserId: string) =>
    graph.server.received.filter((r) => r.method === 'GET' && r.url.startsWith(`/${igUserId}/media?`));

  it('reads a carousel as one item with every file, a reel as its video with its still, and never a story', async () => {
    const { igUserId, username, ctx } = office();
    const images = await Promise.all([20, 90, 160].map((hue) => testImage({ hue, format: 'jpeg' })));
    const carousel = graph.postIgMedia(igUserId, {
      caption: 'Pelayanan paspor hari Sabtu #imigrasi',
      media: images.map((bytes) => ({ kind: 'image' as const, bytes })),
      createdAt: Date.now() - 60_000,
    });
    const video = await testVideo();
    const still = await testImage({ hue: 200, format: 'jpeg' });
    const reel = graph.postIgMedia(igUserId, {
      caption: 'Antrean tertib',
      productType: 'REELS',
      media: [{ kind: 'video', bytes: video, thumbnail: still }],
    });
    graph.postIgMedia(igUserId, {
      caption: 'Cerita hari ini',
      productType: 'STORY',
      media: [{ kind: 'image', bytes: images[0]! }],
    });

    const result = await read(ctx);

    expect(result.items.map((item) => item.key)).toEqual([reel.id, carousel.id]);
    const [reelItem, carouselItem] = result.items;
    expect(carouselItem).toMatchObject({
      url: carousel.permalink,
      text: 'Pelayanan paspor hari Sabtu #imigrasi',
      kind: 'post',
      origin: {
        platform: 'instagram',
        nativeId: carousel.id,
        url: carousel.permalink,
        authorHandle: `@${username}`,
        publishedAt: new Date(Math.floor(carousel.createdAt / 1000) * 1000).toISOString(),
      },
    });
    expect(carouselItem!.media.map((m) => m.kind)).toEqual(['image', 'image', 'image']);
    for (const [index, medium] of carouselItem!.media.entries())
      expect((await bytesAt(medium.url)).equals(images[index]!)).toBe(true);
    expect(reelItem!.media).toHaveLength(1);
    expect(reelItem!.media[0]!.kind).toBe('video');
    expect((await bytesAt(reelItem!.media[0]!.url)).equals(video)).toBe(true);
    expect((await bytesAt(reelItem!.media[0]!.thumbnailUrl!)).equals(still)).toBe(true);

    const query = new URL(mediaRequests(igUserId)[0]!.url, graph.url).searchParams;
    expect(query.get('fields')).toContain('children{media_type,media_url,thumbnail_url}');
    expect(query.has('access_token')).toBe(true);
  });

  it('names a medium whose file Instagram withholds as skipped, and keeps the post', async () => {
    const { igUserId, ctx } = office();
    graph.postIgMedia(igUserId, { caption: 'Dengan musik', media: [{ kind: 'video', bytes: null }] });
    const [item] = (await read(ctx)).items;
    expect(item!.media).toHaveLength(1);
    expect(item!.media[0]!.skippedReason).toMatch(/no file/);
  });

  it('reads only what is newer than the cursor, and only the last day on a first read', async () => {
    const { igUserId, ctx } = office();
    const image = await testImage({ format: 'jpeg' });
    graph.postIgMedia(igUserId, {
      caption: 'Lama',
      media: [{ kind: 'image', bytes: image }],
      createdAt: Date.now() - 3 * DAY,
    });
    const seen = graph.postIgMedia(igUserId, { caption: 'Sudah', media: [{ kind: 'image', bytes: image }] });
    const first = await read(ctx);
    expect(first.items.map((item) => item.key)).toEqual([seen.id]);
    const fresh = graph.postIgMedia(igUserId, {
      caption: 'Baru',
      media: [{ kind: 'image', bytes: image }],
      createdAt: Date.now() + 2_000,
    });
    const second = await read(ctx, { cursor: first.cursor });
    expect(second.items.map((item) => item.key)).toEqual([fresh.id]);
    const third = await read(ctx, { cursor: second.cursor });
    expect(third).toEqual({ items: [], cursor: second.cursor });
  });

  it('follows `after` cursors while Graph offers a next page, and stops at the limit', async () => {
    const { igUserId, ctx } = office();
    const image = await testImage({ format: 'jpeg' });
    for (let i = 0; i < 260; i++)
      graph.postIgMedia(igUserId, {
        caption: `Pos ${i}`,
        media: [{ kind: 'image', bytes: image }],
        createdAt: Date.now() - 300_000 + i * 1000,
      });
    const result = await read(ctx, { limit: 150 });
    expect(result.items).toHaveLength(150);
    expect(result.items[0]!.text).toBe('Pos 259');
    expect(result.items[149]!.text).toBe('Pos 110');
    const requests = mediaRequests(igUserId);
    expect(requests).toHaveLength(2);
    expect(new URL(requests[1]!.url, graph.url).searchParams.get('after')).toBeTruthy();
  });

  it('turns throttling into rate_limited and an expired token into auth, reading nothing', async () => {
    const { igUserId, token, ctx } = office();
    graph.server.inject(graphThrottleFault(80001, 12), {
      match: (r) => r.url.startsWith(`/${igUserId}/media?`),
    });
    const throttled = await failure(read(ctx));
    expect(throttled.kind).toBe('rate_limited');
    expect((throttled as { until: Date }).until.getTime()).toBeGreaterThan(Date.now() + 11 * 60_000);
    graph.expireToken(token);
    expect((await failure(read(ctx))).kind).toBe('auth');
  });

  it('tells whether the original still exists', async () => {
    const { igUserId, ctx } = office();
    const post = graph.postIgMedia(igUserId, {
      caption: 'Akan dihapus',
      media: [{ kind: 'image', bytes: await testImage({ format: 'jpeg' }) }],
    });
    const origin: PostOrigin = {
      platform: 'instagram',
      nativeId: post.id,
      url: post.permalink,
      authorHandle: null,
      publishedAt: new Date(post.createdAt).toISOString(),
    };
    expect(await source.originExists!(ctx, origin)).toBe(true);
    graph.deleteObject(post.id);
    expect(await source.originExists!(ctx, origin)).toBe(false);
  });

  it('refuses a malformed answer and an oversized one whole, then reads normally', async () => {
    const { igUserId, ctx } = office();
    graph.postIgMedia(igUserId, {
      caption: 'Ada',
      media: [{ kind: 'image', bytes: await testImage({ format: 'jpeg' }) }],
    });
    const edge = { match: (r: { url: string }) => r.url.startsWith(`/${igUserId}/media?`) };
    graph.server.inject(malformedJsonFault, edge);
    expect((await failure(read(ctx))).kind).toBe('retry');
    graph.server.inject(oversizedJsonFault(), edge);
    expect(await failure(read(ctx))).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining(OVERSIZED_MESSAGE),
    });
    expect((await read(ctx)).items).toHaveLength(1);
  });
});
