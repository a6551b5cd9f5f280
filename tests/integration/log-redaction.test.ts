import http from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import { type ITwitterApiClientPlugin, TwitterApi } from 'twitter-api-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger';
import { LogCapture } from '../helpers/context';

/**
 * Secrets never reach the log, however deep they sit in a logged object, and an HTTP client's error
 * is logged as what failed (method, address, status, body), never with the request's headers.
 */

const SECRETS = {
  bearer: 'bearer-rahasia-7f3a9c2e51d84b06',
  password: 'kata-sandi-rahasia-5e1c',
  cookie: 'gaung_session=sesi-rahasia-a81f3c',
  refresh: 'refresh-rahasia-9d2b7e10',
  botToken: '123456:AAE-bot-rahasia-c4d1',
  apiKey: 'kunci-api-rahasia-0b7e',
  apiToken: 'gaung_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
  queryToken: 'akses-rahasia-di-query-44f1',
};

describe('log redaction', () => {
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    // A platform that refuses everyone, as a real one answers an expired token.
    server = http.createServer((_request, response) => {
      response.writeHead(401, { 'content-type': 'application/json', 'set-cookie': `sid=${SECRETS.cookie}` });
      response.end(
        JSON.stringify({ error: { message: 'Invalid OAuth access token' }, title: 'Unauthorized' }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const expectNoSecret = (text: string) => {
    for (const [name, secret] of Object.entries(SECRETS)) expect(text, name).not.toContain(secret);
  };

  it('censors secret fields at any depth, in arrays, inside text and in child bindings', () => {
    const logs = new LogCapture();
    const log = createLogger('info', logs);
    log.info(
      {
        channel: {
          settings: { url: 'https://hooks.example/x' },
          platform: { auth: { credentials: { accessToken: 'a', refresh_token: SECRETS.refresh } } },
        },
        attempts: [
          {
            request: { headers: { Authorization: `Bearer ${SECRETS.bearer}`, 'X-Api-Key': SECRETS.apiKey } },
          },
        ],
        deep: { a: { b: { c: { d: { e: { newPassword: SECRETS.password, Cookie: SECRETS.cookie } } } } } },
        note: `called with Bearer ${SECRETS.bearer} and ${SECRETS.apiToken}`,
        link: `https://api.telegram.org/file?token=${SECRETS.queryToken}`,
      },
      'publishing',
    );
    log.child({ botToken: SECRETS.botToken }).warn('child logger');
    expectNoSecret(logs.text);
    const [line] = logs.lines.map((l) => JSON.parse(l));
    // What is not secret stays readable.
    expect(line.channel.settings.url).toBe('https://hooks.example/x');
    expect(line.attempts[0].request.headers.Authorization).toBe('[Redacted]');
    expect(line.deep.a.b.c.d.e).toEqual({ newPassword: '[Redacted]', Cookie: '[Redacted]' });
  });

  it('logs an AxiosError from a real request without its config, request or headers', async () => {
    const logs = new LogCapture();
    const log = createLogger('info', logs);
    const error = await axios
      .post(
        `${base}/v23.0/me/feed?access_token=${SECRETS.queryToken}`,
        { message: 'Halo', password: SECRETS.password },
        { headers: { Authorization: `Bearer ${SECRETS.bearer}`, Cookie: SECRETS.cookie }, proxy: false },
      )
      .catch((e: unknown) => e);
    expect(axios.isAxiosError(error)).toBe(true);
    // The error itself holds the header: the log must not take it from there.
    expect(JSON.stringify((error as { config: unknown }).config)).toContain(SECRETS.bearer);
    log.error({ err: error, nested: { cause: error } }, 'publish failed');
    log.warn(error as Error, 'logged bare');
    expectNoSecret(logs.text);
    const line = JSON.parse(logs.lines[0]!);
    expect(line.err).toMatchObject({
      type: 'AxiosError',
      method: 'POST',
      url: `${base}/v23.0/me/feed`,
      status: 401,
      data: { error: { message: 'Invalid OAuth access token' } },
    });
    expect(line.err).not.toHaveProperty('config');
    expect(line.err).not.toHaveProperty('request');
  });

  it('logs twitter-api-v2’s errors from a real request without the request or the response headers', async () => {
    const logs = new LogCapture();
    const log = createLogger('info', logs);
    // The library has no base-URL option; aim it at the loopback platform as Gaung's X adapter does.
    const toLoopback: ITwitterApiClientPlugin = {
      onBeforeRequestConfig({ params }) {
        const url = new URL(params.url);
        params.url = `${base}${url.pathname}${url.search}`;
      },
      onBeforeRequest({ requestOptions }) {
        requestOptions.agent = new http.Agent();
      },
    };
    const error = await new TwitterApi(SECRETS.bearer, { plugins: [toLoopback] }).v2
      .tweet('Halo')
      .catch((e: unknown) => e);
    expect((error as { constructor: { name: string } }).constructor.name).toBe('ApiResponseError');
    log.error({ err: error }, 'tweet failed');
    expectNoSecret(logs.text);
    const line = JSON.parse(logs.lines[0]!);
    expect(line.err).toMatchObject({ type: 'ApiResponseError', code: 401 });
    expect(line.err).not.toHaveProperty('request');
    expect(line.err).not.toHaveProperty('headers');
  });
});
