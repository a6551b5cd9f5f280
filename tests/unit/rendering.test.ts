import { readFileSync } from 'node:fs';
import twitterText from 'twitter-text';
import { describe, expect, it } from 'vitest';
import { PLATFORM_LIMITS } from '../../config/platform-limits';
import type { MediaFacts } from '../../src/domain/media-rules';
import {
  countText,
  offeredModes,
  type PlatformRulesInput,
  renderText,
  VALIDATION_CODES,
  validateCreditTemplate,
  validateForPlatform,
  X_TEXT_CONFIG,
} from '../../src/domain/rendering';
import { PLATFORMS } from '../../src/domain/vocabulary';
import { specPath } from '../fakes/specs';

// Plain Indonesian prose without dots, hashtags or mentions: every character weighs 1 everywhere.
const PROSE =
  'kantor imigrasi kelas satu tempat pemeriksaan imigrasi medan melayani permohonan paspor elektronik ' +
  'setiap hari kerja dengan antrean daring dan petugas yang ramah serta sigap membantu warga ';
const prose = (length: number) => PROSE.repeat(Math.ceil(length / PROSE.length) + 1).slice(0, length);

const photo = (bytes = 800_000): MediaFacts => ({
  kind: 'image',
  mime: 'image/jpeg',
  bytes,
  width: 1080,
  height: 1080,
  durationMs: null,
});
const video = (seconds = 30, bytes = 20_000_000): MediaFacts => ({
  kind: 'video',
  mime: 'video/mp4',
  bytes,
  width: 1280,
  height: 720,
  durationMs: seconds * 1000,
});

const copy = (
  platform: PlatformRulesInput['platform'],
  text: string,
  extra: Partial<PlatformRulesInput> = {},
) => validateForPlatform({ platform, text, media: [], mode: 'copy', sourceUrl: null, link: null, ...extra });
const codes = (result: { issues: { code: string }[] }) => result.issues.map((issue) => issue.code);
const errorCodes = (result: { issues: { code: string; severity: string }[] }) =>
  result.issues.filter((issue) => issue.severity === 'error').map((issue) => issue.code);

describe('TikTok rules', () => {
  const tiktok = (text: string, media: MediaFacts[], settings: PlatformRulesInput['settings'] = {}) =>
    copy('tiktok', text, { media, settings });

  it('holds a video caption to 2,200 UTF-16 units and a photo description to 4,000', () => {
    expect(errorCodes(tiktok(prose(2200), [video()]))).toEqual([]);
    expect(errorCodes(tiktok(prose(2201), [video()]))).toEqual(['text_too_long']);
    // An emoji is two UTF-16 units.
    expect(tiktok(`${prose(2198)}🙂`, [video()]).count.used).toBe(2200);
    expect(errorCodes(tiktok(prose(4000), [photo()]))).toEqual([]);
    expect(errorCodes(tiktok(prose(4001), [photo()]))).toEqual(['text_too_long']);
  });

  it('shortens a photo post title of more than 90 characters, with a warning', () => {
    const result = tiktok(`${prose(120)}\nDetail`, [photo()]);
    expect(codes(result)).toContain('title_shortened');
    expect(errorCodes(result)).toEqual([]);
    expect(codes(tiktok(`${prose(80)}\nDetail`, [photo()]))).not.toContain('title_shortened');
  });

  it('takes up to 35 photos or one video, never both, and needs one of them', () => {
    expect(
      errorCodes(
        tiktok(
          'Foto',
          Array.from({ length: 35 }, () => photo()),
        ),
      ),
    ).toEqual([]);
    expect(
      errorCodes(
        tiktok(
          'Foto',
          Array.from({ length: 36 }, () => photo()),
        ),
      ),
    ).toEqual(['too_many_images']);
    expect(errorCodes(tiktok('Campur', [photo(), video()]))).toEqual(['mixed_media']);
    expect(errorCodes(tiktok('Dua video', [video(), video()]))).toEqual(['too_many_videos']);
    expect(errorCodes(tiktok('Tanpa media', []))).toEqual(['media_required']);
  });

  it("refuses a video longer than the creator's maximum, and warns when the app is unaudited", () => {
    expect(errorCodes(tiktok('Video', [video(61)], { maxVideoSeconds: 60 }))).toEqual(['video_too_long']);
    expect(errorCodes(tiktok('Video', [video(60)], { maxVideoSeconds: 60 }))).toEqual([]);
    // TikTok's own ceiling without a creator figure: 10 minutes.
    expect(errorCodes(tiktok('Video', [video(601)]))).toEqual(['video_too_long']);
    const unaudited = tiktok('Video', [video()], { unaudited: true });
    expect(unaudited.issues).toEqual([
      expect.objectContaining({ code: 'tiktok_private_only', severity: 'warning' }),
    ]);
  });
});

