import { beforeEach, describe, expect, it } from 'vitest';
import { youtubeAdapter } from '../../../src/platforms/youtube';
import { createCredentialStore, createPlatformContext, testImage } from '../../fakes/platform-context';
import { OVERSIZED_MESSAGE } from '../../fakes/source-faults';
import { createFakeYoutube } from '../../fakes/youtube';
import { bytesAt, DAY, failure, sourceRead, useFake } from './source-support';

const CLIENT = { clientId: 'gaung-youtube-source', clientSecret: 'rahasia-klien' };
const API_KEY = 'AIzaSyFakeKeyForGaungSourcesTest0000000';
const source = youtubeAdapter.source!;

describe('YouTube channel as a source: the public channel feed, with the Data API where a key or token is set', () => {
  const fake = useFake(createFakeYoutube());
  fake.registerClient(CLIENT.clientId, CLIENT.clientSecret);
  fake.registerApiKey(API_KEY);
  beforeEach(() => fake.setQuota({ uploads: 100, units: 10_000 }));

  function office(with_: 'nothing' | 'key' | 'token' = 'nothing') {
    const channelId = fake.addChannel({ title: 'Kanim Pontianak' }).id;
    const credentials =
      with_ === 'token'
        ? (() => {
            const tokens = fake.issueTokens(channelId, { clientId: CLIENT.clientId });
            return {
              accessToken: tokens.accessToken,
              refreshToken: tokens.refreshToken,
              expiresAt: tokens.expiresAt.toISOString(),
            };
          })()
        : {};
    const ctx = createPlatformContext({
      platform: 'youtube',
      store: createCredentialStore(credentials),
      settings: { channelId },
      endpoints: { youtube: fake.url, youtubeFeeds: fake.url },
      // The operator's project key (GAUNG_YOUTUBE_API_KEY), where one is configured.
      ...(with_ === 'key' ? { apps: { youtube: { apiKey: API_KEY } } } : {}),
    });
    return { channelId, ctx };
  }

  const read = sourceRead(youtubeAdapter);
  const long = `Pelayanan paspor kini buka hari Sabtu di seluruh kantor imigrasi. ${'Rincian jadwal. '.repeat(20)}`;

  it('reads a video and a Short as copies: text with the link, the thumbnail as the one image', async () => {
    const { channelId, ctx } = office();
    const still = await testImage({ hue: 70, format: 'jpeg' });
    const video = fake.uploadOnYoutube(channelId, {
      title: 'Layanan paspor Sabtu',
      description: 'Jadwal & lokasi',
      durationSeconds: 185,
      still,
      publishedAt: new Date(Date.now() - 60_000),
    });
    const short = fake.uploadOnYoutube(channelId, {
      title: 'Antre tertib #shorts',
      description: '',
      short: true,
      durationSeconds: 30,
      still,
    });
    fake.uploadOnYoutube(channelId, {
      title: 'Lama',
      description: '',
      durationSeconds: 10,
      still,
      publishedAt: new Date(Date.now() - 3 * DAY),
    });

    const result = await read(ctx);

    expect(result.items.map((item) => item.key)).toEqual([short.id, video.id]);
    const [shortItem, videoItem] = result.items;
    expect(videoItem).toMatchObject({
      url: `https://www.youtube.com/watch?v=${video.id}`,
      text: `Layanan paspor Sabtu\n\nJadwal & lokasi\n\nhttps://www.youtube.com/watch?v=${video.id}`,
      kind: 'post',
      origin: {
        platform: 'youtube',
        nativeId: video.id,
        authorHandle: 'Kanim Pontianak',
        ref: { videoId: video.id },
      },
    });
    expect(videoItem!.media).toHaveLength(1);
    expect(videoItem!.media[0]).toMatchObject({ kind: 'image', altText: 'Layanan paspor Sabtu' });
    expect((await bytesAt(videoItem!.media[0]!.url)).equals(still)).toBe(true);
    expect(shortItem!.url).toBe(`https://www.youtube.com/shorts/${short.id}`);
    expect(shortItem!.origin.ref).toMatchObject({ short: 'true' });
    // Without a key or token the Data API is not called.
    expect(fake.usage().units).toBe(0);
    expect(await source.originExists!(ctx, videoItem!.origin)).toBe('cannot_tell');
  });

  it('takes the full description and the duration from videos.list with an API key, and tells deleted videos', async () => {
    const { channelId, ctx } = office('key');
    const video = fake.uploadOnYoutube(channelId, {
      title: 'Sosialisasi',
      description: long,
      durationSeconds: 65,
      still: await testImage({ format: 'jpeg' }),
    });
    const [item] = (await read(ctx)).items;
    expect(item!.text).toBe(`Sosialisasi\n\n${long}\n\nhttps://www.youtube.com/watch?v=${video.id}`);
    expect(item!.origin.ref).toMatchObject({ duration: 'PT1M5S' });
    expect(item!.media[0]!.url).toContain('maxresdefault');
    const call = fake.server.received.find((r) => r.url.startsWith('/youtube/v3/videos?'))!;
    expect(new URL(call.url, fake.url).searchParams.get('part')).toBe('snippet,contentDetails');
    expect(await source.originExists!(ctx, item!.origin)).toBe(true);
    fake.deleteVideo(video.id);
    expect(await source.originExists!(ctx, item!.origin)).toBe(false);
  });

  it('uses the source tokens when it has them, and an expired token is auth', async () => {
    const { channelId, ctx } = office('token');
    fake.uploadOnYoutube(channelId, {
      title: 'Dengan token',
      description: 'Deskripsi',
      durationSeconds: 5,
      still: await testImage({ format: 'jpeg' }),
    });
    expect((await read(ctx)).items[0]!.origin.ref).toMatchObject({ duration: 'PT0M5S' });
    fake.expireAccessTokens();
    expect((await failure(read(ctx))).kind).toBe('auth');
  });

  it('reads only what is newer than the cursor', async () => {
    const { channelId, ctx } = office();
    const still = await testImage({ format: 'jpeg' });
    fake.uploadOnYoutube(channelId, { title: 'Satu', description: '', durationSeconds: 5, still });
    const first = await read(ctx);
    expect(first.items).toHaveLength(1);
    const fresh = fake.uploadOnYoutube(channelId, {
      title: 'Dua',
      description: '',
      durationSeconds: 5,
      still,
      publishedAt: new Date(Date.now() + 2_000),
    });
    const second = await read(ctx, { cursor: first.cursor });
    expect(second.items.map((item) => item.key)).toEqual([fresh.id]);
    expect(await read(ctx, { cursor: second.cursor })).toEqual({ items: [], cursor: second.cursor });
  });

  it('refuses an unknown channel, a quota spent, a feed that is not XML and one of 50 MB', async () => {
    const { channelId, ctx } = office('key');
    fake.uploadOnYoutube(channelId, {
      title: 'Ada',
      description: '',
      durationSeconds: 5,
      still: await testImage({ format: 'jpeg' }),
    });
    const unknown = createPlatformContext({
      platform: 'youtube',
      store: createCredentialStore({}),
      settings: { channelId: 'UC0000000000000000000000' },
      endpoints: { youtube: fake.url, youtubeFeeds: fake.url },
    });
    expect(await failure(read(unknown))).toMatchObject({ kind: 'invalid' });
    fake.setQuota({ units: 0 });
    expect((await failure(read(ctx))).kind).toBe('rate_limited');
    fake.setQuota({ units: 10_000 });
    const feed = { match: (r: { url: string }) => r.url.startsWith('/feeds/videos.xml') };
    fake.server.inject(
      {
        kind: 'respond',
        status: 200,
        headers: { 'content-type': 'text/html' },
        body: '<html><body>Consent</body></html>',
      },
      feed,
    );
    expect((await failure(read(ctx))).kind).toBe('retry');
    fake.server.inject(
      {
        kind: 'respond',
        status: 200,
        headers: { 'content-type': 'application/atom+xml' },
        body: `<feed xmlns="http://www.w3.org/2005/Atom"><title>${'x'.repeat(50 * 1024 * 1024)}</title></feed>`,
      },
      feed,
    );
    expect(await failure(read(ctx))).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining(OVERSIZED_MESSAGE),
    });
    expect((await read(ctx)).items).toHaveLength(1);
  });
});
