import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeBluesky, type FakeBluesky, LEXICONS } from '../../fakes/bluesky';
import { loadLexicons } from '../../fakes/lexicon';
import { createFakeMastodon, type FakeMastodon, MASTODON_SPEC } from '../../fakes/mastodon';
import { loadOpenApiValidator } from '../../fakes/openapi';
import { testImage } from '../../fakes/platform-context';
import { createFakeX, type FakeX, X_SPEC } from '../../fakes/x';

/**
 * The fakes are only worth testing against if they refuse what the real platforms refuse. These
 * requests break the official documents (X OpenAPI, Mastodon OpenAPI, atproto lexicons); each fake
 * must turn them away with the platform's own error shape, and accept the same request made right.
 */

async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; json?: unknown; body?: BodyInit; type?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  if (options.type) headers['content-type'] = options.type;
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: options.json !== undefined ? JSON.stringify(options.json) : options.body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('the fake X API follows the X OpenAPI document', () => {
  let fake: FakeX;
  let token: string;
  let userId: string;
  beforeAll(async () => {
    fake = createFakeX();
    await fake.start();
    userId = fake.addUser({ username: 'ditjen_imigrasi' }).id;
    token = fake.issueTokens(userId).accessToken;
  });
  afterAll(() => fake.stop());

  it('rejects an unknown field in POST /2/tweets (additionalProperties: false) and accepts the valid body', async () => {
    const rejected = await call(fake.url, 'POST', '/2/tweets', {
      token,
      json: { text: 'Halo', visibility: 'public' },
    });
    expect(rejected.status).toBe(400);
    expect(rejected.body).toMatchObject({
      title: 'Invalid Request',
      type: 'https://api.x.com/2/problems/invalid-request',
    });
    expect(JSON.stringify(rejected.body.errors)).toContain('visibility');
    const accepted = await call(fake.url, 'POST', '/2/tweets', { token, json: { text: 'Halo' } });
    expect(accepted.status).toBe(201);
  });

  it('rejects five media ids, a non-numeric quote id, and an unknown query parameter', async () => {
    const media = await call(fake.url, 'POST', '/2/tweets', {
      token,
      json: { text: 'x', media: { media_ids: ['1', '2', '3', '4', '5'] } },
    });
    expect(media.status).toBe(400);
    const quote = await call(fake.url, 'POST', '/2/tweets', {
      token,
      json: { text: 'x', quote_tweet_id: 'abc' },
    });
    expect(quote.status).toBe(400);
    const query = await call(fake.url, 'GET', `/2/users/${userId}/tweets?max_results=500&tweet.fieldz=id`, {
      token,
    });
    expect(query.status).toBe(400);
    expect(JSON.stringify(query.body.errors)).toMatch(/max_results.*<= 100|tweet\.fieldz/);
  });

  it('rejects an append segment outside the documented range', async () => {
    const init = await call(fake.url, 'POST', '/2/media/upload/initialize', {
      token,
      json: { media_type: 'image/png', total_bytes: 10, media_category: 'tweet_image' },
    });
    const id = (init.body.data as { id: string }).id;
    const form = new FormData();
    form.append('segment_index', '1000');
    form.append('media', new Blob([new Uint8Array(await testImage())]), 'blob');
    const append = await call(fake.url, 'POST', `/2/media/upload/${id}/append`, { token, body: form });
    expect(append.status).toBe(400);
    expect(JSON.stringify(append.body.errors)).toContain('segment_index');
  });

  it('answers a missing or expired token with X’s 401 problem', async () => {
    const expired = fake.issueTokens(userId).accessToken;
    fake.expireAccessToken(expired);
    for (const bearer of [undefined, expired]) {
      const response = await call(fake.url, 'GET', '/2/users/me', { token: bearer });
      expect(response).toEqual({
        status: 401,
        body: { title: 'Unauthorized', detail: 'Unauthorized', type: 'about:blank', status: 401 },
      });
    }
  });

  it('takes token requests only form-encoded, as OAuth 2.0 requires', async () => {
    fake.registerClient('client');
    const { refreshToken } = fake.issueTokens(userId, { clientId: 'client' });
    const json = await call(fake.url, 'POST', '/2/oauth2/token', {
      json: { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'client' },
    });
    expect(json).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    const form = await call(fake.url, 'POST', '/2/oauth2/token', {
      type: 'application/x-www-form-urlencoded',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: 'client',
      }).toString(),
    });
    expect(form.status).toBe(200);
    expect(form.body).toMatchObject({
      token_type: 'bearer',
      expires_in: 7200,
      refresh_token: expect.any(String),
    });
  });
});

