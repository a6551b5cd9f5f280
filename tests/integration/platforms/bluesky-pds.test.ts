import { AtpAgent } from '@atproto/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blueskyAdapter } from '../../../src/platforms/bluesky';
import {
  createCredentialStore,
  createPlatformContext,
  mediaFromBuffer,
  publishRequest,
  testImage,
} from '../../fakes/platform-context';
import { startTestPds, type TestPds } from '../../helpers/pds';

/**
 * Bluesky against a real PDS: @atproto/pds 0.4 runs in this process on Node 20 (SQLite in a
 * temporary directory, blobs on disk), with an in-memory PLC directory for its DIDs. An office
 * account posts there; Gaung reads it as a source and publishes, reposts and quotes with the
 * adapter, and the PDS stores exactly those records.
 */
describe('Bluesky against a real PDS (@atproto/pds 0.4, in-process, with a fake PLC directory)', () => {
  let pds: TestPds;
  let url: string;
  let password: string;
  let plc: TestPds['plc'];
  const office = { handle: 'kanim-pontianak.test', did: '' };
  const centre = { handle: 'ditjen-imigrasi.test', did: '' };

  beforeAll(async () => {
    pds = await startTestPds();
    ({ url, password, plc } = pds);
    office.did = (await pds.createAccount(office.handle)).did;
    centre.did = (await pds.createAccount(centre.handle)).did;
  }, 120_000);
  afterAll(() => pds?.stop());

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
    const agent = await pds.login(office.handle);
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
    const agent = await pds.login(office.handle);
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
