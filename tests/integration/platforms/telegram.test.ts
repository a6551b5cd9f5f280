import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTelegramAdapter } from '../../../src/platforms/telegram';
import type { ErrorClass, PlatformAdapter } from '../../../src/platforms/types';
import {
  createCredentialStore,
  createPlatformContext,
  mediaFromBuffer,
  publishRequest,
  testImage,
  testVideo,
} from '../../fakes/platform-context';
import {
  createTelegramFake,
  type TelegramChat,
  type TelegramFake,
  telegramServerError,
  telegramTooManyRequests,
} from '../../fakes/telegram';
import { itWithFfmpeg } from '../../helpers/ffmpeg';

async function failure(adapter: PlatformAdapter, call: Promise<unknown>): Promise<ErrorClass> {
  try {
    await call;
  } catch (error) {
    return adapter.classifyError(error);
  }
  throw new Error('the call succeeded');
}

describe('Telegram adapter against the fake Bot API', () => {
  const adapter = createTelegramAdapter({ timeoutMs: 3_000 });
  let fake: TelegramFake;
  let channel: TelegramChat;
  let office: TelegramChat;

  beforeAll(async () => {
    fake = createTelegramFake();
    await fake.start();
    channel = fake.createChat({ title: 'Ditjen Imigrasi', username: 'imigrasi_pusat' });
    office = fake.createChat({ title: 'Kanim Pontianak', username: 'kanim_pontianak', botStatus: 'member' });
  });
  afterAll(() => fake.stop());
  beforeEach(() => fake.server.clearFaults());

  const context = (chatId = '@imigrasi_pusat', botToken = fake.bot.token) =>
    createPlatformContext({
      platform: 'telegram',
      store: createCredentialStore({ botToken }),
      settings: { chatId },
      endpoints: { telegram: fake.url },
    });
  const unique = (text: string) => `${text} ${randomUUID().slice(0, 8)}`;
  const calling = (method: string) => ({
    match: (r: { method: string; url: string }) => r.method === 'POST' && r.url.endsWith(`/${method}`),
  });
  const image = async (hue: number) =>
    mediaFromBuffer(await testImage({ hue }), { kind: 'image', mime: 'image/png' });
  const video = async () => mediaFromBuffer(await testVideo(), { kind: 'video', mime: 'video/mp4' });

  it('sends a text message with the link and answers its t.me address', async () => {
    const text = unique('Layanan paspor buka Sabtu.');
    const result = await adapter.publish(
      context(),
      publishRequest({ deliveryId: randomUUID(), text, link: 'https://imigrasi.go.id/e' }),
    );
    const message = fake.messages(channel.id).at(-1)!;
    expect(result).toEqual({
      remoteId: String(message.messageId),
      url: `https://t.me/imigrasi_pusat/${message.messageId}`,
    });
    expect(message).toMatchObject({ kind: 'text', text: `${text}\n\nhttps://imigrasi.go.id/e` });
  });

  it('uploads a photo as multipart with its caption', async () => {
    const text = unique('Foto pelayanan.');
    await adapter.publish(
      context(),
      publishRequest({ deliveryId: randomUUID(), text, media: [await image(40)] }),
    );
    expect(fake.messages(channel.id).at(-1)).toMatchObject({ kind: 'photo', caption: text });
  });

  itWithFfmpeg('uploads a video', async () => {
    const text = unique('Video pelayanan.');
    await adapter.publish(
      context(),
      publishRequest({ deliveryId: randomUUID(), text, media: [await video()] }),
    );
    expect(fake.messages(channel.id).at(-1)).toMatchObject({ kind: 'video', caption: text });
  });

  itWithFfmpeg('sends several media as one album with the caption on the first item', async () => {
    const text = unique('Album kegiatan.');
    const result = await adapter.publish(
      context(),
      publishRequest({
        deliveryId: randomUUID(),
        text,
        media: [await image(10), await video(), await image(90)],
      }),
    );
    const album = fake.messages(channel.id).slice(-3);
    expect(album.map((m) => m.kind)).toEqual(['photo', 'video', 'photo']);
    expect(album.map((m) => m.caption)).toEqual([text, null, null]);
    expect(new Set(album.map((m) => m.mediaGroupId)).size).toBe(1);
    expect(result.remoteId).toBe(String(album[0]!.messageId));
  });

  it('refuses an album over 10 media or a caption over 1024 characters before calling Telegram', async () => {
    const before = fake.server.received.length;
    const eleven = await Promise.all(Array.from({ length: 11 }, (_, i) => image(i * 20)));
    expect(
      (
        await failure(
          adapter,
          adapter.publish(context(), publishRequest({ deliveryId: randomUUID(), media: eleven })),
        )
      ).kind,
    ).toBe('invalid');
    const long = publishRequest({
      deliveryId: randomUUID(),
      text: 'a'.repeat(1025),
      media: [await image(1)],
    });
    expect((await failure(adapter, adapter.publish(context(), long))).kind).toBe('invalid');
    expect(fake.server.received.length).toBe(before);
  });

  it('reposts by forwarding the office post from its t.me address', async () => {
    const original = fake.seedMessage(office.id, 'Pos asli dari Kanim Pontianak');
    const result = await adapter.repost!(
      context(),
      publishRequest({
        deliveryId: randomUUID(),
        mode: 'repost',
        sourceUrl: `https://t.me/kanim_pontianak/${original.messageId}`,
      }),
    );
    const forwarded = fake.messages(channel.id).at(-1)!;
    expect(forwarded).toMatchObject({
      kind: 'forward',
      text: 'Pos asli dari Kanim Pontianak',
      forwardedFrom: { chatId: office.id, messageId: original.messageId },
    });
    expect(result.remoteId).toBe(String(forwarded.messageId));
  });

  it('forwards from a private channel address (t.me/c/…) too', async () => {
    const hidden = fake.createChat({ title: 'Kanim Tertutup', botStatus: 'member' });
    const original = fake.seedMessage(hidden.id, 'Pos kanal privat');
    await adapter.repost!(
      context(),
      publishRequest({
        deliveryId: randomUUID(),
        mode: 'repost',
        sourceUrl: `https://t.me/c/${String(hidden.id).slice(4)}/${original.messageId}`,
      }),
    );
    expect(fake.messages(channel.id).at(-1)!.forwardedFrom).toEqual({
      chatId: hidden.id,
      messageId: original.messageId,
    });
  });

  it('classifies a repost of something that is not a Telegram post, or does not exist, as invalid', async () => {
    const notTelegram = publishRequest({
      deliveryId: randomUUID(),
      mode: 'repost',
      sourceUrl: 'https://x.com/a/status/1',
    });
    expect((await failure(adapter, adapter.repost!(context(), notTelegram))).kind).toBe('invalid');
    const missing = publishRequest({
      deliveryId: randomUUID(),
      mode: 'repost',
      sourceUrl: 'https://t.me/kanim_pontianak/999',
    });
    const classification = await failure(adapter, adapter.repost!(context(), missing));
    expect(classification).toMatchObject({ kind: 'invalid', httpStatus: 400 });
    expect(classification.message).toContain('message to forward not found');
  });

  it('waits as long as Telegram says after a 429', async () => {
    fake.server.inject(telegramTooManyRequests(35), calling('sendMessage'));
    const before = Date.now();
    const classification = await failure(
      adapter,
      adapter.publish(context(), publishRequest({ deliveryId: randomUUID() })),
    );
    expect(classification).toMatchObject({ kind: 'rate_limited', scope: 'channel', httpStatus: 429 });
    const until = (classification as { until: Date }).until.getTime();
    expect(until).toBeGreaterThanOrEqual(before + 35_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 35_000);
  });

  it('retries after a 5xx', async () => {
    fake.server.inject(telegramServerError, calling('sendMessage'));
    const classification = await failure(
      adapter,
      adapter.publish(context(), publishRequest({ deliveryId: randomUUID() })),
    );
    expect(classification).toMatchObject({ kind: 'retry', httpStatus: 502 });
  });

  it('asks for re-authorisation when the bot token is refused', async () => {
    const wrongToken = `${fake.bot.id}:AAF${'y'.repeat(32)}`;
    const classification = await failure(
      adapter,
      adapter.publish(context('@imigrasi_pusat', wrongToken), publishRequest({ deliveryId: randomUUID() })),
    );
    expect(classification).toMatchObject({ kind: 'auth', httpStatus: 401 });
    expect(classification.message).toContain('Unauthorized');
  });

  it('classifies what the Bot API refuses (a chat it cannot find) as invalid', async () => {
    const classification = await failure(
      adapter,
      adapter.publish(context('@kanal_tidak_ada'), publishRequest({ deliveryId: randomUUID() })),
    );
    expect(classification).toMatchObject({ kind: 'invalid', httpStatus: 400 });
    expect(classification.message).toContain('chat not found');
  });

  it('cannot tell whether a message exists after a dropped connection, stored or not', async () => {
    const stored = publishRequest({ deliveryId: randomUUID(), text: unique('Tersimpan lalu putus.') });
    fake.server.inject({ kind: 'drop-after' }, calling('sendMessage'));
    expect((await failure(adapter, adapter.publish(context(), stored))).kind).toBe('unknown');
    expect(fake.messages(channel.id).at(-1)!.text).toBe(stored.text);
    expect(await adapter.findPublished(context(), stored)).toBe('cannot_tell');

    const lost = publishRequest({ deliveryId: randomUUID(), text: unique('Tidak pernah sampai.') });
    fake.server.inject({ kind: 'drop-before' }, calling('sendMessage'));
    expect((await failure(adapter, adapter.publish(context(), lost))).kind).toBe('unknown');
    expect(fake.messages(channel.id).some((m) => m.text === lost.text)).toBe(false);
    expect(await adapter.findPublished(context(), lost)).toBe('cannot_tell');
  });

  it('treats a request that timed out as unknown', async () => {
    const quick = createTelegramAdapter({ timeoutMs: 200 });
    fake.server.inject({ kind: 'slow', ms: 1_000 }, calling('sendMessage'));
    expect(
      (await failure(quick, quick.publish(context(), publishRequest({ deliveryId: randomUUID() })))).kind,
    ).toBe('unknown');
  });

  it('verifies the token, the chat, and that the bot may post there', async () => {
    expect(await adapter.verifyCredentials(context())).toEqual({
      remoteId: String(channel.id),
      handle: '@imigrasi_pusat',
      name: 'Ditjen Imigrasi',
    });
    const classification = await failure(adapter, adapter.verifyCredentials(context('@kanim_pontianak')));
    expect(classification.kind).toBe('auth');
    expect(classification.message).toContain('administrator');
  });
});