describe('the fake Mastodon instance follows the Mastodon OpenAPI document', () => {
  let fake: FakeMastodon;
  let token: string;
  beforeAll(async () => {
    fake = createFakeMastodon();
    await fake.start();
    token = fake.issueToken(fake.addAccount({ username: 'imigrasi' }).id);
  });
  afterAll(() => fake.stop());

  it('rejects a status whose fields have the wrong types, and accepts the right ones', async () => {
    for (const body of [
      { status: 'Halo', sensitive: 'yes' },
      { status: 'Halo', language: 5 },
      { status: 'Halo', scheduled_at: 'besok pagi' },
      { status: 'Halo', visibility: 'everyone' },
      { status: 42 },
    ]) {
      const response = await call(fake.url, 'POST', '/api/v1/statuses', { token, json: body });
      expect(response.status).toBe(422);
      expect(response.body).toEqual({ error: expect.stringMatching(/^Validation failed: /) });
    }
    expect(
      (
        await call(fake.url, 'POST', '/api/v1/statuses', {
          token,
          json: { status: 'Halo', sensitive: false, visibility: 'public' },
        })
      ).status,
    ).toBe(200);
  });

  it('rejects query parameters of the wrong type', async () => {
    const response = await call(fake.url, 'GET', '/api/v2/search?q=x&resolve=maybe&limit=ten', { token });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatch(/resolve.*boolean|limit.*integer/);
  });

  it('rejects a media upload without its file part', async () => {
    const form = new FormData();
    form.append('description', 'alt');
    const response = await call(fake.url, 'POST', '/api/v2/media', { token, body: form });
    expect(response.status).toBe(422);
  });

  it('answers an unknown token with Mastodon’s error entity', async () => {
    expect(await call(fake.url, 'GET', '/api/v1/accounts/verify_credentials', { token: 'nope' })).toEqual({
      status: 401,
      body: { error: 'The access token is invalid' },
    });
  });
});

