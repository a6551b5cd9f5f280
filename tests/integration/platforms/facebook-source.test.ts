import { describe, expect, it } from 'vitest';
import { facebookAdapter } from '../../../src/platforms/facebook';
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

const source = facebookAdapter.source!;

describe('Facebook Page as a source: published_posts read through the fake Graph API', () => {
  const graph = useFake(createGraphFake());
  let counter = 0;

  function office() {
    counter += 1;
    const { pageId, pageToken } = graph.createPage(`Kantor Imigrasi ${counter}`);
    const ctx = createPlatformContext({
      platform: 'facebook',
      store: createCredentialStore({ pageAccessToken: pageToken }),
      settings: { pageId },
      endpoints: { graph: graph.url },
    });
    return { pageId, pageToken, ctx };
  }

  const read = sourceRead(facebookAdapter);
  const edgeRequests = (pageId: string) =>
    graph.server.received.filter((r) => r.url.startsWith(`/${pageId}/published_posts?`));

  it('reads an album as one item with its photos, a video with its file and still, a link in the text, and marks shares', async () => {
    const { pageId, ctx } = office();
    const photos = await Promise.all([30, 130].map((hue) => testImage({ hue, format: 'jpeg' })));
    const album = graph.postOnPage(pageId, {
      message: 'Operasi keimigrasian di perbatasan',
      media: photos.map((bytes) => ({ kind: 'image' as const, bytes })),
      createdAt: Date.now() - 3_000,
    });
    const video = await testVideo();
    const still = await testImage({ hue: 250, format: 'jpeg' });
    const clip = graph.postOnPage(pageId, {
      message: 'Video layanan',
      media: [{ kind: 'video', bytes: video, thumbnail: still }],
      createdAt: Date.now() - 2_000,
    });
    const link = graph.postOnPage(pageId, {
      message: 'Baca selengkapnya',
      link: 'https://www.imigrasi.go.id/berita/12',
      createdAt: Date.now() - 1_000,
    });
    const share = graph.postOnPage(pageId, { message: '', sharing: '104729380000_77' });

    const result = await read(ctx);

    expect(result.items.map((item) => [item.key, item.kind])).toEqual([
      [share.id, 'repost'],
      [link.id, 'post'],
      [clip.id, 'post'],
      [album.id, 'post'],
    ]);
    const byKey = new Map(result.items.map((item) => [item.key, item]));
    const albumItem = byKey.get(album.id)!;
    expect(albumItem).toMatchObject({
      url: album.permalink,
      text: 'Operasi keimigrasian di perbatasan',
      origin: {
        platform: 'facebook',
        nativeId: album.id,
        url: album.permalink,
        authorHandle: `Kantor Imigrasi ${counter}`,
      },
    });
    expect(albumItem.media.map((m) => m.kind)).toEqual(['image', 'image']);
    for (const [index, medium] of albumItem.media.entries())
      expect((await bytesAt(medium.url)).equals(photos[index]!)).toBe(true);
    const clipMedium = byKey.get(clip.id)!.media[0]!;
    expect(clipMedium.kind).toBe('video');
    expect((await bytesAt(clipMedium.url)).equals(video)).toBe(true);
    expect((await bytesAt(clipMedium.thumbnailUrl!)).equals(still)).toBe(true);
    expect(byKey.get(link.id)!.text).toBe('Baca selengkapnya\n\nhttps://www.imigrasi.go.id/berita/12');

    const query = new URL(edgeRequests(pageId)[0]!.url, graph.url).searchParams;
    expect(query.get('fields')).toContain('attachments{media_type,media,subattachments,url}');
    // The Page is named on each post (its `from`): no second request for who posted.
    expect(query.get('fields')).toContain('from{id,name}');
    expect(graph.server.received.filter((r) => r.url.startsWith(`/${pageId}?`))).toEqual([]);
  });

  it('reads only what is newer than the cursor, following next pages up to the limit', async () => {
    const { pageId, ctx } = office();
    graph.postOnPage(pageId, { message: 'Lama', createdAt: Date.now() - 2 * DAY });
    for (let i = 0; i < 120; i++)
      graph.postOnPage(pageId, { message: `Pos ${i}`, createdAt: Date.now() - 200_000 + i * 1000 });
    const first = await read(ctx, { limit: 150 });
    expect(first.items).toHaveLength(120);
    expect(first.items[0]!.text).toBe('Pos 119');
    expect(edgeRequests(pageId)).toHaveLength(2);
    const fresh = graph.postOnPage(pageId, { message: 'Baru', createdAt: Date.now() + 2_000 });
    const second = await read(ctx, { cursor: first.cursor });
    expect(second.items.map((item) => item.key)).toEqual([fresh.id]);
    expect((await read(ctx, { cursor: second.cursor })).items).toEqual([]);
  });

  it('turns throttling into rate_limited and an expired token into auth', async () => {
    const { pageId, pageToken, ctx } = office();
    graph.server.inject(graphThrottleFault(32, 7), {
      match: (r) => r.url.startsWith(`/${pageId}/published_posts?`),
    });
    expect((await failure(read(ctx))).kind).toBe('rate_limited');
    graph.expireToken(pageToken);
    expect((await failure(read(ctx))).kind).toBe('auth');
  });

  it('tells whether the original still exists', async () => {
    const { pageId, ctx } = office();
    const post = graph.postOnPage(pageId, { message: 'Akan dihapus' });
    const origin: PostOrigin = {
      platform: 'facebook',
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
    const { pageId, ctx } = office();
    graph.postOnPage(pageId, { message: 'Ada' });
    const edge = { match: (r: { url: string }) => r.url.startsWith(`/${pageId}/published_posts?`) };
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
