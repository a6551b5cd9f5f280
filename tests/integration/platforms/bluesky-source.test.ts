import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blueskyAdapter } from '../../../src/platforms/bluesky';
import { createFakeBluesky } from '../../fakes/bluesky';
import {
  createCredentialStore,
  createPlatformContext,
  testImage,
  testVideo,
} from '../../fakes/platform-context';
import { createFakePlc } from '../../fakes/plc';
import { malformedJsonFault, OVERSIZED_MESSAGE, oversizedJsonFault } from '../../fakes/source-faults';
import { bytesAt, DAY, failure, sourceRead, useFake } from './source-support';

const source = blueskyAdapter.source!;

describe('Bluesky as a source: the repository read from the fake PDS, found through a fake PLC directory', () => {
  const pds = useFake(createFakeBluesky());
  const plc = useFake(createFakePlc());

  /** An office account on the PDS, registered in the directory; the source knows it by DID or by handle. */
  function office(by: 'did' | 'handle' = 'did') {
    const handle = `kanim-${randomUUID().slice(0, 6)}.bsky.test`;
    const account = pds.addAccount({ handle, appPassword: 'unused-here' });
    plc.register(account.did, { handle, pds: pds.url });
    const ctx = createPlatformContext({
      platform: 'bluesky',
      store: createCredentialStore({}),
      settings: by === 'did' ? { did: account.did } : { handle: `@${handle}`, pdsUrl: pds.url },
      endpoints: { plcDirectory: plc.url },
    });
    return { account, handle, ctx };
  }

  const read = sourceRead(blueskyAdapter);
  const listing = (did: string) =>
    pds.server.received.filter(
      (r) =>
        r.url.startsWith('/xrpc/com.atproto.repo.listRecords') &&
        new URL(r.url, pds.url).searchParams.get('repo') === did,
    );

  it('reads images with alt text, a video, a quote with media and full links, and marks replies', async () => {
    const { account, handle, ctx } = office('handle');
    const images = await Promise.all([50, 150].map((hue) => testImage({ hue, format: 'jpeg' })));
    const album = pds.addPost(account.did, 'Layanan paspor Sabtu', {
      images: images.map((bytes, index) => ({ bytes, mimeType: 'image/jpeg', alt: `Foto ${index + 1}` })),
    });
    const video = await testVideo();
    const clip = pds.addPost(account.did, 'Video antrean', { video: { bytes: video, alt: 'Antrean' } });
    const text = 'Baca imigrasi.go.id/berita/...';
    const start = Buffer.byteLength('Baca ');
    const quote = pds.addPost(account.did, text, {
      quote: album,
      images: [{ bytes: images[0]!, mimeType: 'image/jpeg' }],
      facets: [
        {
          index: { byteStart: start, byteEnd: Buffer.byteLength(text) },
          features: [
            { $type: 'app.bsky.richtext.facet#link', uri: 'https://imigrasi.go.id/berita/2026/12/sabtu' },
          ],
        },
      ],
    });
    const reply = pds.addPost(account.did, 'Terima kasih', { replyTo: album });

    const result = await read(ctx);

    expect(result.items.map((item) => [item.key, item.kind])).toEqual([
      [reply.uri, 'reply'],
      [quote.uri, 'post'],
      [clip.uri, 'post'],
      [album.uri, 'post'],
    ]);
    const [, quoteItem, clipItem, albumItem] = result.items;
    expect(albumItem).toMatchObject({
      url: `https://bsky.app/profile/${handle}/post/${album.rkey}`,
      text: 'Layanan paspor Sabtu',
      origin: {
        platform: 'bluesky',
        nativeId: album.uri,
        authorHandle: `@${handle}`,
        ref: { uri: album.uri, cid: album.cid },
      },
    });
    expect(albumItem!.media.map((m) => [m.kind, m.altText])).toEqual([
      ['image', 'Foto 1'],
      ['image', 'Foto 2'],
    ]);
    for (const [index, medium] of albumItem!.media.entries())
      expect((await bytesAt(medium.url)).equals(images[index]!)).toBe(true);
    expect(clipItem!.media).toMatchObject([{ kind: 'video', altText: 'Antrean' }]);
    expect((await bytesAt(clipItem!.media[0]!.url)).equals(video)).toBe(true);
    expect(quoteItem!.text).toBe('Baca https://imigrasi.go.id/berita/2026/12/sabtu');
    expect(quoteItem!.media).toHaveLength(1);
    expect(quoteItem!.origin.ref).toMatchObject({ quotedUri: album.uri, quotedCid: album.cid });
    expect(result.cursor).toBe(reply.rkey);
  });

  it('reads only records newer than the cursor, the last day on a first read, paging with listRecords cursors', async () => {
    const { account, ctx } = office();
    pds.addPost(account.did, 'Lama', { createdAt: new Date(Date.now() - 3 * DAY) });
    for (let i = 0; i < 130; i++)
      pds.addPost(account.did, `Pos ${i}`, { createdAt: new Date(Date.now() - 200_000 + i * 1000) });
    const first = await read(ctx, { limit: 150 });
    expect(first.items).toHaveLength(130);
    expect(first.items[0]!.text).toBe('Pos 129');
    expect(listing(account.did)).toHaveLength(2);
    expect(listing(account.did)[1]!.url).toContain('cursor=');
    const fresh = pds.addPost(account.did, 'Baru');
    const second = await read(ctx, { cursor: first.cursor });
    expect(second.items.map((item) => item.key)).toEqual([fresh.uri]);
    expect(await read(ctx, { cursor: second.cursor })).toEqual({ items: [], cursor: second.cursor });
  });

  it('refuses a handle the DID document does not claim', async () => {
    const { account, ctx } = office('handle');
    plc.register(account.did, { handle: 'someone-else.bsky.test', pds: pds.url });
    expect(await failure(read(ctx))).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('does not claim'),
    });
  });

  it('turns the PDS rate limit into rate_limited until its reset', async () => {
    const { ctx } = office();
    const resetAt = new Date(Math.ceil((Date.now() + 4 * 60_000) / 1000) * 1000);
    pds.server.inject(pds.rateLimitFault(resetAt), {
      match: (r) => r.url.startsWith('/xrpc/com.atproto.repo.listRecords'),
    });
    expect(await failure(read(ctx))).toMatchObject({ kind: 'rate_limited', until: resetAt });
  });

  it('tells whether the original still exists, and a deleted blob answers BlobNotFound', async () => {
    const { account, ctx } = office();
    const image = await testImage({ format: 'jpeg' });
    const post = pds.addPost(account.did, 'Akan dihapus', {
      images: [{ bytes: image, mimeType: 'image/jpeg' }],
    });
    const [item] = (await read(ctx)).items;
    expect(await source.originExists!(ctx, item!.origin)).toBe(true);
    pds.deleteRecord(post.uri);
    expect(await source.originExists!(ctx, item!.origin)).toBe(false);
    const blob = (post.value.embed as { images: { image: { ref: { $link: string } } }[] }).images[0]!.image
      .ref.$link;
    pds.dropBlob(blob);
    const gone = await fetch(item!.media[0]!.url);
    expect(gone.status).toBe(400);
    expect(await gone.json()).toMatchObject({ error: 'BlobNotFound' });
  });

  it('refuses a malformed answer and an oversized one whole, then reads normally', async () => {
    const { account, ctx } = office();
    pds.addPost(account.did, 'Ada');
    const list = { match: (r: { url: string }) => r.url.startsWith('/xrpc/com.atproto.repo.listRecords') };
    pds.server.inject(malformedJsonFault, list);
    expect((await failure(read(ctx))).kind).toBe('retry');
    pds.server.inject(oversizedJsonFault(), list);
    expect(await failure(read(ctx))).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining(OVERSIZED_MESSAGE),
    });
    expect((await read(ctx)).items).toHaveLength(1);
  });
});
