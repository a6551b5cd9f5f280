import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { xAdapter } from '../../../src/platforms/x';
import {
  createCredentialStore,
  createPlatformContext,
  testImage,
  testVideo,
} from '../../fakes/platform-context';
import { malformedJsonFault, OVERSIZED_MESSAGE, oversizedJsonFault } from '../../fakes/source-faults';
import { createFakeX, type FakeXUser } from '../../fakes/x';
import { bytesAt, DAY, failure, sourceRead, useFake } from './source-support';

const CLIENT_ID = 'gaung-test-client';

describe('X as a source: the office timeline read through the fake X API', () => {
  const fake = useFake(createFakeX());
  fake.registerClient(CLIENT_ID);

  /** A fresh office account and a source context holding the office's own tokens. */
  function office(
    options: { settings?: 'stored' | 'none'; expiresAt?: Date; include?: string[]; user?: FakeXUser } = {},
  ) {
    const user: FakeXUser = options.user ?? fake.addUser({ username: `kanim_${randomUUID().slice(0, 6)}` });
    const tokens = fake.issueTokens(user.id, { clientId: CLIENT_ID });
    const store = createCredentialStore({
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: (options.expiresAt ?? tokens.expiresAt).toISOString(),
    });
    const ctx = createPlatformContext({
      platform: 'x',
      store,
      settings: {
        ...(options.settings === 'none' ? {} : { userId: user.id, username: user.username }),
        ...(options.include ? { include: options.include } : {}),
      },
      endpoints: { xApi: fake.url, xUpload: fake.url },
      apps: { x: { clientId: CLIENT_ID } },
    });
    return { user, tokens, ctx };
  }

  const read = sourceRead(xAdapter);

  const timelineRequests = (userId: string) =>
    fake.server.received.filter((r) => r.url.startsWith(`/2/users/${userId}/tweets`));

  it('reads posts with four images as one item, the best MP4 of a video, and leaves replies and reposts out', async () => {
    const { user, ctx } = office();
    const other = fake.addUser({ username: 'ditjen_imigrasi' });
    const reposted = fake.addPost(other.id, 'Pengumuman pusat');
    const images = await Promise.all([10, 60, 120, 200].map((hue) => testImage({ hue, format: 'jpeg' })));
    const album = fake.addPost(
      user.id,
      'Kegiatan Sabtu & Minggu https://imigrasi.go.id/berita/7',
      undefined,
      {
        media: images.map((bytes, index) => ({
          type: 'photo' as const,
          bytes,
          altText: `Foto ${index + 1}`,
        })),
      },
    );
    const video = await testVideo();
    const clip = fake.addPost(user.id, 'Video layanan paspor', undefined, {
      media: [{ type: 'video', bytes: video, altText: 'Antrean paspor' }],
    });
    fake.addPost(user.id, 'Terima kasih!', undefined, { replyTo: album.id });
    fake.addPost(user.id, `RT @ditjen_imigrasi: ${reposted.text}`, undefined, { retweetOf: reposted.id });

    const result = await read(ctx);

    expect(result.items.map((item) => item.key)).toEqual([clip.id, album.id]);
    const [clipItem, albumItem] = result.items;
    expect(albumItem).toMatchObject({
      url: `https://x.com/${user.username}/status/${album.id}`,
      text: 'Kegiatan Sabtu & Minggu https://imigrasi.go.id/berita/7',
      kind: 'post',
      origin: {
        platform: 'x',
        nativeId: album.id,
        url: `https://x.com/${user.username}/status/${album.id}`,
        authorHandle: `@${user.username}`,
        publishedAt: album.createdAt.toISOString(),
      },
    });
    expect(albumItem!.publishedAt).toEqual(album.createdAt);
    expect(albumItem!.media.map((m) => [m.kind, m.altText])).toEqual([
      ['image', 'Foto 1'],
      ['image', 'Foto 2'],
      ['image', 'Foto 3'],
      ['image', 'Foto 4'],
    ]);
    expect((await bytesAt(albumItem!.media[0]!.url)).equals(images[0]!)).toBe(true);
    expect(clipItem!.media).toHaveLength(1);
    expect(clipItem!.media[0]).toMatchObject({ kind: 'video', altText: 'Antrean paspor' });
    expect(clipItem!.media[0]!.url).toMatch(/-1280\.mp4$/);
    expect((await bytesAt(clipItem!.media[0]!.url)).equals(video)).toBe(true);
    expect(result.cursor).toBe(clip.id);

    const query = new URL(timelineRequests(user.id)[0]!.url, fake.url).searchParams;
    expect(query.get('exclude')).toBe('replies,retweets');
    expect(query.get('expansions')).toBe('attachments.media_keys,referenced_posts');
    expect(query.get('media.fields')).toBe('url,variants,alt_text,type,preview_image_url');
  });

  it('takes replies or retweets only when the source includes them, each marked as such', async () => {
    const { user, ctx } = office({ include: ['reply'] });
    const other = fake.addUser({ username: `ditjen_${randomUUID().slice(0, 6)}` });
    const reposted = fake.addPost(other.id, 'Pengumuman pusat');
    const own = fake.addPost(user.id, 'Jadwal layanan', new Date(Date.now() - 3_000));
    const reply = fake.addPost(user.id, 'Berlaku juga hari Minggu', new Date(Date.now() - 2_000), {
      replyTo: own.id,
    });
    const retweet = fake.addPost(user.id, `RT @${other.username}: ${reposted.text}`, undefined, {
      retweetOf: reposted.id,
    });
    const replies = await read(ctx);
    expect(replies.items.map((item) => [item.key, item.kind])).toEqual([
      [reply.id, 'reply'],
      [own.id, 'post'],
    ]);
    const query = new URL(timelineRequests(user.id).at(-1)!.url, fake.url).searchParams;
    expect(query.get('exclude')).toBe('retweets');
    expect(query.get('expansions')).toContain('referenced_posts');

    const everything = await read(office({ user, include: ['reply', 'repost'] }).ctx);
    expect(everything.items.map((item) => [item.key, item.kind])).toEqual([
      [retweet.id, 'repost'],
      [reply.id, 'reply'],
      [own.id, 'post'],
    ]);
    expect(new URL(timelineRequests(user.id).at(-1)!.url, fake.url).searchParams.has('exclude')).toBe(false);
  });

  it('reads only what is newer than the cursor, and only the last day on a first read', async () => {
    const { user, ctx } = office();
    fake.addPost(user.id, 'Lama sekali', new Date(Date.now() - 3 * DAY));
    const seen = fake.addPost(user.id, 'Sudah dibaca');
    const first = await read(ctx);
    expect(first.items.map((item) => item.key)).toEqual([seen.id]);
    const fresh = fake.addPost(user.id, 'Baru');
    const second = await read(ctx, { cursor: first.cursor });
    expect(second.items.map((item) => item.key)).toEqual([fresh.id]);
    expect(second.cursor).toBe(fresh.id);
    const third = await read(ctx, { cursor: second.cursor });
    expect(third).toEqual({ items: [], cursor: fresh.id });
    const query = new URL(timelineRequests(user.id).at(-1)!.url, fake.url).searchParams;
    expect(query.get('since_id')).toBe(fresh.id);
  });

  it('finds the account with users/me when the source has no stored id', async () => {
    const { user, ctx } = office({ settings: 'none' });
    const post = fake.addPost(user.id, 'Halo');
    const result = await read(ctx);
    expect(result.items[0]!.url).toBe(`https://x.com/${user.username}/status/${post.id}`);
  });

  it('follows pagination tokens and stops at the limit, newest first, among 10,000 posts', async () => {
    const { user, ctx } = office();
    for (let i = 0; i < 10_000; i++) fake.addPost(user.id, `Pos ${i}`, new Date(Date.now() - 10_000 + i));
    const result = await read(ctx, { limit: 150 });
    expect(result.items).toHaveLength(150);
    expect(result.items[0]!.text).toBe('Pos 9999');
    expect(result.items[149]!.text).toBe('Pos 9850');
    expect(new Set(result.items.map((item) => item.key)).size).toBe(150);
    const requests = timelineRequests(user.id);
    expect(requests).toHaveLength(2);
    expect(new URL(requests[1]!.url, fake.url).searchParams.get('pagination_token')).toBeTruthy();
    expect(result.cursor).toBe(result.items[0]!.key);
  });

  it('turns a spent rate-limit window into rate_limited until X resets it, reading nothing', async () => {
    const { user, ctx } = office();
    fake.addPost(user.id, 'Tidak terbaca');
    const resetAt = new Date(Math.ceil((Date.now() + 9 * 60_000) / 1000) * 1000);
    fake.server.inject(fake.rateLimitFault(resetAt, 900), {
      match: (r) => r.url.startsWith(`/2/users/${user.id}/tweets`),
    });
    expect(await failure(read(ctx))).toMatchObject({ kind: 'rate_limited', until: resetAt });
  });

  it('refreshes an expired token and reads on', async () => {
    const { user, tokens, ctx } = office();
    fake.expireAccessToken(tokens.accessToken);
    const post = fake.addPost(user.id, 'Setelah token kedaluwarsa');
    const result = await read(ctx);
    expect(result.items.map((item) => item.key)).toEqual([post.id]);
    expect(ctx.credentials.accessToken).not.toBe(tokens.accessToken);
  });

  it('names a video that has no MP4 as skipped', async () => {
    const { user, ctx } = office();
    fake.addPost(user.id, 'Siaran langsung', undefined, {
      media: [{ type: 'video', bytes: null, mp4: false }],
    });
    const [item] = (await read(ctx)).items;
    expect(item!.media).toHaveLength(1);
    expect(item!.media[0]!.skippedReason).toMatch(/no MP4/);
  });

  it('tells whether the original still exists', async () => {
    const { user, ctx } = office();
    const post = fake.addPost(user.id, 'Akan dihapus');
    const origin = {
      platform: 'x' as const,
      nativeId: post.id,
      url: null,
      authorHandle: null,
      publishedAt: post.createdAt.toISOString(),
    };
    expect(await xAdapter.source!.originExists!(ctx, origin)).toBe(true);
    fake.deletePost(post.id);
    expect(await xAdapter.source!.originExists!(ctx, origin)).toBe(false);
  });

  it('refuses a malformed answer and an oversized one whole', async () => {
    const { user, ctx } = office();
    fake.addPost(user.id, 'Ada');
    const timeline = { match: (r: { url: string }) => r.url.startsWith(`/2/users/${user.id}/tweets`) };
    fake.server.inject(malformedJsonFault, timeline);
    expect((await failure(read(ctx))).kind).toBe('retry');
    fake.server.inject(oversizedJsonFault(), timeline);
    expect(await failure(read(ctx))).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining(OVERSIZED_MESSAGE),
    });
    // The source reads normally again afterwards.
    expect((await read(ctx)).items).toHaveLength(1);
  });
});