describe('renderText', () => {
  const base = {
    body: 'Layanan paspor elektronik kini tersedia di MPP Medan.',
    creditTemplate: '{text}\n\n📍 {unit} {source_url}',
    unitName: 'Kantor Imigrasi Kelas I TPI Medan',
    sourceUrl: 'https://x.com/kanim_medan/status/1790000000000000001',
    link: null,
    tags: [],
  };

  it('applies the credit template with the office name and the source URL', () => {
    expect(renderText(base)).toBe(
      'Layanan paspor elektronik kini tersedia di MPP Medan.\n\n📍 Kantor Imigrasi Kelas I TPI Medan https://x.com/kanim_medan/status/1790000000000000001',
    );
  });

  it('prefers the reviewer override, then the platform variant, then the body', () => {
    expect(renderText({ ...base, variant: 'Versi X', textOverride: 'Teks dari humas' })).toMatch(
      /^Teks dari humas\n/,
    );
    expect(renderText({ ...base, variant: 'Versi X', textOverride: null })).toMatch(/^Versi X\n/);
    expect(renderText({ ...base, variant: '   ', textOverride: '' })).toMatch(/^Layanan paspor/);
  });

  it('leaves no dangling space when the source URL is missing', () => {
    expect(renderText({ ...base, sourceUrl: null })).toBe(
      'Layanan paspor elektronik kini tersedia di MPP Medan.\n\n📍 Kantor Imigrasi Kelas I TPI Medan',
    );
  });

  it('drops a template line whose placeholders are all empty, without piling up blank lines', () => {
    const rendered = renderText({
      ...base,
      sourceUrl: null,
      creditTemplate: '{text}\n\nSumber: {source_url}\n\nTautan: {link}\n\n— {unit}',
    });
    expect(rendered).toBe(
      'Layanan paspor elektronik kini tersedia di MPP Medan.\n\n— Kantor Imigrasi Kelas I TPI Medan',
    );
  });

  it('collapses the gap left by an empty placeholder between two filled ones', () => {
    const rendered = renderText({
      ...base,
      sourceUrl: null,
      link: 'https://imigrasi.go.id/paspor',
      creditTemplate: '{text} {source_url} {link}',
    });
    expect(rendered).toBe(
      'Layanan paspor elektronik kini tersedia di MPP Medan. https://imigrasi.go.id/paspor',
    );
  });

  it('renders hashtags from tags once each, skipping those already in the text', () => {
    const rendered = renderText({
      ...base,
      body: 'Pelayanan prima di #Imigrasi Medan 🛂',
      creditTemplate: '{text}\n\n{hashtags}\n\n📍 {unit}',
      tags: ['imigrasi', 'PelayananPrima', '#pelayananprima', 'Paspor Elektronik', '  ', '2024'],
    });
    expect(rendered).toBe(
      'Pelayanan prima di #Imigrasi Medan 🛂\n\n#PelayananPrima #PasporElektronik\n\n📍 Kantor Imigrasi Kelas I TPI Medan',
    );
  });

  it('does not take a longer hashtag in the text for the tag', () => {
    const rendered = renderText({
      ...base,
      body: 'Info #ImigrasiMedan',
      creditTemplate: '{text} {hashtags}',
      tags: ['Imigrasi'],
    });
    expect(rendered).toBe('Info #ImigrasiMedan #Imigrasi');
  });

  it('leaves out the hashtag line when there are no tags', () => {
    expect(renderText({ ...base, creditTemplate: '{text}\n\n{hashtags}\n\n📍 {unit}', tags: [] })).toBe(
      'Layanan paspor elektronik kini tersedia di MPP Medan.\n\n📍 Kantor Imigrasi Kelas I TPI Medan',
    );
  });

  it('puts the text first when a template forgets {text}, and publishes the text alone with no template', () => {
    expect(renderText({ ...base, creditTemplate: '📍 {unit}' })).toBe(
      'Layanan paspor elektronik kini tersedia di MPP Medan.\n\n📍 Kantor Imigrasi Kelas I TPI Medan',
    );
    expect(renderText({ ...base, creditTemplate: '  ' })).toBe(
      'Layanan paspor elektronik kini tersedia di MPP Medan.',
    );
  });

  it('normalises Windows line breaks and trims the text', () => {
    expect(
      renderText({ ...base, body: '  Baris satu\r\nBaris dua  \r\n', creditTemplate: '{text}\r\n— {unit}' }),
    ).toBe('Baris satu\nBaris dua\n— Kantor Imigrasi Kelas I TPI Medan');
  });

  it('keeps blank lines inside the office text as written', () => {
    expect(renderText({ ...base, body: 'Paragraf satu.\n\nParagraf dua.', creditTemplate: '{text}' })).toBe(
      'Paragraf satu.\n\nParagraf dua.',
    );
  });
});

