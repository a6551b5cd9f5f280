import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphFake, type GraphFake } from '../../fakes/meta/facebook-instagram';
import { createThreadsFake, type ThreadsFake } from '../../fakes/meta/threads';
import { testImage } from '../../fakes/platform-context';
import { createTelegramFake, TELEGRAM_SPEC_FILE, type TelegramFake } from '../../fakes/telegram';

/**
 * The fakes are only worth their tests if they refuse what the real platforms refuse. These calls
 * are made by hand, outside the adapters, with the mistakes an adapter could make.
 */

async function call(
  url: string,
  init: { method?: string; json?: unknown; form?: Record<string, string> | FormData } = {},
) {
  const body =
    init.json !== undefined
      ? JSON.stringify(init.json)
      : init.form instanceof FormData
        ? init.form
        : init.form
          ? new URLSearchParams(init.form)
          : undefined;
  const headers: Record<string, string> =
    init.json !== undefined ? { 'content-type': 'application/json' } : {};
  const response = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), body, headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('the fake Telegram Bot API follows the official method descriptions', () => {
  let fake: TelegramFake;
  let api: string;

  beforeAll(async () => {
    fake = createTelegramFake();
    await fake.start();
    fake.createChat({ title: 'Ditjen Imigrasi', username: 'imigrasi_pusat' });
    api = `${fake.url}/bot${fake.bot.token}`;
  });
  afterAll(() => fake.stop());

  const refused = (response: { status: number; body: Record<string, unknown> }, words: string) => {
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ ok: false, error_code: 400 });
    expect(String(response.body.description)).toContain(words);
  };

  it('reads the version of the spec it validates against', () => {
    const spec = JSON.parse(readFileSync(TELEGRAM_SPEC_FILE, 'utf8')) as { version: string };
    expect(fake.validator.version).toBe(spec.version);
  });

  it('accepts a well-formed call, with the method name in any case, as JSON or form fields', async () => {
    const json = await call(`${api}/sendMessage`, {
      json: { chat_id: '@imigrasi_pusat', text: 'Halo', link_preview_options: { is_disabled: true } },
    });
    expect(json).toMatchObject({ status: 200, body: { ok: true, result: { text: 'Halo' } } });
    const form = await call(`${api}/sendmessage`, {
      form: { chat_id: '@imigrasi_pusat', text: 'Halo', disable_notification: 'true' },
    });
    expect(form.body.ok).toBe(true);
  });

  it('refuses a parameter the method does not have', async () => {
    refused(
      await call(`${api}/sendMessage`, { json: { chat_id: '@imigrasi_pusat', text: 'x', colour: 'red' } }),
      'colour',
    );
  });

  it('refuses a value of the wrong type', async () => {
    refused(
      await call(`${api}/sendMessage`, {
        json: { chat_id: '@imigrasi_pusat', text: 'x', disable_notification: 'maybe' },
      }),
      'disable_notification',
    );
    refused(
      await call(`${api}/forwardMessage`, {
        json: { chat_id: '@imigrasi_pusat', from_chat_id: '@imigrasi_pusat', message_id: 'first' },
      }),
      'message_id',
    );
    refused(await call(`${api}/sendMessage`, { json: { chat_id: { id: 1 }, text: 'x' } }), 'chat_id');
  });

  it('refuses a call without a required parameter', async () => {
    refused(await call(`${api}/sendMessage`, { json: { text: 'x' } }), 'chat_id is empty');
    refused(await call(`${api}/sendMessage`, { json: { chat_id: '@imigrasi_pusat' } }), 'text is empty');
  });

  it('checks objects inside parameters field by field', async () => {
    refused(
      await call(`${api}/sendMessage`, {
        json: { chat_id: '@imigrasi_pusat', text: 'x', link_preview_options: { disabled: true } },
      }),
      'link_preview_options.disabled',
    );
    const photo = await testImage();
    const album = (media: unknown[]) => {
      const form = new FormData();
      form.append('chat_id', '@imigrasi_pusat');
      form.append('media', JSON.stringify(media));
      form.append('a', new Blob([new Uint8Array(photo)], { type: 'image/png' }), 'a.png');
      form.append('b', new Blob([new Uint8Array(photo)], { type: 'image/png' }), 'b.png');
      return call(`${api}/sendMediaGroup`, { form });
    };
    const good = await album([
      { type: 'photo', media: 'attach://a', caption: 'Album' },
      { type: 'photo', media: 'attach://b' },
    ]);
    expect(good.body.ok).toBe(true);
    refused(
      await album([
        { type: 'photograph', media: 'attach://a' },
        { type: 'photo', media: 'attach://b' },
      ]),
      'media[0]',
    );
    refused(
      await album([
        { type: 'photo', media: 'attach://a', alt: 'x' },
        { type: 'photo', media: 'attach://b' },
      ]),
      'media[0].alt',
    );
    refused(
      await album([
        { type: 'photo', media: 'attach://a' },
        { type: 'photo', media: 'attach://c' },
      ]),
      '"c"',
    );
  });

  it('answers an unknown method with 404 and a wrong token with 401, in Telegram’s shape', async () => {
    expect(await call(`${api}/sendTweet`, { json: {} })).toEqual({
      status: 404,
      body: { ok: false, error_code: 404, description: 'Not Found' },
    });
    expect(await call(`${fake.url}/bot1:AAwrong/getMe`)).toEqual({
      status: 401,
      body: { ok: false, error_code: 401, description: 'Unauthorized' },
    });
  });
});

