import { describe, expect, it } from 'vitest';
import {
  FeedError,
  htmlToText,
  mastodonProfile,
  parseFeedDocument,
  shorten,
} from '../../src/platforms/feeds';

const BASE = 'https://kanim-pontianak.example/feed/';

const rss = (items: string, channel = '<title>Kanim</title>') =>
  `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>${channel}${items}</channel></rss>`;

describe('plain text from HTML', () => {
  it('keeps paragraphs and line breaks, drops tags, scripts and styles', () => {
    expect(
      htmlToText(
        '<div><h2>Jadwal</h2><p>Senin<br>Selasa<br/>Rabu</p><style>p{color:red}</style>' +
          '<ul><li>KTP</li><li>KK</li></ul><script type="text/javascript">alert("x")</script>' +
          '<blockquote>Kutipan</blockquote></div>',
      ),
    ).toBe('Jadwal\n\nSenin\nSelasa\nRabu\n\nKTP\n\nKK\n\nKutipan');
  });

  it('decodes named, decimal and hexadecimal entities and collapses spaces', () => {
    expect(
      htmlToText('  Paspor&nbsp;&amp;&nbsp;visa &#8211; &#x1F4CD; &quot;Kanim&quot; &lt;Kalbar&gt;  '),
    ).toBe('Paspor & visa – 📍 "Kanim" <Kalbar>');
  });

  it('leaves no run of more than one blank line', () => {
    expect(htmlToText('<p>Satu</p>\n\n\n<p></p><p>  </p><p>Dua</p>')).toBe('Satu\n\nDua');
  });
});

describe('shortening a summary', () => {
  it('cuts at a word and marks the cut', () => {
    expect(shorten('Layanan paspor dibuka hari Sabtu', 20)).toBe('Layanan paspor…');
    expect(shorten('Layanan', 20)).toBe('Layanan');
  });

  it('cuts inside a word when there is no space in the second half', () => {
    expect(shorten('Pemberitahuan-penting-sekali', 10)).toBe('Pemberita…');
  });
});