describe('validateCreditTemplate', () => {
  it('accepts the default template', () => {
    expect(validateCreditTemplate('{text}\n\n📍 {unit} {source_url}')).toBeNull();
  });
  it('names an unknown placeholder', () => {
    expect(validateCreditTemplate('{text} {kantor}')).toContain('{kantor}');
  });
  it('requires {text} exactly once', () => {
    expect(validateCreditTemplate('📍 {unit}')).toContain('{text}');
    expect(validateCreditTemplate('{text} {text}')).toContain('exactly once');
  });
});

describe('X (280 weighted characters, twitter-text)', () => {
  it('counts with the published twitter-text v3 configuration', () => {
    const library = (twitterText as unknown as { configs: { version3: unknown } }).configs.version3;
    expect(X_TEXT_CONFIG).toEqual(library);
  });

  it('matches the twitter-text config of the official specs', () => {
    expect(X_TEXT_CONFIG).toEqual(JSON.parse(readFileSync(specPath('twitter-text-config-v3.json'), 'utf8')));
  });

  // 🛂 2 + space 1 + 🇮🇩 2 + space 1 + URL 23 + space 1 + "#Imigrasi" 9 = 39
  const tail =
    ' 🛂 🇮🇩 https://www.imigrasi.go.id/id/2024/06/layanan-paspor-elektronik-di-mal-pelayanan-publik #Imigrasi';
  const weighted = (total: number) => `${prose(total - 40)}${tail}`;

  it.each([
    [279, true],
    [280, true],
    [281, false],
  ])('%i weighted characters with emoji, a long URL and a hashtag → accepted: %s', (total, accepted) => {
    const text = weighted(total);
    expect(text.length).toBeGreaterThan(total + 60);
    const result = copy('x', text);
    expect(result.count).toEqual({ used: total, limit: 280, unit: 'weighted' });
    expect(errorCodes(result)).toEqual(accepted ? [] : ['text_too_long']);
  });

  it('tells the office by how much to shorten', () => {
    const issue = copy('x', weighted(291)).issues[0];
    expect(issue?.message).toBe(
      'X allows a text of up to 280 characters (every link counts as 23, an emoji as 2); this one has 291. Shorten it by 11 characters.',
    );
    expect(issue?.field).toBe('text');
  });

  it('counts an emoji as 2 and Indonesian letters as 1', () => {
    expect(countText('x', 'Selamat pagi 👋').used).toBe(15);
    expect(countText('x', '🇮🇩'.repeat(140)).used).toBe(280);
    expect(errorCodes(copy('x', '🇮🇩'.repeat(141)))).toEqual(['text_too_long']);
  });

  it('takes up to 4 photos or one video, never both', () => {
    expect(errorCodes(copy('x', 'Foto', { media: [photo(), photo(), photo(), photo()] }))).toEqual([]);
    expect(errorCodes(copy('x', 'Foto', { media: [photo(), photo(), photo(), photo(), photo()] }))).toEqual([
      'too_many_images',
    ]);
    expect(errorCodes(copy('x', 'Video', { media: [video(), video()] }))).toEqual(['too_many_videos']);
    expect(errorCodes(copy('x', 'Campur', { media: [photo(), video()] }))).toEqual(['mixed_media']);
  });

  it('only warns about a photo above 5 MB (media preparation shrinks it)', () => {
    const result = copy('x', 'Foto besar', { media: [photo(6 * 1024 * 1024)] });
    expect(errorCodes(result)).toEqual([]);
    expect(result.issues).toEqual([
      expect.objectContaining({ code: 'image_too_large', severity: 'warning', field: 'media[0]' }),
    ]);
    expect(result.issues[0]?.message).toBe(
      'Photo 1 is 6 MB, more than the 5 MB X accepts; it has to be made smaller before it is published.',
    );
  });

  it('refuses a video longer than 140 seconds', () => {
    expect(errorCodes(copy('x', 'Video', { media: [video(140)] }))).toEqual([]);
    expect(errorCodes(copy('x', 'Video', { media: [video(141)] }))).toEqual(['video_too_long']);
  });
});

