import { randomBytes, randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifyOutbox, units } from '../../src/db/schema';
import { FeedError, readFeed } from '../../src/platforms/feeds';
import { createHttpClient, internalUrlProblem, isInternalAddress } from '../../src/platforms/http';
import { createWebhookAdapter } from '../../src/platforms/webhook';
import { deliverOutboxEntry, PermanentNotifyError } from '../../src/services/notifications';
import { createCredentialStore, createPlatformContext, publishRequest } from '../fakes/platform-context';
import { createWebhookReceiver, type WebhookReceiver } from '../fakes/webhook';
import { createTestApp, type TestApp } from '../helpers/context';
import { seedTestOrg } from '../helpers/org';
import { createPostVia } from '../helpers/posts';

describe('URLs from settings stay off Gaung’s own network', () => {
  it('knows internal addresses and hosts', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
    ])
      expect(isInternalAddress(address), address).toBe(true);
    for (const address of ['8.8.8.8', '203.0.113.7', '2001:4860:4860::8888', '172.32.0.1'])
      expect(isInternalAddress(address), address).toBe(false);
    expect(internalUrlProblem('http://localhost:8080/hook')).toBe('is this machine');
    expect(internalUrlProblem('http://[::1]/hook')).toBe('is an internal network address');
    expect(internalUrlProblem('http://169.254.169.254/latest/meta-data')).toBe(
      'is an internal network address',
    );
    expect(internalUrlProblem('https://hooks.kanim.example/gaung')).toBeNull();
  });

  describe('a webhook channel', () => {
    const adapter = createWebhookAdapter({ timeoutMs: 3_000 });
    const secret = randomBytes(32).toString('hex');
    let receiver: WebhookReceiver;
    beforeAll(async () => {
      receiver = createWebhookReceiver(secret);
      await receiver.start();
    });
    afterAll(() => receiver.stop());

    const publishTo = (url: string, reach: 'public' | 'any') =>
      adapter.publish(
        createPlatformContext({
          platform: 'webhook',
          store: createCredentialStore({ secret }),
          settings: { url },
          reach,
        }),
        publishRequest({ deliveryId: randomUUID() }),
      );

    it('is refused before connecting when it points at a loopback address', async () => {
      const before = receiver.server.received.length;
      const error = await publishTo(receiver.url, 'public').catch((e: unknown) => e);
      expect(adapter.classifyError(error)).toMatchObject({
        kind: 'invalid',
        message: expect.stringMatching(/internal network address; Gaung connects only to public addresses/),
      });
      expect(receiver.server.received.length).toBe(before);
    });

    it('is refused on connecting when its name resolves to an internal address', async (context) => {
      const { address } = await lookup(os.hostname());
      if (!isInternalAddress(address)) context.skip();
      const url = new URL(receiver.url);
      url.hostname = os.hostname();
      const before = receiver.server.received.length;
      const error = await publishTo(url.toString(), 'public').catch((e: unknown) => e);
      expect(adapter.classifyError(error)).toMatchObject({
        kind: 'invalid',
        message: expect.stringContaining('resolves to an internal address'),
      });
      // The address it resolved to is for the log, not for whoever typed the URL.
      expect(adapter.classifyError(error).message).not.toContain(address);
      expect(receiver.server.received.length).toBe(before);
    });

    it('never goes through an environment proxy, which the address check would take for the target', async () => {
      const proxy = createServer((request, response) => {
        proxied.push(String(request.url));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
      const proxied: string[] = [];
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const saved = { http: process.env.HTTP_PROXY, https: process.env.HTTPS_PROXY };
      process.env.HTTP_PROXY = proxyUrl;
      process.env.HTTPS_PROXY = proxyUrl;
      try {
        // Through the proxy this would reach whatever the proxy reaches; directly, the name does not resolve.
        const error = await publishTo('http://gaung-intranet.invalid/hook', 'public').catch(
          (e: unknown) => e,
        );
        expect(adapter.classifyError(error).kind).not.toBe('invalid');
        await expect(
          readFeed(
            { kind: 'rss', url: 'http://gaung-intranet.invalid/feed', accountId: null },
            { reach: 'public' },
          ),
        ).rejects.toBeInstanceOf(FeedError);
        expect(proxied).toEqual([]);
        // A client of a fixed platform host keeps honouring the operator's proxy.
        await createHttpClient('http://api.platform.invalid').get('/ping');
        expect(proxied).toEqual(['http://api.platform.invalid/ping']);
      } finally {
        process.env.HTTP_PROXY = saved.http ?? '';
        process.env.HTTPS_PROXY = saved.https ?? '';
        if (saved.http === undefined) delete process.env.HTTP_PROXY;
        if (saved.https === undefined) delete process.env.HTTPS_PROXY;
        await new Promise((resolve) => proxy.close(resolve));
      }
    });

    it('reaches it when the operator allows private URLs', async () => {
      await expect(publishTo(receiver.url, 'any')).resolves.toMatchObject({ remoteId: expect.any(String) });
    });
  });

  describe('a unit’s notification webhook', () => {
    let t: TestApp;
    let receiver: WebhookReceiver;
    beforeAll(async () => {
      receiver = createWebhookReceiver('unused');
      await receiver.start();
      t = await createTestApp('pglite', { env: { GAUNG_ALLOW_PRIVATE_URLS: '0' } });
    });
    afterAll(async () => {
      await t.close();
      await receiver.stop();
    });

    it('is given up at once, without a request', async () => {
      const org = await seedTestOrg(t.ctx);
      await t.ctx.db
        .update(units)
        .set({ notifyWebhookUrl: `${receiver.url}/hook` })
        .where(eq(units.id, org.units.officeA1.id));
      const post = await createPostVia(t.app, org.user('officeA1', 'contributor'), { body: 'Kabar' });
      await t.app.inject({
        method: 'POST',
        url: `/api/v1/posts/${post.id}/reject`,
        headers: org.user('national', 'reviewer').headers,
        payload: { version: post.version, reason: 'Bukan untuk akun nasional' },
      });
      const [entry] = await t.ctx.db.select().from(notifyOutbox).where(eq(notifyOutbox.via, 'webhook'));
      await expect(deliverOutboxEntry(t.ctx, entry!.id, false)).rejects.toBeInstanceOf(PermanentNotifyError);
      const [after] = await t.ctx.db.select().from(notifyOutbox).where(eq(notifyOutbox.id, entry!.id));
      expect(after!.failedAt).not.toBeNull();
      expect(after!.lastError).toMatch(/internal network address/);
      expect(receiver.server.received).toHaveLength(0);
    });
  });
});
