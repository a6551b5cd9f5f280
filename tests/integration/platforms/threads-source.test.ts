import { describe, expect, it } from 'vitest';
import { threadsAdapter } from '../../../src/platforms/threads';
import { threadsItem } from '../../../src/platforms/threads-source';
import type { PostOrigin } from '../../../src/platforms/types';
import { graphThrottleFault } from '../../fakes/meta/graph';
import { createThreadsFake } from '../../fakes/meta/threads';
import {
  createCredentialStore,
  createPlatformContext,
  testImage,
  testVideo,
} from '../../fakes/platform-context';
import { malformedJsonFault, OVERSIZED_MESSAGE, oversizedJsonFault } from '../../fakes/source-faults';
import { bytesAt, DAY, failure, sourceRead, useFake } from './source-support';

const source = threadsAdapter.source!;

describe('Threads as a source: the office account read through the fake Threads API', () => {
  const fake = useFake(createThreadsFake());
  let counter = 0;

  function office() {
    counter += 1;
    const username = `kanim_batam_${counter}`;
    const { userId, token } = fake.createUser(username);
    const ctx = createPlatformContext({
      platform: 'threads',
      store: createCredentialStore({ accessToken: token }),
      settings: { userId },
      endpoints: { threads: fake.url },
    });
    return { userId, username, token, ctx };
  }

  const read = sourceRead(threadsAdapter);
  const edge = (userId: string) => ({
    match: (r: { url: string }) => r.url.startsWith(`/${userId}/threads?`),
  });

  it('reads a carousel as one item with its files and alt text, a video with its still, and classifies quotes and reposts', async () => {
    const { userId, username, ctx } = office();
    const other = fake.createUser(`ditjen_${counter}`);
    const central = fake.postThread(other.userId, { text: 'Pengumuman pusat' });
    const images = await Promise.all([40, 140].map((hue) => testImage({ hue, format: 'jpeg' })));
    const carousel = fake.postThread(userId, {
      text: 'Layanan hari ini',
      media: images.map((bytes, index) => ({ kind: 'image' as const, bytes, altText: `Foto ${index + 1}` })),
      createdAt: Date.now() - 3_000,
    });
    const video = await testVideo();
    const still = await testImage({ hue: 10, format: 'jpeg' });
    const clip = fake.postThread(userId, {
      text: 'Video',
      media: [{ kind: 'video', bytes: video, thumbnail: still }],
      createdAt: Date.now() - 2_000,
    });
    const quote = fake.postThread(userId, {
      text: 'Simak ini',
      quoting: central.id,
      createdAt: Date.now() - 1_000,
    });
    const repost = fake.postThread(userId, { text: '', reposting: central.id });
    fake.postThread(userId, { text: 'Terima kasih', replyingTo: carousel.id });

    const result = await read(ctx);

    expect(result.items.map((item) => [item.key, item.kind])).toEqual([
      [repost.id, 'repost'],
      [quote.id, 'post'],
      [clip.id, 'post'],
      [carousel.id, 'post'],
    ]);
    const [repostItem, quoteItem, clipItem, carouselItem] = result.items;
    expect(carouselItem).toMatchObject({
      url: carousel.permalink,
      text: 'Layanan hari ini',
      origin: { platform: 'threads', nativeId: carousel.id, authorHandle: `@${username}` },
    });
    expect(carouselItem!.media.map((m) => [m.kind, m.altText])).toEqual([
      ['image', 'Foto 1'],
      ['image', 'Foto 2'],
    ]);
    for (const [index, medium] of carouselItem!.media.entries())
      expect((await bytesAt(medium.url)).equals(images[index]!)).toBe(true);
    expect((await bytesAt(clipItem!.media[0]!.url)).equals(video)).toBe(true);
    expect((await bytesAt(clipItem!.media[0]!.thumbnailUrl!)).equals(still)).toBe(true);
    expect(quoteItem!.origin.ref).toEqual({ quotedPostId: central.id });
    expect(repostItem!.origin.ref).toEqual({ repostedPostId: central.id });
    expect(repostItem!.text).toBe('');
  });

  it('marks a reply as such when Threads lists one', () => {
    const item = threadsItem({
      id: '1790001',
      media_type: 'TEXT_POST',
      text: 'Balasan',
      timestamp: '2026-12-07T01:00:00+0000',
      is_reply: true,
    });
    expect(item.kind).toBe('reply');
    expect(item.publishedAt).toEqual(new Date('2026-12-07T01:00:00Z'));
  });

  it('reads only what is newer than the cursor, following next pages up to the limit', async () => {
    const { userId, ctx } = office();
    fake.postThread(userId, { text: 'Lama', createdAt: Date.now() - 2 * DAY });
    for (let i = 0; i < 130; i++)
      fake.postThread(userId, { text: `Pos ${i}`, createdAt: Date.now() - 200_000 + i * 1000 });
    const first = await read(ctx, { limit: 120 });
    expect(first.items).toHaveLength(120);
    expect(first.items[0]!.text).toBe('Pos 129');
    expect(first.items[119]!.text).toBe('Pos 10');
    const fresh = fake.postThread(userId, { text: 'Baru', createdAt: Date.now() + 2_000 });
    const second = await read(ctx, { cursor: first.cursor });
    expect(second.items.map((item) => item.key)).toEqual([fresh.id]);
    expect((await read(ctx, { cursor: second.cursor })).items).toEqual([]);
  });

  it('turns throttling into rate_limited and an expired token into auth', async () => {
    const { userId, token, ctx } = office();
    fake.server.inject(graphThrottleFault(17, 5), edge(userId));
    expect((await failure(read(ctx))).kind).toBe('rate_limited');
    fake.expireToken(token);
    expect((await failure(read(ctx))).kind).toBe('auth');
  });

  it('tells whether the original still exists', async () => {
    const { userId, ctx } = office();
    const post = fake.postThread(userId, { text: 'Akan dihapus' });
    const origin: PostOrigin = {
      platform: 'threads',
      nativeId: post.id,
      url: post.permalink,
      authorHandle: null,
      publishedAt: new Date(post.createdAt).toISOString(),
    };
    expect(await source.originExists!(ctx, origin)).toBe(true);
    fake.deleteThread(post.id);
    expect(await source.originExists!(ctx, origin)).toBe(false);
  });

  it('refuses a malformed answer and an oversized one whole, then reads normally', async () => {
    const { userId, ctx } = office();
    fake.postThread(userId, { text: 'Ada' });
    fake.server.inject(malformedJsonFault, edge(userId));
    expect((await failure(read(ctx))).kind).toBe('retry');
    fake.server.inject(oversizedJsonFault(), edge(userId));
    expect(await failure(read(ctx))).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining(OVERSIZED_MESSAGE),
    });
    expect((await read(ctx)).items).toHaveLength(1);
  });
});