describe('Bluesky (300 graphemes)', () => {
  // Each of these is one grapheme made of several code points.
  const clusters = ['👨‍👩‍👧', '🇮🇩', 'e\u0301', 'n\u0303', '👍🏽'];
  const text = (total: number) =>
    `Salam dari Jayapura ${clusters.join('')} ${prose(total - 20 - clusters.length - 1)}`;

  it.each([
    [299, true],
    [300, true],
    [301, false],
  ])('%i graphemes with emoji and combining marks → accepted: %s', (total, accepted) => {
    const candidate = text(total);
    expect([...candidate].length).toBeGreaterThan(total);
    const result = copy('bluesky', candidate);
    expect(result.count).toEqual({ used: total, limit: 300, unit: 'graphemes' });
    expect(errorCodes(result)).toEqual(accepted ? [] : ['text_too_long']);
  });

  it('also refuses text above 3,000 bytes even within 300 graphemes', () => {
    const families = '👨‍👩‍👧‍👦'.repeat(150);
    const result = copy('bluesky', families);
    expect(result.count.used).toBe(150);
    expect(errorCodes(result)).toEqual(['text_too_long']);
    expect(result.issues[0]?.message).toContain('3,000 bytes');
  });

  it('takes up to 4 photos or one video', () => {
    expect(
      errorCodes(copy('bluesky', 'Foto', { media: [photo(), photo(), photo(), photo(), photo()] })),
    ).toEqual(['too_many_images']);
    expect(errorCodes(copy('bluesky', 'Campur', { media: [photo(), video()] }))).toEqual(['mixed_media']);
  });
});

describe('Mastodon (the instance limit, URLs count as 23)', () => {
  const longUrl = `https://imigrasi.go.id/id/berita/${'a'.repeat(120)}`;

  it('counts any URL as 23 characters and a remote mention as its local part', () => {
    const text = `Info ${longUrl} dari @kanim_medan@mastodon.social`;
    // "Info " 5 + 23 + " dari " 6 + "@kanim_medan" 12
    expect(countText('mastodon', text)).toEqual({ used: 46, limit: 500, unit: 'graphemes' });
    expect(countText('mastodon', text, { urlLength: 30 }).used).toBe(53);
  });

  it('applies the default of 500', () => {
    const head = `${longUrl} `; // 24
    expect(errorCodes(copy('mastodon', head + prose(476)))).toEqual([]);
    expect(errorCodes(copy('mastodon', head + prose(477)))).toEqual(['text_too_long']);
  });

  it("applies the instance's own limit from the channel settings", () => {
    const text = prose(800);
    expect(errorCodes(copy('mastodon', text))).toEqual(['text_too_long']);
    const custom = copy('mastodon', text, { settings: { maxCharacters: 800 } });
    expect(custom.count).toEqual({ used: 800, limit: 800, unit: 'graphemes' });
    expect(errorCodes(custom)).toEqual([]);
    expect(errorCodes(copy('mastodon', `${text}!`, { settings: { maxCharacters: 800 } }))).toEqual([
      'text_too_long',
    ]);
  });

  it('attaches up to 4 media', () => {
    expect(
      errorCodes(copy('mastodon', 'Foto', { media: [photo(), photo(), photo(), photo(), photo()] })),
    ).toEqual(['too_many_images']);
  });
});