describe('parsing a feed document', () => {
  it('resolves relative links and media against the feed address and drops non-HTTP ones', () => {
    const { items } = parseFeedDocument(
      rss(`
<item><title>Relatif</title><link>../berita/1</link><guid>1</guid>
  <enclosure url="/uploads/a.jpg" type="image/jpeg" length="10"/>
  <media:content url="uploads/b.png" medium="image"/>
  <media:content url="javascript:alert(1)" type="image/png"/>
</item>
<item><title>Surat</title><link>mailto:humas@kanim.example</link><guid>2</guid></item>`),
      BASE,
    );
    expect(items[0]).toMatchObject({
      url: 'https://kanim-pontianak.example/berita/1',
      media: [
        { url: 'https://kanim-pontianak.example/uploads/a.jpg', kind: 'image' },
        { url: 'https://kanim-pontianak.example/feed/uploads/b.png', kind: 'image' },
      ],
    });
    expect(items[1]).toMatchObject({ key: '2', url: null });
  });

  it('keys an item without guid by its link, and without either by its title and date', () => {
    const { items } = parseFeedDocument(
      rss(`
<item><title>Tautan</title><link>https://kanim-pontianak.example/a</link></item>
<item><title>Tanpa tautan</title><pubDate>Sat, 05 Oct 2024 08:30:00 +0700</pubDate></item>
<item><title>Tanggal rusak</title><pubDate>Sabtu, 5 Oktober 2024 pukul 08.30 WIB</pubDate></item>`),
      BASE,
    );
    expect(items.map((i) => [i.key, i.publishedAt])).toEqual([
      ['https://kanim-pontianak.example/a', null],
      ['Tanpa tautan|2024-10-05T01:30:00.000Z', new Date('2024-10-05T01:30:00Z')],
      ['Tanggal rusak|', null],
    ]);
  });

  it('prefers the summary to the full article, and does not repeat a title the summary starts with', () => {
    const { items } = parseFeedDocument(
      rss(`
<item><guid>1</guid><title>Jam layanan</title>
  <description><![CDATA[<p>Ringkasan singkat.</p>]]></description>
  <content:encoded><![CDATA[<p>Artikel panjang.</p>]]></content:encoded></item>
<item><guid>2</guid><title>Kanim Pontianak buka Sabtu</title>
  <description>Kanim Pontianak buka Sabtu untuk layanan paspor.</description></item>
<item><guid>3</guid><content:encoded><![CDATA[<p>Hanya artikel.</p>]]></content:encoded></item>
<item><guid>4</guid><title>Hanya judul</title></item>`),
      BASE,
    );
    expect(items.map((i) => i.text)).toEqual([
      'Jam layanan\n\nRingkasan singkat.',
      'Kanim Pontianak buka Sabtu untuk layanan paspor.',
      'Hanya artikel.',
      'Hanya judul',
    ]);
  });

  it('shortens a long summary to a thousand characters', () => {
    const long = Array.from({ length: 300 }, (_, i) => `kata${i}`).join(' ');
    const [item] = parseFeedDocument(
      rss(`<item><guid>1</guid><description>${long}</description></item>`),
      BASE,
    ).items;
    expect(item!.text.length).toBeLessThanOrEqual(1_000);
    expect(item!.text.endsWith('…')).toBe(true);
  });

  it('takes only pictures and videos, each once', () => {
    const [item] = parseFeedDocument(
      rss(`<item><guid>1</guid>
  <enclosure url="https://cdn.example/laporan.pdf" type="application/pdf" length="10"/>
  <enclosure url="https://cdn.example/rekaman.mp3" type="audio/mpeg" length="10"/>
  <enclosure url="https://cdn.example/foto.jpg" type="image/jpeg" length="10"/>
  <media:content url="https://cdn.example/foto.jpg" medium="image"><media:description>Sama</media:description></media:content>
  <media:content url="https://cdn.example/klip" medium="video"/>
</item>`),
      BASE,
    ).items;
    expect(item!.media).toEqual([
      { url: 'https://cdn.example/foto.jpg', kind: 'image', altText: '' },
      { url: 'https://cdn.example/klip', kind: 'video', altText: '' },
    ]);
  });

  it('reads RSS 1.0 with Dublin Core dates', () => {
    const snapshot = parseFeedDocument(
      `<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://kanim.example/"><title>Kanim RDF</title></channel>
  <item rdf:about="https://kanim.example/1"><title>Satu</title><link>https://kanim.example/1</link>
    <dc:date>2024-10-05T08:30:00+07:00</dc:date><description>Isi satu</description></item>
</rdf:RDF>`,
      BASE,
    );
    expect(snapshot).toEqual({
      title: 'Kanim RDF',
      items: [
        {
          key: 'https://kanim.example/1',
          url: 'https://kanim.example/1',
          publishedAt: new Date('2024-10-05T01:30:00Z'),
          text: 'Satu\n\nIsi satu',
          media: [],
        },
      ],
    });
  });

  it('reads Atom: a link without rel is the alternate, content stands in for a missing summary', () => {
    const [entry] = parseFeedDocument(
      `<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">Kanim &amp;lt;Atom&amp;gt;</title>
<entry><id>urn:uuid:1</id><title type="html">&lt;b&gt;Tebal&lt;/b&gt;</title>
  <link rel="self" href="/self"/><link href="/berita/1"/>
  <updated>2024-10-05T01:30:00Z</updated>
  <content type="html">&lt;p&gt;Isi &amp;amp; lengkap&lt;/p&gt;</content></entry></feed>`,
      BASE,
    ).items;
    expect(entry).toEqual({
      key: 'urn:uuid:1',
      url: 'https://kanim-pontianak.example/berita/1',
      publishedAt: new Date('2024-10-05T01:30:00Z'),
      text: 'Tebal\n\nIsi & lengkap',
      media: [],
    });
  });

  it('refuses what is not a feed, for good', () => {
    for (const document of [
      '<!DOCTYPE html><html><body><p>Beranda</p></body></html>',
      '{"items": []}',
      '<?xml version="1.0"?><urlset><url><loc>https://kanim.example/</loc></url></urlset>',
      'Layanan tutup',
    ]) {
      const error = (() => {
        try {
          parseFeedDocument(document, BASE);
        } catch (e) {
          return e;
        }
      })();
      expect(error, document).toBeInstanceOf(FeedError);
      expect((error as FeedError).retryable).toBe(false);
    }
  });
});

describe('Mastodon profile addresses', () => {
  it('finds the instance and the account name', () => {
    expect(mastodonProfile('https://mastodon.social/@kanim_pontianak')).toEqual({
      instanceUrl: 'https://mastodon.social',
      acct: 'kanim_pontianak',
    });
    expect(mastodonProfile('https://kalbar.example:8443/users/Imigrasi/')).toEqual({
      instanceUrl: 'https://kalbar.example:8443',
      acct: 'Imigrasi',
    });
  });

  it('refuses a status, a remote account, another scheme and a malformed address', () => {
    for (const url of [
      'https://mastodon.social/@kanim/113000000000000000',
      'https://mastodon.social/@kanim@kalbar.example',
      'ftp://mastodon.social/@kanim',
      'mastodon.social/@kanim',
      'https://mastodon.social/explore',
    ])
      expect(mastodonProfile(url), url).toBeNull();
  });
});
