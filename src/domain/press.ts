/** Pure rules of the press room: how downloads are named. */

const EXTENSION_OF_MIME: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/heic': 'heic',
  'image/avif': 'avif',
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'video/webm': 'webm',
};

const WORDS_IN_NAME = 6;

/** Lower-case ASCII words of a text, accents dropped: "Paspor Simpatik, Surabaya!" → paspor-simpatik-surabaya. */
function wordsOf(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .slice(0, WORDS_IN_NAME)
    .join('-');
}

/**
 * The file name of a press download, named after the post: office, day of publication (UTC), the
 * text's first words, and the medium's number when the post has several —
 * `kantor-surabaya-2031-03-03-pelayanan-paspor-simpatik-2.jpg`. Plain ASCII, so it survives every
 * browser and e-mail client.
 */
export function pressFileName(input: {
  unitSlug: string;
  publishedAt: Date;
  text: string;
  index: number;
  count: number;
  mime: string;
}): string {
  const parts = [input.unitSlug, input.publishedAt.toISOString().slice(0, 10), wordsOf(input.text)];
  if (input.count > 1) parts.push(String(input.index));
  const extension = EXTENSION_OF_MIME[input.mime] ?? 'bin';
  return `${parts.filter(Boolean).join('-')}.${extension}`;
}