describe('Threads (500 characters, emoji by UTF-8 bytes)', () => {
  it('counts an emoji as its UTF-8 bytes', () => {
    expect(countText('threads', 'Halo 👍').used).toBe(9);
    expect(countText('threads', 'Halo 🇮🇩').used).toBe(13);
  });

  it.each([
    [499, true],
    [500, true],
    [501, false],
  ])('%i characters with an emoji → accepted: %s', (total, accepted) => {
    const result = copy('threads', `${prose(total - 5)} 🛂`);
    expect(result.count.used).toBe(total);
    expect(errorCodes(result)).toEqual(accepted ? [] : ['text_too_long']);
  });

  it('takes up to 20 carousel items, photos and videos mixed', () => {
    const twenty = [...Array.from({ length: 19 }, () => photo()), video()];
    expect(errorCodes(copy('threads', 'Galeri', { media: twenty }))).toEqual([]);
    expect(errorCodes(copy('threads', 'Galeri', { media: [...twenty, photo()] }))).toEqual([
      'too_many_media',
    ]);
  });

  it('refuses more than 5 links, counting the link attachment', () => {
    const links = (n: number) =>
      Array.from({ length: n }, (_, i) => `https://imigrasi.go.id/berita/${i}`).join(' ');
    expect(errorCodes(copy('threads', links(5)))).toEqual([]);
    expect(errorCodes(copy('threads', links(5), { link: 'https://imigrasi.go.id/berita/0/' }))).toEqual([]);
    expect(errorCodes(copy('threads', links(5), { link: 'https://imigrasi.go.id/paspor' }))).toEqual([
      'too_many_links',
    ]);
  });
});

describe('Instagram (media required, caption 2,200, 30 hashtags, 10 items)', () => {
  const hashtags = (n: number) => Array.from({ length: n }, (_, i) => `#Imigrasi${i + 1}`).join(' ');

  it('needs a photo or video', () => {
    const result = copy('instagram', 'Hanya teks');
    expect(errorCodes(result)).toEqual(['media_required']);
    expect(result.issues[0]?.message).toBe(
      'Instagram posts need at least one photo or video. Add one, or leave Instagram out of this post.',
    );
  });

  it.each([
    [30, true],
    [31, false],
  ])('%i hashtags → accepted: %s', (n, accepted) => {
    const result = copy('instagram', `Pelayanan paspor 🛂 ${hashtags(n)}`, { media: [photo()] });
    expect(errorCodes(result)).toEqual(accepted ? [] : ['too_many_hashtags']);
  });

  it.each([
    [2199, true],
    [2200, true],
    [2201, false],
  ])('a caption of %i characters → accepted: %s', (total, accepted) => {
    const result = copy('instagram', prose(total), { media: [photo()] });
    expect(result.count).toEqual({ used: total, limit: 2200, unit: 'characters' });
    expect(errorCodes(result)).toEqual(accepted ? [] : ['text_too_long']);
  });

  it('takes up to 10 carousel items', () => {
    const ten = Array.from({ length: 10 }, () => photo());
    expect(errorCodes(copy('instagram', 'Galeri', { media: ten }))).toEqual([]);
    expect(errorCodes(copy('instagram', 'Galeri', { media: [...ten, photo()] }))).toEqual([
      'too_many_images',
    ]);
    expect(
      errorCodes(
        copy('instagram', 'Galeri', {
          media: [...Array.from({ length: 6 }, () => photo()), ...Array.from({ length: 5 }, () => video())],
        }),
      ),
    ).toEqual(['too_many_media']);
  });
});

