import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AtpAgent } from '@atproto/api';
import { envToCfg, envToSecrets, PDS } from '@atproto/pds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blueskyAdapter } from '../../../src/platforms/bluesky';
import {
  createCredentialStore,
  createPlatformContext,
  mediaFromBuffer,
  publishRequest,
  testImage,
} from '../../fakes/platform-context';
import { createFakePlc, type FakePlc } from '../../fakes/plc';

/**
 * Bluesky against a real PDS: @atproto/pds 0.4 runs in this process on Node 20 (SQLite in a
 * temporary directory, blobs on disk), with an in-memory PLC directory for its DIDs. An office
 * account posts there; Gaung reads it as a source and publishes, reposts and quotes with the
 * adapter, and the PDS stores exactly those records.
 */

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

describe('Bluesky against a real PDS (@atproto/pds 0.4, in-process, with a fake PLC directory)', () => {
  let plc: FakePlc;
  let pds: PDS;
  let dir: string;
  let url: string;
  const password = `sandi-${randomBytes(6).toString('hex')}`;
  const office = { handle: 'kanim-pontianak.test', did: '' };
  const centre = { handle: 'ditjen-imigrasi.test', did: '' };

  beforeAll(async () => {
    plc = createFakePlc();
    await plc.start();
    dir = await mkdtemp(path.join(tmpdir(), 'gaung-pds-'));
    const port = await freePort();
    url = `http://localhost:${port}`;
    const env = {
      devMode: true,
      port,
      hostname: 'localhost',
      dataDirectory: dir,
      blobstoreDiskLocation: path.join(dir, 'blobs'),
      didPlcUrl: plc.url,
      serviceHandleDomains: ['.test'],
      jwtSecret: randomBytes(16).toString('hex'),
      adminPassword: randomBytes(16).toString('hex'),
      plcRotationKeyK256PrivateKeyHex: randomBytes(32).toString('hex'),
      inviteRequired: false,
      disableSsrfProtection: true,
    };
    pds = await PDS.create(envToCfg(env), envToSecrets(env));
    await pds.start();
    for (const account of [office, centre]) {
      const agent = new AtpAgent({ service: url });
      const created = await agent.createAccount({
        email: `${account.handle}@imigrasi.test`,
        handle: account.handle,
        password,
      });
      account.did = created.data.did;
    }
  }, 120_000);
  afterAll(async () => {
    await pds?.destroy();
    await plc?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const sourceContext = () =>
    createPlatformContext({
      platform: 'bluesky',
      store: createCredentialStore({}),
      settings: { handle: office.handle, pdsUrl: url },
      endpoints: { plcDirectory: plc.url },
    });
  const channelContext = () =>
    createPlatformContext({
      platform: 'bluesky',
      store: createCredentialStore({ identifier: centre.handle, appPassword: password }),
      settings: { pdsUrl: url },
    });

  it('reads the office repository as a source, found through the PLC directory, with its image blob', async () => {
    const agent = new AtpAgent({ service: url });
    await agent.login({ identifier: office.handle, password });
    const image = await testImage({ hue: 33, format: 'jpeg' });
    const blob = await agent.uploadBlob(image, { encoding: 'image/jpeg' });
    const posted = await agent.post({
      text: 'Layanan paspor hari Sabtu',
      embed: { $type: 'app.bsky.embed.images', images: [{ image: blob.data.blob, alt: 'Loket' }] },
      createdAt: new Date().toISOString(),
    });
    await agent.post({
      text: 'Terima kasih',
      reply: { root: posted, parent: posted },
      createdAt: new Date().toISOString(),
    });

    const byDid = createPlatformContext({
      platform: 'bluesky',
      store: createCredentialStore({}),
      settings: { did: office.did },
      endpoints: { plcDirectory: plc.url },
    });
    const result = await blueskyAdapter.source!.readSource(byDid, {
      cursor: null,
      since: new Date(Date.now() - 60 * 60_000),
      limit: 10,
    });
    expect(result.items.map((item) => item.kind)).toEqual(['reply', 'post']);
    const item = result.items[1]!;
    expect(item).toMatchObject({
      key: posted.uri,
      text: 'Layanan paspor hari Sabtu',
      origin: { authorHandle: `@${office.handle}`, ref: { uri: posted.uri, cid: posted.cid } },
    });
    const bytes = Buffer.from(await (await fetch(item.media[0]!.url)).arrayBuffer());
    expect(bytes.equals(image)).toBe(true);
    expect(await blueskyAdapter.source!.originExists!(sourceContext(), item.origin)).toBe(true);
  });

  it('publishes, reposts and quotes the office original with the adapter; the PDS holds each record once', async () => {
    const agent = new AtpAgent({ service: url });
    await agent.login({ identifier: office.handle, password });
    const original = await agent.post({ text: 'Pengumuman kantor', createdAt: new Date().toISOString() });
    const [item] = (
      await blueskyAdapter.source!.readSource(sourceContext(), {
        cursor: null,
        since: new Date(Date.now() - 60_000),
        limit: 1,
      })
    ).items;
    const sourceUrl = item!.url;
    const ctx = channelContext();
    const image = mediaFromBuffer(await testImage({ format: 'jpeg' }), {
      kind: 'image',
      mime: 'image/jpeg',
      altText: 'Foto',
    });
    const copy = await blueskyAdapter.publish(
      ctx,
      publishRequest({ deliveryId: `copy-${Date.now()}`, media: [image] }),
    );
    const repostRequest = publishRequest({
      deliveryId: `repost-${Date.now()}`,
      mode: 'repost',
      sourceUrl,
      origin: item!.origin,
    });
    const repost = await blueskyAdapter.repost!(ctx, repostRequest);
    const quote = await blueskyAdapter.quote!(
      ctx,
      publishRequest({
        deliveryId: `quote-${Date.now()}`,
        mode: 'quote',
        text: 'Simak',
        sourceUrl,
        origin: item!.origin,
      }),
    );
    // A repeated attempt of the same delivery makes no second record.
    await blueskyAdapter.repost!(ctx, repostRequest).catch(() => null);

    const reader = new AtpAgent({ service: url });
    const posts = await reader.com.atproto.repo.listRecords({
      repo: centre.did,
      collection: 'app.bsky.feed.post',
    });
    const reposts = await reader.com.atproto.repo.listRecords({
      repo: centre.did,
      collection: 'app.bsky.feed.repost',
    });
    expect(posts.data.records.map((r) => r.uri).sort()).toEqual([copy.remoteId, quote.remoteId].sort());
    expect(reposts.data.records).toHaveLength(1);
    expect(reposts.data.records[0]!.uri).toBe(repost.remoteId);
    expect(reposts.data.records[0]!.value).toMatchObject({
      subject: { uri: original.uri, cid: original.cid },
    });
    const quoted = posts.data.records.find((r) => r.uri === quote.remoteId)!.value as {
      embed: { record: { uri: string } };
    };
    expect(quoted.embed.record.uri).toBe(original.uri);

    await agent.deletePost(original.uri);
    expect(await blueskyAdapter.source!.originExists!(sourceContext(), item!.origin)).toBe(false);
  });
});
