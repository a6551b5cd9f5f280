import { describe, expect, it } from 'vitest';
import { parseSourceUrl, platformOfUrl } from '../../src/domain/rendering';

describe('parseSourceUrl', () => {
  it.each([
    ['https://x.com/kanim_medan/status/1790000000000000001', '1790000000000000001', 'kanim_medan'],
    [
      'https://twitter.com/Kanim_Medan/status/1790000000000000001?s=20&t=abc',
      '1790000000000000001',
      'Kanim_Medan',
    ],
    ['https://mobile.twitter.com/kanim_medan/status/42/photo/1', '42', 'kanim_medan'],
    ['http://www.x.com/kanim_medan/statuses/42', '42', 'kanim_medan'],
    ['https://x.com/i/web/status/1790000000000000001', '1790000000000000001', null],
    ['https://x.com/i/status/1790000000000000001', '1790000000000000001', null],
  ])('X: %s', (url, statusId, username) => {
    expect(parseSourceUrl('x', url)).toMatchObject({ platform: 'x', statusId, username });
  });

  it.each([
    'https://x.com/kanim_medan',
    'https://x.com/kanim_medan/status/abc',
    'https://x.com/kanim_medan/status/12345678901234567890',
    'https://x.com/nama_yang_terlalu_panjang/status/1',
    'https://example.com/kanim_medan/status/1',
    'ftp://x.com/kanim_medan/status/1',
    'bukan tautan',
  ])('X refuses %s', (url) => {
    expect(parseSourceUrl('x', url)).toBeNull();
  });

  it.each([
    [
      'https://bsky.app/profile/kanim-medan.bsky.social/post/3kt5yqzq2zs2a',
      'kanim-medan.bsky.social',
      '3kt5yqzq2zs2a',
    ],
    ['https://bsky.app/profile/imigrasi.go.id/post/3kt5yqzq2zs2a/', 'imigrasi.go.id', '3kt5yqzq2zs2a'],
    [
      'https://bsky.app/profile/did:plc:z72i7hdynmk6r22z27h6tvur/post/3kt5yqzq2zs2a',
      'did:plc:z72i7hdynmk6r22z27h6tvur',
      '3kt5yqzq2zs2a',
    ],
    [
      'at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3kt5yqzq2zs2a',
      'did:plc:z72i7hdynmk6r22z27h6tvur',
      '3kt5yqzq2zs2a',
    ],
  ])('Bluesky: %s', (url, handle, rkey) => {
    expect(parseSourceUrl('bluesky', url)).toMatchObject({ platform: 'bluesky', handle, rkey });
  });

  it.each([
    'https://bsky.app/profile/kanim-medan.bsky.social',
    'https://bsky.app/profile/kanim-medan.bsky.social/feed/abc',
    'https://bsky.app/profile/bukan handle/post/3kt5',
    'at://did:plc:abc/app.bsky.feed.like/3kt5',
  ])('Bluesky refuses %s', (url) => {
    expect(parseSourceUrl('bluesky', url)).toBeNull();
  });

  it.each([
    [
      'https://mastodon.social/@kanim_medan/112233445566778899',
      'mastodon.social',
      'kanim_medan',
      '112233445566778899',
    ],
    [
      'https://kolektif.id/@kanim_medan@mastodon.social/998877',
      'kolektif.id',
      'kanim_medan@mastodon.social',
      '998877',
    ],
    [
      'https://mastodon.social/users/kanim_medan/statuses/112233445566778899',
      'mastodon.social',
      'kanim_medan',
      '112233445566778899',
    ],
    ['https://mastodon.social/@kanim_medan/112233/embed', 'mastodon.social', 'kanim_medan', '112233'],
    ['https://mastodon.social/web/statuses/112233', 'mastodon.social', null, '112233'],
    ['http://127.0.0.1:4010/@kanim/77', '127.0.0.1:4010', 'kanim', '77'],
  ])('Mastodon: %s', (url, host, username, statusId) => {
    expect(parseSourceUrl('mastodon', url)).toMatchObject({ platform: 'mastodon', host, username, statusId });
  });

  it.each([
    'https://mastodon.social/@kanim_medan',
    'https://mastodon.social/@kanim_medan/abc',
    'https://mastodon.social/@/123',
    'https://x.com/@kanim_medan/123',
    'https://www.threads.net/@kanim/123',
  ])('Mastodon refuses %s', (url) => {
    expect(parseSourceUrl('mastodon', url)).toBeNull();
  });

  it.each([
    ['https://t.me/kanim_medan/482', 'kanim_medan', '@kanim_medan', 482],
    ['https://t.me/s/kanim_medan/482', 'kanim_medan', '@kanim_medan', 482],
    ['https://telegram.me/kanim_medan/482?single', 'kanim_medan', '@kanim_medan', 482],
    ['https://t.me/c/1234567890/15', null, '-1001234567890', 15],
  ])('Telegram: %s', (url, chatUsername, chatId, messageId) => {
    expect(parseSourceUrl('telegram', url)).toEqual({
      platform: 'telegram',
      url: expect.any(String),
      chatUsername,
      chatId,
      messageId,
    });
  });

  it.each([
    'https://t.me/kanim_medan',
    'https://t.me/joinchat/482',
    'https://t.me/kanim_medan/0',
    'https://t.me/abc/5',
    'https://t.me/+AbCdEf/5',
  ])('Telegram refuses %s', (url) => {
    expect(parseSourceUrl('telegram', url)).toBeNull();
  });

  it.each([
    ['https://www.threads.net/@kanim.medan/post/C7xYz12AbCd', 'kanim.medan', 'C7xYz12AbCd'],
    ['https://www.threads.com/@kanim.medan/post/C7xYz12AbCd?xmt=abc', 'kanim.medan', 'C7xYz12AbCd'],
    ['https://threads.net/t/C7xYz12AbCd', null, 'C7xYz12AbCd'],
  ])('Threads: %s', (url, username, shortcode) => {
    expect(parseSourceUrl('threads', url)).toMatchObject({ platform: 'threads', username, shortcode });
  });

  it('Threads refuses a profile address', () => {
    expect(parseSourceUrl('threads', 'https://www.threads.net/@kanim.medan')).toBeNull();
  });

  it('Facebook and Instagram parse nothing (they have no repost or quote)', () => {
    expect(parseSourceUrl('facebook', 'https://www.facebook.com/kanim.medan/posts/123')).toBeNull();
    expect(parseSourceUrl('instagram', 'https://www.instagram.com/p/C7xYz12AbCd/')).toBeNull();
  });

  it('webhook and sandbox take any web address', () => {
    expect(parseSourceUrl('webhook', 'https://kanim-medan.imigrasi.go.id/berita/1')).toEqual({
      platform: 'webhook',
      url: 'https://kanim-medan.imigrasi.go.id/berita/1',
    });
    expect(parseSourceUrl('sandbox', 'mailto:humas@imigrasi.go.id')).toBeNull();
  });
});

describe('platformOfUrl', () => {
  it.each([
    ['https://x.com/kanim_medan/status/1', 'x'],
    ['https://bsky.app/profile/kanim.bsky.social/post/3kt5yqzq2zs2a', 'bluesky'],
    ['https://t.me/kanim_medan/482', 'telegram'],
    ['https://www.threads.net/@kanim.medan/post/C7xYz12AbCd', 'threads'],
    ['https://www.facebook.com/kanim.medan/posts/123', 'facebook'],
    ['https://www.instagram.com/p/C7xYz12AbCd/', 'instagram'],
    ['https://mastodon.social/@kanim_medan/1', 'mastodon'],
    ['https://imigrasi.go.id/berita', null],
  ] as const)('%s → %s', (url, platform) => {
    expect(platformOfUrl(url)).toBe(platform);
  });
});