describe('Telegram (4,096 text, 1,024 caption, albums of 10)', () => {
  it.each([
    [1024, true, true],
    [1025, true, false],
    [1025, false, true],
    [4096, false, true],
    [4097, false, false],
  ])('%i characters, with media %s → accepted: %s', (total, withMedia, accepted) => {
    const result = copy('telegram', prose(total), { media: withMedia ? [photo()] : [] });
    expect(result.count).toEqual({ used: total, limit: withMedia ? 1024 : 4096, unit: 'characters' });
    expect(errorCodes(result)).toEqual(accepted ? [] : ['text_too_long']);
  });

  it('explains the caption limit and the way out', () => {
    const issue = copy('telegram', prose(1030), { media: [photo()] }).issues[0];
    expect(issue?.message).toBe(
      'Telegram allows a caption with photos or videos of up to 1,024 characters; this one has 1,030. Shorten it by 6 characters, or publish it without photos or videos.',
    );
  });

  it('sends up to 10 photos and videos in one album', () => {
    const ten = [...Array.from({ length: 8 }, () => photo()), video(), video()];
    expect(errorCodes(copy('telegram', 'Album', { media: ten }))).toEqual([]);
    expect(errorCodes(copy('telegram', 'Album', { media: [...ten, photo()] }))).toEqual(['too_many_media']);
  });
});

describe('Facebook, webhook and sandbox', () => {
  it.each([
    ['facebook', 63_206],
    ['webhook', 100_000],
    ['sandbox', 100_000],
  ] as const)('%s accepts %i characters and not one more', (platform, limit) => {
    expect(errorCodes(copy(platform, prose(limit)))).toEqual([]);
    expect(errorCodes(copy(platform, prose(limit + 1)))).toEqual(['text_too_long']);
  });
});

describe('every platform', () => {
  it.each(PLATFORMS)('%s refuses a post with nothing to publish', (platform) => {
    expect(codes(copy(platform, '   '))).toContain(
      platform === 'instagram' ? 'media_required' : 'content_empty',
    );
  });

  it('only produces codes from the published list', () => {
    const samples = [
      copy('x', prose(400), { media: [photo(9e6), video(200)] }),
      copy('instagram', ''),
      validateForPlatform({
        platform: 'facebook',
        text: 'x',
        media: [],
        mode: 'repost',
        sourceUrl: null,
        link: null,
      }),
    ];
    for (const sample of samples) {
      for (const issue of sample.issues) expect(VALIDATION_CODES).toContain(issue.code);
    }
  });

  it('has a limits entry for every platform', () => {
    expect(Object.keys(PLATFORM_LIMITS).sort()).toEqual([...PLATFORMS].sort());
  });
});

