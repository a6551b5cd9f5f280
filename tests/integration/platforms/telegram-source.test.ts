import { describe, expect, it } from 'vitest';
import { readChannelUpdates, TELEGRAM_DOWNLOAD_MAX_BYTES } from '../../../src/platforms/telegram-source';
import { PlatformError } from '../../../src/platforms/types';
import { testImage, testVideo } from '../../fakes/platform-context';
import { OVERSIZED_MESSAGE, oversizedJsonFault } from '../../fakes/source-faults';
import { createTelegramFake, telegramTooManyRequests } from '../../fakes/telegram';
import { bytesAt, failure, useFake } from './source-support';

describe('Telegram channels as sources: the source bot reads channel posts with getUpdates from the fake Bot API', () => {
  const fake = useFake(createTelegramFake());
  const logged: unknown[] = [];
  const log = {
    info: (obj: object, msg?: string) => logged.push([obj, msg]),
    warn: (obj: object, msg?: string) => logged.push([obj, msg]),
  };

  /** Reads as a round a minute later would, when the albums posted just now have settled. */
  const read = (offset: number | null) =>
    readChannelUpdates({
      botToken: fake.bot.token,
      apiUrl: fake.url,
      offset,
      log,
      now: new Date(Date.now() + 60_000),
    });
  /** Reads everything pending, as the poller does on its first round. */
  const drain = () => read(null);

  it('groups posts by channel, assembles an album into one item, finds files, skips what is over 20 MB and ignores edits', async () => {
    await drain();
    const pontianak = fake.createChat({ title: 'Kanim Pontianak', username: 'kanim_pontianak' });
    const batam = fake.createChat({ title: 'Kanim Batam' });
    const photos = await Promise.all([20, 220].map((hue) => testImage({ hue, format: 'jpeg' })));
    const album = fake.postInChannel(pontianak.id, {
      text: 'Layanan Sabtu',
      media: photos.map((bytes) => ({ kind: 'photo' as const, bytes })),
    });
    const [text] = fake.postInChannel(batam.id, { text: 'Pengumuman Batam' });
    fake.editInChannel(batam.id, text!.messageId, 'Pengumuman Batam (ralat)');
    const video = await testVideo();
    const [big] = fake.postInChannel(pontianak.id, {
      text: 'Video panjang',
      media: [{ kind: 'video', bytes: video, claimedBytes: TELEGRAM_DOWNLOAD_MAX_BYTES + 1 }],
    });
    const [clip] = fake.postInChannel(pontianak.id, {
      text: 'Video pendek',
      media: [{ kind: 'video', bytes: video }],
    });
    const [forward] = fake.postInChannel(pontianak.id, {
      text: 'Diteruskan',
      forwardedFrom: { chatId: batam.id, messageId: text!.messageId },
    });

    const result = await drain();

    expect([...result.byChat.keys()].sort()).toEqual([String(pontianak.id), String(batam.id)].sort());
    const items = result.byChat.get(String(pontianak.id))!;
    expect(items.map((item) => [item.key, item.kind])).toEqual([
      [`${pontianak.id}:${album[0]!.messageId}`, 'post'],
      [`${pontianak.id}:${big!.messageId}`, 'post'],
      [`${pontianak.id}:${clip!.messageId}`, 'post'],
      [`${pontianak.id}:${forward!.messageId}`, 'repost'],
    ]);
    const [albumItem, bigItem, clipItem] = items;
    expect(albumItem).toMatchObject({
      url: `https://t.me/kanim_pontianak/${album[0]!.messageId}`,
      text: 'Layanan Sabtu',
      origin: {
        platform: 'telegram',
        nativeId: String(album[0]!.messageId),
        authorHandle: '@kanim_pontianak',
        ref: {
          chatId: String(pontianak.id),
          messageId: String(album[0]!.messageId),
          messageIds: album.map((m) => m.messageId).join(','),
        },
      },
    });
    expect(albumItem!.media.map((m) => [m.kind, m.secretUrl])).toEqual([
      ['image', true],
      ['image', true],
    ]);
    for (const [index, medium] of albumItem!.media.entries())
      expect((await bytesAt(medium.url)).equals(photos[index]!)).toBe(true);
    expect(bigItem!.media).toHaveLength(1);
    expect(bigItem!.media[0]!.skippedReason).toMatch(/larger than the 20 MB/);
    expect(bigItem!.media[0]!.url).toBe('');
    expect((await bytesAt(clipItem!.media[0]!.url)).equals(video)).toBe(true);
    const batamItems = result.byChat.get(String(batam.id))!;
    expect(batamItems).toHaveLength(1);
    expect(batamItems[0]).toMatchObject({
      text: 'Pengumuman Batam',
      url: expect.stringMatching(/^https:\/\/t\.me\/c\//),
    });

    // Only channel posts were asked for; the token and the file paths never reach the log.
    const request = fake.server.received.filter((r) => r.url.endsWith('/getUpdates')).at(-1)!;
    expect((request.body as { allowed_updates: string[] }).allowed_updates).toEqual(['channel_post']);
    const everything = JSON.stringify(logged);
    expect(everything).not.toContain(fake.bot.token);
    for (const path of fake.filePaths()) expect(everything).not.toContain(path);

    // The next offset confirms what was read: nothing comes twice.
    const again = await read(result.nextOffset);
    expect(again.byChat.size).toBe(0);
    expect(again.nextOffset).toBe(result.nextOffset);
  });

  it('passes flood control on as rate_limited, refuses an oversized answer, and a revoked token is auth without the token in the message', async () => {
    const offset = (await drain()).nextOffset;
    fake.server.inject(telegramTooManyRequests(17), { match: (r) => r.url.endsWith('/getUpdates') });
    expect((await failure(read(offset))).kind).toBe('rate_limited');
    fake.server.inject(oversizedJsonFault(), { match: (r) => r.url.endsWith('/getUpdates') });
    expect(await failure(read(offset))).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining(OVERSIZED_MESSAGE),
    });
    fake.revokeToken();
    const revoked = await read(offset).catch((e: unknown) => e);
    expect(revoked).toBeInstanceOf(PlatformError);
    expect((revoked as PlatformError).classification.kind).toBe('auth');
    expect((revoked as PlatformError).message).not.toContain(fake.bot.token);
  });
});
