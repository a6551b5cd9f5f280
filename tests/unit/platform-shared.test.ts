import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readChunks, textFingerprint, withLink } from '../../src/platforms/shared';

describe('helpers shared by platform adapters', () => {
  it('re-cuts a stream of uneven pieces into fixed-size chunks', async () => {
    const bytes = Buffer.from(Array.from({ length: 23 }, (_, i) => i));
    const pieces = [bytes.subarray(0, 3), bytes.subarray(3, 4), bytes.subarray(4, 17), bytes.subarray(17)];
    const chunks: Buffer[] = [];
    for await (const chunk of readChunks(Readable.from(pieces), 5)) chunks.push(chunk);
    expect(chunks.map((c) => c.length)).toEqual([5, 5, 5, 5, 3]);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
  });

  it('matches a post whatever the platform did to its links, entities and spacing', () => {
    const sent = 'Imigrasi & warga <Pontianak>\n\n📍 Kanim https://imigrasi.go.id/a?b=1';
    expect(textFingerprint('Imigrasi &amp; warga &lt;Pontianak&gt;\n📍 Kanim https://t.co/AbC123xyz0')).toBe(
      textFingerprint(sent),
    );
    expect(textFingerprint('Imigrasi & warga Pontianak 📍 Kanim')).not.toBe(textFingerprint(sent));
  });

  it('adds the link only when the text does not carry it', () => {
    expect(withLink('Baca', 'https://a.example/x')).toBe('Baca\n\nhttps://a.example/x');
    expect(withLink('Baca https://a.example/x', 'https://a.example/x')).toBe('Baca https://a.example/x');
    expect(withLink('Baca', null)).toBe('Baca');
  });
});