describe('repost and quote', () => {
  const repost = (platform: PlatformRulesInput['platform'], sourceUrl: string | null, text = 'teks') =>
    validateForPlatform({ platform, text, media: [], mode: 'repost', sourceUrl, link: null });
  const quote = (platform: PlatformRulesInput['platform'], sourceUrl: string | null, text: string) =>
    validateForPlatform({ platform, text, media: [], mode: 'quote', sourceUrl, link: null });

  it.each([
    ['x', 'https://x.com/kanim_medan/status/1790000000000000001'],
    ['bluesky', 'https://bsky.app/profile/kanim-medan.bsky.social/post/3kt5yqzq2zs2a'],
    ['mastodon', 'https://mastodon.social/@kanim_medan/112233445566778899'],
    ['telegram', 'https://t.me/kanim_medan/482'],
  ] as const)('a repost on %s of its own post is accepted', (platform, url) => {
    expect(repost(platform, url).issues).toEqual([]);
  });

  it('Facebook and Instagram have no repost or quote', () => {
    for (const platform of ['facebook', 'instagram'] as const)
      expect(codes(repost(platform, 'https://www.facebook.com/kanim.medan/posts/123'))).toEqual([
        'mode_unsupported',
      ]);
    for (const platform of ['facebook', 'instagram'] as const)
      expect(errorCodes(quote(platform, 'https://www.facebook.com/kanim.medan/posts/123', 'teks'))).toContain(
        'mode_unsupported',
      );
    expect(repost('instagram', null).issues[0]?.message).toBe(
      'Instagram has no reposts. Publish a copy with the credit line instead.',
    );
  });

  it('Threads reposts and quotes only a post its Threads source brought in, never a pasted link', () => {
    const permalink = 'https://www.threads.net/@kanim_medan/post/C8abc123';
    const pasted = repost('threads', permalink);
    expect(codes(pasted)).toEqual(['mode_unsupported']);
    expect(pasted.issues[0]?.message).toContain('a pasted link cannot be resolved');
    expect(errorCodes(quote('threads', permalink, 'teks'))).toEqual(['mode_unsupported']);
    const read = (originPlatform: string, mode: 'repost' | 'quote' = 'repost', text = 'teks') =>
      validateForPlatform({
        platform: 'threads',
        text,
        media: [],
        mode,
        sourceUrl: permalink,
        originPlatform,
        link: null,
      });
    expect(codes(read('threads'))).toEqual([]);
    expect(codes(read('instagram'))).toEqual(['mode_unsupported']);
    expect(codes(read('threads', 'quote'))).toEqual([]);
    expect(codes(read('instagram', 'quote'))).toEqual(['mode_unsupported']);
    // A quote is a thread of ours: its text counts against the 500 characters, and cannot be empty.
    expect(errorCodes(read('threads', 'quote', prose(501)))).toEqual(['text_too_long']);
    expect(errorCodes(read('threads', 'quote', ' '))).toEqual(['content_empty']);
  });

  it('Telegram forwards but has no quote posts', () => {
    expect(codes(quote('telegram', 'https://t.me/kanim_medan/482', 'teks'))).toEqual(['mode_unsupported']);
  });

  it('needs the source post', () => {
    const result = repost('x', null);
    expect(codes(result)).toEqual(['source_url_missing']);
    expect(result.issues[0]?.message).toBe(
      "To repost on X, the post needs the link to the office's original post on X.",
    );
  });

  it('names the platform the source post is really on', () => {
    const result = repost('x', 'https://bsky.app/profile/kanim-medan.bsky.social/post/3kt5yqzq2zs2a');
    expect(codes(result)).toEqual(['source_url_wrong_platform']);
    expect(result.issues[0]?.message).toContain('The original post is on Bluesky');
    expect(codes(repost('mastodon', 'https://x.com/kanim_medan/status/1790000000000000001'))).toEqual([
      'source_url_wrong_platform',
    ]);
  });

  it('says what a post address looks like when the link is not one', () => {
    const result = repost('x', 'https://x.com/kanim_medan');
    expect(codes(result)).toEqual(['source_url_invalid']);
    expect(result.issues[0]?.message).toContain('https://x.com/account/status/');
  });

  it('ignores the text of a repost but validates the text of a quote', () => {
    const url = 'https://x.com/kanim_medan/status/1790000000000000001';
    expect(repost('x', url, prose(400)).issues).toEqual([]);
    expect(errorCodes(quote('x', url, prose(281)))).toEqual(['text_too_long']);
    expect(errorCodes(quote('x', url, prose(280)))).toEqual([]);
  });
});

describe('offeredModes', () => {
  const origin = (platform: string) => ({ origin: { platform }, sourceUrl: null });

  it('offers a repost or quote only of an original on the channel’s own platform, where the platform has them', () => {
    expect(offeredModes('x', origin('x'))).toEqual(['copy', 'repost', 'quote']);
    expect(offeredModes('bluesky', origin('bluesky'))).toEqual(['copy', 'repost', 'quote']);
    expect(offeredModes('telegram', origin('telegram'))).toEqual(['copy', 'repost']);
    expect(offeredModes('threads', origin('threads'))).toEqual(['copy', 'repost', 'quote']);
    expect(offeredModes('instagram', origin('instagram'))).toEqual(['copy']);
    expect(offeredModes('x', origin('instagram'))).toEqual(['copy']);
    expect(offeredModes('youtube', origin('youtube'))).toEqual(['copy']);
    expect(offeredModes('sandbox', origin('rss'))).toEqual(['copy']);
  });

  it('falls back to the source URL the office gave when no source read the original', () => {
    const given = (sourceUrl: string | null) => ({ origin: null, sourceUrl });
    expect(offeredModes('x', given('https://x.com/kanim/status/1860000000000000001'))).toEqual([
      'copy',
      'repost',
      'quote',
    ]);
    expect(offeredModes('telegram', given('https://x.com/kanim/status/1860000000000000001'))).toEqual([
      'copy',
    ]);
    expect(offeredModes('x', given(null))).toEqual(['copy']);
    expect(offeredModes('threads', given('https://www.threads.net/@kanim/post/C0ffee12345'))).toEqual([
      'copy',
    ]);
  });
});
