import type { AddressInfo } from 'node:net';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { postMedia, posts, telegramSourceUpdates } from '../../src/db/schema';
import { ALBUM_SETTLE_SECONDS } from '../../src/platforms/telegram-source';
import { runTelegramBotRound, TELEGRAM_HOOK_PATH } from '../../src/services/telegram-sources';
import { testImage } from '../fakes/platform-context';
import { createTelegramFake, type TelegramFake, telegramServerError } from '../fakes/telegram';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, type TestOrg } from '../helpers/org';

/**
 * The Telegram source bot by webhook, as it works when Gaung is reachable over HTTPS: a round sets
 * the webhook on the fake Bot API (validated against the Bot API description), which then POSTs
 * each channel post to Gaung's hook with the secret token, one request per update and again until
 * it gets a 2xx; the hook stores the update and the bot's round brings it in. The app listens on
 * plain HTTP on loopback: the fake sends what is addressed to the HTTPS URL there.
 */
const PUBLIC_URL = 'https://gaung.imigrasi.example';

describe.each(testDrivers())('Telegram source bot by webhook on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let telegram: TelegramFake;
  /** The time the app sees: albums younger than the settle time wait for a later round. */
  let clockOffsetMs = 60_000;

  beforeAll(async () => {
    telegram = createTelegramFake();
    await telegram.start();
    t = await createTestApp(driver, {
      env: {
        GAUNG_PUBLIC_URL: PUBLIC_URL,
        GAUNG_TELEGRAM_API_URL: telegram.url,
        GAUNG_TELEGRAM_SOURCE_BOT_TOKEN: telegram.bot.token,
      },
      now: () => new Date(Date.now() + clockOffsetMs),
    });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    telegram.deliverTo(`http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`);
    org = await seedTestOrg(t.ctx);
  });
  afterAll(async () => {
    await telegram?.stop();
    await t?.close();
  });
  beforeEach(async () => {
    telegram.server.clearFaults();
    clockOffsetMs = 60_000;
    await t.ctx.queues.ingest.obliterate({ force: true });
  });

  const office = () => org.user('officeA1', 'contributor');
  const addSource = async (title: string, username: string) => {
    const chat = telegram.createChat({ title, username });
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/sources',
      headers: office().headers,
      payload: { kind: 'telegram', handle: username },
    });
    expect(created.statusCode, created.body).toBe(201);
    return { chat, source: created.json() as { id: string } };
  };
  const postsOf = (sourceId: string) =>
    t.ctx.db.select().from(posts).where(eq(posts.sourceId, sourceId)).orderBy(asc(posts.createdAt));
  const mediaOf = (postId: string) => t.ctx.db.select().from(postMedia).where(eq(postMedia.postId, postId));
  const stored = () => t.ctx.db.select().from(telegramSourceUpdates).orderBy(telegramSourceUpdates.updateId);
  const calls = (method: string) => telegram.server.received.filter((r) => r.url.endsWith(`/${method}`));
  const hook = (headers: Record<string, string>, payload: object) =>
    t.app.inject({ method: 'POST', url: TELEGRAM_HOOK_PATH, headers, payload });
  const secretHeader = () => ({ 'x-telegram-bot-api-secret-token': telegram.webhook()!.secretToken! });
  const channelPostOf = (chatId: number, messageId: number) => ({
    message_id: messageId,
    date: Math.floor(Date.now() / 1000),
    chat: { id: chatId, type: 'channel', title: 'Kanal' },
    text: 'Kabar',
  });

  it('sets the webhook at the HTTPS address with a secret token and channel posts only, and checks it once per poll interval', async () => {
    expect(await runTelegramBotRound(t.ctx)).toMatchObject({ outcome: 'read' });
    expect(telegram.webhook()).toEqual({
      url: `${PUBLIC_URL}${TELEGRAM_HOOK_PATH}`,
      secretToken: expect.stringMatching(/^[A-Za-z0-9_-]{1,256}$/),
      allowedUpdates: ['channel_post'],
    });
    expect(calls('setWebhook')).toHaveLength(1);
    const asked = calls('getWebhookInfo').length;
    await runTelegramBotRound(t.ctx);
    expect(calls('getWebhookInfo')).toHaveLength(asked);

    // Removed behind Gaung's back: set again once the check is due.
    await fetch(`${telegram.url}/bot${telegram.bot.token}/deleteWebhook`, { method: 'POST' });
    clockOffsetMs += 301_000;
    await runTelegramBotRound(t.ctx);
    expect(calls('setWebhook')).toHaveLength(2);
    expect(telegram.webhook()?.url).toBe(`${PUBLIC_URL}${TELEGRAM_HOOK_PATH}`);
    expect(calls('getUpdates')).toHaveLength(0);
    expect(t.logs.text).not.toContain(telegram.bot.token);
    expect(t.logs.text).not.toContain(telegram.webhook()!.secretToken!);
  });

  it('brings a delivered channel post in as a post of the office with its media and origin', async () => {
    await runTelegramBotRound(t.ctx);
    const { chat, source } = await addSource('Kanim Tarakan', 'kanim_tarakan');
    const photo = await testImage({ hue: 30, format: 'jpeg' });
    const [message] = telegram.postInChannel(chat.id, {
      text: 'Layanan paspor keliling',
      media: [{ kind: 'photo', bytes: photo }],
    });
    await telegram.webhookDelivered();
    expect(telegram.webhookDeliveries.at(-1)).toEqual({ updateId: expect.any(Number), status: 200 });
    expect(await stored()).toHaveLength(1);
    const jobs = await t.ctx.queues.ingest.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(jobs.map((job) => job.name)).toContain('telegram-bot');

    const round = await runTelegramBotRound(t.ctx);
    expect(round).toMatchObject({ outcome: 'read', imported: { [source.id]: 1 }, unrouted: 0 });
    const [post] = await postsOf(source.id);
    expect(post).toMatchObject({
      status: 'draft',
      body: 'Layanan paspor keliling',
      sourceUrl: `https://t.me/kanim_tarakan/${message!.messageId}`,
    });
    expect(post!.origin).toMatchObject({
      platform: 'telegram',
      nativeId: String(message!.messageId),
      authorHandle: '@kanim_tarakan',
      ref: { chatId: String(chat.id), messageId: String(message!.messageId) },
    });
    expect(await mediaOf(post!.id)).toHaveLength(1);
    expect(await stored()).toHaveLength(0);
    expect(t.logs.text).not.toContain(telegram.bot.token);
  });

  it('assembles an album delivered in separate requests into one post, once it has settled', async () => {
    await runTelegramBotRound(t.ctx);
    const { chat, source } = await addSource('Kanim Nunukan', 'kanim_nunukan');
    const photos = await Promise.all([60, 140, 250].map((hue) => testImage({ hue, format: 'jpeg' })));
    clockOffsetMs = 0;
    const sent = telegram.webhookDeliveries.length;
    const album = telegram.postInChannel(chat.id, {
      text: 'Tiga foto',
      media: photos.map((bytes) => ({ kind: 'photo' as const, bytes })),
    });
    // A later post of another channel does not make the album complete: it waits behind it.
    const stranger = telegram.createChat({ title: 'Kanal tetangga' });
    telegram.postInChannel(stranger.id, { text: 'Sesudah album' });
    await telegram.webhookDelivered();
    expect(telegram.webhookDeliveries.slice(sent).map((d) => d.status)).toEqual([200, 200, 200, 200]);
    expect((await stored()).map((row) => row.channelPost.media_group_id ?? null)).toEqual([
      ...Array(3).fill(expect.any(String)),
      null,
    ]);
    // The album's rounds wait for it to settle.
    const jobs = await t.ctx.queues.ingest.getJobs(['delayed']);
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) expect(job.opts.delay).toBeGreaterThanOrEqual(ALBUM_SETTLE_SECONDS * 1000 - 50);

    // Read too early, the album waits, and a round is queued for when it settles.
    await t.ctx.queues.ingest.obliterate({ force: true });
    expect(await runTelegramBotRound(t.ctx)).toMatchObject({ imported: {}, unrouted: 0 });
    expect(await stored()).toHaveLength(4);
    expect((await t.ctx.queues.ingest.getJobs(['delayed'])).map((job) => job.name)).toEqual(['telegram-bot']);

    clockOffsetMs = 60_000;
    expect(await runTelegramBotRound(t.ctx)).toMatchObject({ imported: { [source.id]: 1 }, unrouted: 1 });
    const [post] = await postsOf(source.id);
    expect(post!.origin).toMatchObject({
      nativeId: String(album[0]!.messageId),
      ref: { messageIds: album.map((m) => m.messageId).join(',') },
    });
    expect(await mediaOf(post!.id)).toHaveLength(3);
    expect(await stored()).toHaveLength(0);
  });

  it('refuses a missing or wrong secret token with 401 and stores nothing; drops updates that are not channel posts', async () => {
    await runTelegramBotRound(t.ctx);
    const update = { update_id: 900_000_001, channel_post: channelPostOf(-1_009_999_999_999, 1) };
    const wrong: Record<string, string>[] = [{}, { 'x-telegram-bot-api-secret-token': 'bukan-rahasia' }];
    for (const headers of wrong) {
      const refused = await hook(headers, update);
      expect(refused.statusCode).toBe(401);
      expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(refused.json()).toMatchObject({
        code: 'invalid_secret_token',
        errors: [{ field: 'x-telegram-bot-api-secret-token', code: 'invalid_secret_token' }],
      });
    }
    // A session is no credential here.
    expect((await hook(office().headers, update)).statusCode).toBe(401);
    expect(await stored()).toHaveLength(0);

    const malformed = await hook(secretHeader(), { update_id: 'satu', channel_post: { chat: {} } });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().errors.map((e: { field: string }) => e.field)).toContain('update_id');
    const edited = await hook(secretHeader(), {
      update_id: 900_000_002,
      edited_channel_post: channelPostOf(-1_009_999_999_999, 1),
    });
    expect(edited.statusCode).toBe(200);
    expect(await stored()).toHaveLength(0);
  });

  it('makes one post of an update Telegram delivers again after losing the answer', async () => {
    await runTelegramBotRound(t.ctx);
    const { chat, source } = await addSource('Kanim Sebatik', 'kanim_sebatik');
    telegram.loseWebhookAnswers(1);
    const sent = telegram.webhookDeliveries.length;
    telegram.postInChannel(chat.id, { text: 'Dikirim dua kali' });
    await telegram.webhookDelivered();
    const deliveries = telegram.webhookDeliveries.slice(sent);
    expect(deliveries.map((d) => d.status)).toEqual([null, 200]);
    expect(deliveries[0]!.updateId).toBe(deliveries[1]!.updateId);
    expect(await stored()).toHaveLength(1);
    expect(await runTelegramBotRound(t.ctx)).toMatchObject({ imported: { [source.id]: 1 } });
    expect(await postsOf(source.id)).toHaveLength(1);
  });

  it('reads a stored update again after a round that did not finish, and makes one post of it', async () => {
    await runTelegramBotRound(t.ctx);
    const { chat, source } = await addSource('Kanim Malinau', 'kanim_malinau');
    const photo = await testImage({ hue: 300, format: 'jpeg' });
    telegram.postInChannel(chat.id, { text: 'Sekali saja', media: [{ kind: 'photo', bytes: photo }] });
    await telegram.webhookDelivered();
    telegram.server.inject(telegramServerError, { match: (r) => r.url.endsWith('/getFile') });
    expect(await runTelegramBotRound(t.ctx)).toMatchObject({ outcome: 'failed' });
    const [kept] = await stored();
    expect(kept).toBeDefined();

    expect(await runTelegramBotRound(t.ctx)).toMatchObject({ imported: { [source.id]: 1 } });
    expect(await stored()).toHaveLength(0);
    // A round that saved the post and died before letting the update go: the next one reads it again.
    await t.ctx.db.insert(telegramSourceUpdates).values(kept!);
    expect(await runTelegramBotRound(t.ctx)).toMatchObject({ imported: { [source.id]: 0 } });
    expect(await postsOf(source.id)).toHaveLength(1);
    expect(await stored()).toHaveLength(0);
  });

  it('drops the posts of channels no source reads', async () => {
    await runTelegramBotRound(t.ctx);
    const stranger = telegram.createChat({ title: 'Kanal lain' });
    telegram.postInChannel(stranger.id, { text: 'Bukan sumber siapa pun' });
    await telegram.webhookDelivered();
    expect(await stored()).toHaveLength(1);
    expect(await runTelegramBotRound(t.ctx)).toMatchObject({ outcome: 'read', unrouted: 1 });
    expect(await stored()).toHaveLength(0);
    expect(t.logs.text).toContain('channel posts of chats no source reads');
  });

  it('a bot gone back to polling first reads what its webhook stored, then has the webhook deleted and polls', async () => {
    await runTelegramBotRound(t.ctx);
    const { chat, source } = await addSource('Kanim Entikong', 'kanim_entikong');
    telegram.postInChannel(chat.id, { text: 'Diterima sebelum beralih' });
    await telegram.webhookDelivered();
    expect(await stored()).toHaveLength(1);
    // The operator gives Gaung a plain HTTP address: the bot reads by polling from now on.
    const config = t.ctx.config as { GAUNG_PUBLIC_URL?: string };
    config.GAUNG_PUBLIC_URL = 'http://gaung.imigrasi.example';
    try {
      expect(await runTelegramBotRound(t.ctx)).toMatchObject({
        outcome: 'read',
        imported: { [source.id]: 1 },
      });
      expect(await stored()).toHaveLength(0);
      expect(await runTelegramBotRound(t.ctx)).toMatchObject({ outcome: 'webhook_deleted' });
      expect(telegram.webhook()).toBeNull();
      telegram.postInChannel(chat.id, { text: 'Dibaca lewat getUpdates' });
      expect(await runTelegramBotRound(t.ctx)).toMatchObject({
        outcome: 'read',
        imported: { [source.id]: 1 },
      });
      expect((await postsOf(source.id)).map((post) => post.body)).toEqual([
        'Diterima sebelum beralih',
        'Dibaca lewat getUpdates',
      ]);
    } finally {
      config.GAUNG_PUBLIC_URL = PUBLIC_URL;
    }
  });
});