describe('the fake Graph API accepts only documented parameters and fields', () => {
  let graph: GraphFake;
  let threads: ThreadsFake;
  let page: { pageId: string; pageToken: string };
  let igUserId: string;
  let threadsUser: { userId: string; token: string };

  beforeAll(async () => {
    graph = createGraphFake();
    threads = createThreadsFake();
    await Promise.all([graph.start(), threads.start()]);
    page = graph.createPage('Direktorat Jenderal Imigrasi');
    igUserId = graph.linkInstagram(page.pageId, 'ditjen_imigrasi').igUserId;
    threadsUser = threads.createUser('ditjen_imigrasi');
  });
  afterAll(async () => {
    await Promise.all([graph.stop(), threads.stop()]);
  });

  const withToken = (path: string, token = page.pageToken) =>
    `${graph.url}${path}${path.includes('?') ? '&' : '?'}access_token=${token}`;
  const refused = (response: { status: number; body: Record<string, unknown> }, words: string) => {
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 100, fbtrace_id: expect.any(String) });
    expect(String((response.body.error as { message: string }).message)).toContain(words);
  };

  it('accepts a documented call', async () => {
    const response = await call(withToken(`/${page.pageId}/feed`), {
      json: { message: 'Halo', published: true },
    });
    expect(response).toMatchObject({ status: 200, body: { id: expect.stringMatching(/^\d+_\d+$/) } });
  });

  it('refuses an unknown field, also inside a nested field list', async () => {
    refused(await call(withToken(`/${page.pageId}/posts?fields=id,mesage`)), 'nonexisting field (mesage)');
    const { shortLivedToken } = graph.createUser('Admin', [page.pageId]);
    refused(
      await call(withToken('/me/accounts?fields=id,instagram_business_account{id,usernme}', shortLivedToken)),
      'nonexisting field (usernme) on node type (IGUser)',
    );
    refused(
      await call(withToken(`/${page.pageId}/published_posts?fields=id,from{id,nme}`)),
      'nonexisting field (nme) on node type (Profile)',
    );
  });

  it('refuses an unknown parameter, a missing required one, and a value of the wrong type', async () => {
    refused(await call(withToken(`/${page.pageId}/feed`), { json: { mesage: 'Halo' } }), 'mesage');
    refused(
      await call(withToken(`/${page.pageId}/photos`), { json: { caption: 'Tanpa foto' } }),
      'url is required',
    );
    refused(
      await call(withToken(`/${page.pageId}/feed`), { json: { message: 'x', published: 'maybe' } }),
      'published',
    );
    refused(
      await call(withToken(`/${igUserId}/media`), {
        json: { image_url: 'https://a.test/x.jpg', capton: 'x' },
      }),
      'capton',
    );
    refused(await call(withToken(`/${igUserId}/media_publish`), { json: {} }), 'creation_id is required');
  });

  it('refuses an Instagram metric that is not offered', async () => {
    await call(withToken(`/${page.pageId}/feed`), { json: { message: 'x' } });
    const media = graph.seedIgMedia(igUserId, { caption: 'x', createdAt: Date.now() });
    refused(await call(withToken(`/${media.id}/insights?metric=impressions,likes`)), 'metric[0]');
  });

  it('answers an expired token with OAuthException 190/463', async () => {
    const expired = graph.createPage('Kedaluwarsa');
    graph.expireToken(expired.pageToken);
    const response = await call(withToken(`/${expired.pageId}/feed`, expired.pageToken), {
      json: { message: 'x' },
    });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      error: {
        message: expect.stringContaining('Session has expired'),
        type: 'OAuthException',
        code: 190,
        error_subcode: 463,
        fbtrace_id: expect.any(String),
      },
    });
  });

  it('does the same on the Threads API', async () => {
    const url = (path: string) =>
      `${threads.url}${path}${path.includes('?') ? '&' : '?'}access_token=${threadsUser.token}`;
    refused(
      await call(url(`/${threadsUser.userId}/threads`), { json: { text: 'Tanpa jenis' } }),
      'media_type is required',
    );
    refused(
      await call(url(`/${threadsUser.userId}/threads`), {
        json: { media_type: 'TEXT', text: 'x', reply_to: '1' },
      }),
      'reply_to',
    );
    refused(await call(url('/me?fields=id,followers')), 'nonexisting field (followers)');
    const ok = await call(url(`/${threadsUser.userId}/threads`), {
      json: { media_type: 'TEXT', text: 'Halo' },
    });
    expect(ok.body.id).toEqual(expect.any(String));
  });
});