describe('the fake PDS follows the atproto lexicons', () => {
  let fake: FakeBluesky;
  let session: { accessJwt: string; did: string };
  const post = (record: Record<string, unknown>, rkey = '3l25zusnsfctk') =>
    call(fake.url, 'POST', '/xrpc/com.atproto.repo.createRecord', {
      token: session.accessJwt,
      json: { repo: session.did, collection: 'app.bsky.feed.post', rkey, record },
    });
  const valid = { $type: 'app.bsky.feed.post', text: 'Halo', createdAt: '2024-10-01T03:00:00.000Z' };

  beforeAll(async () => {
    fake = createFakeBluesky();
    await fake.start();
    fake.addAccount({ handle: 'imigrasi.bsky.social', appPassword: 'pw' });
    const created = await call(fake.url, 'POST', '/xrpc/com.atproto.server.createSession', {
      json: { identifier: 'imigrasi.bsky.social', password: 'pw' },
    });
    session = created.body as { accessJwt: string; did: string };
  });
  afterAll(() => fake.stop());

  it('rejects a post over 300 graphemes even when it is under 3000 bytes', async () => {
    const response = await post({ ...valid, text: 'a'.repeat(301) });
    expect(response).toMatchObject({ status: 400, body: { error: 'InvalidRequest' } });
    expect(response.body.message).toContain('300 graphemes');
    expect((await post({ ...valid, text: '🇮🇩'.repeat(300) }, '3l25zusnsfcta')).status).toBe(200);
  });

  it('rejects malformed facets', async () => {
    const text = 'Halo @imigrasi.bsky.social';
    const cases = [
      [
        {
          index: { byteStart: 5 },
          features: [{ $type: 'app.bsky.richtext.facet#mention', did: session.did }],
        },
      ],
      [
        {
          index: { byteStart: -1, byteEnd: 26 },
          features: [{ $type: 'app.bsky.richtext.facet#mention', did: session.did }],
        },
      ],
      [
        {
          index: { byteStart: 5, byteEnd: 26 },
          features: [{ $type: 'app.bsky.richtext.facet#mention', did: 'imigrasi.bsky.social' }],
        },
      ],
      [{ index: { byteStart: 5, byteEnd: 26 }, features: [{ did: session.did }] }],
      [
        {
          index: { byteStart: 5, byteEnd: 26 },
          features: [{ $type: 'app.bsky.richtext.facet#link', uri: 'not a uri' }],
        },
      ],
    ];
    for (const facets of cases) expect((await post({ ...valid, text, facets })).status).toBe(400);
  });

  it('rejects more than four images, a record key that is not a TID, and a blob never uploaded', async () => {
    const blob = {
      $type: 'blob',
      ref: { $link: 'bafyreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' },
      mimeType: 'image/png',
      size: 10,
    };
    const images = Array.from({ length: 5 }, () => ({ image: blob, alt: '' }));
    expect(
      (await post({ ...valid, embed: { $type: 'app.bsky.embed.images', images } })).body.message,
    ).toContain('at most 4 items');
    expect((await post(valid, 'not-a-tid')).body.message).toContain('not a TID');
    expect(
      (
        await post({
          ...valid,
          embed: { $type: 'app.bsky.embed.images', images: [{ image: blob, alt: '' }] },
        })
      ).body.message,
    ).toContain('Could not find blob');
  });

  it('answers an expired access token with ExpiredToken', async () => {
    fake.expireAccessTokens(session.did);
    expect(await post(valid, '3l25zusnsfcz2')).toEqual({
      status: 400,
      body: { error: 'ExpiredToken', message: 'Token has expired' },
    });
  });
});

describe('the validators read the official documents faithfully', () => {
  it('resolves $refs and serialisation styles of an OpenAPI operation', () => {
    const x = loadOpenApiValidator(X_SPEC, { rejectUnknownQuery: true });
    const request = (query: Record<string, string>) => ({
      params: { id: '2244994945' },
      query,
      body: undefined,
      contentType: undefined,
    });
    expect(
      x.validate('GET', '/2/users/{id}/tweets', request({ exclude: 'replies,retweets', max_results: '100' })),
    ).toEqual([]);
    expect(x.validate('GET', '/2/users/{id}/tweets', request({ exclude: 'replies,likes' }))).not.toEqual([]);
    expect(x.validate('GET', '/2/users/{id}/tweets', { ...request({}), params: { id: 'abc' } })).not.toEqual(
      [],
    );
    const mastodon = loadOpenApiValidator(MASTODON_SPEC, { oneOfAsAnyOf: true });
    expect(
      mastodon.validate('POST', '/api/v1/statuses', {
        params: {},
        query: {},
        body: { status: 'Halo', media_ids: ['1'] },
        contentType: 'application/json',
      }),
    ).toEqual([]);
  });

  it('counts lexicon string limits in UTF-8 bytes and graphemes', () => {
    const lexicons = loadLexicons(LEXICONS);
    const record = (text: string) => ({
      $type: 'app.bsky.feed.post',
      text,
      createdAt: '2024-10-01T03:00:00Z',
    });
    expect(lexicons.validateRecord('app.bsky.feed.post', record('👨‍👩‍👧‍👦'.repeat(121)))).toEqual([
      'record.text must not be longer than 3000 bytes',
    ]);
    expect(lexicons.validateRecord('app.bsky.feed.post', record('👨‍👩‍👧‍👦'.repeat(100)))).toEqual([]);
    expect(
      lexicons.validateRecord('app.bsky.feed.post', { ...record('x'), createdAt: '2024-10-01 03:00' }),
    ).toEqual(['record.createdAt must be a valid datetime']);
  });
});
