import type { Readable } from 'node:stream';

/** Helpers several adapters share: reading media streams, waiting between polls, matching posts by text. */

/** Reconciliation looks this far before the first attempt, for clock differences between Gaung and a platform. */
export const RECONCILE_SKEW_MS = 2 * 60_000;

/**
 * The comparable core of a post's text. Platforms rewrite links (t.co, display truncation) and
 * escape HTML, so links are dropped, entities decoded, Unicode normalised and whitespace collapsed.
 */
export function textFingerprint(text: string): string {
  return decodeEntities(text)
    .normalize('NFC')
    .replace(/https?:\/\/\S+/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity[0] === '#') {
      const code =
        entity[1] === 'x' || entity[1] === 'X'
          ? Number.parseInt(entity.slice(2), 16)
          : Number(entity.slice(1));
      return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[entity.toLowerCase()] ?? whole;
  });
}

/** Appends the delivery's link to its text unless the rendered text already carries it. */
export function withLink(text: string, link: string | null): string {
  if (!link || text.includes(link)) return text;
  return text.length > 0 ? `${text}\n\n${link}` : link;
}

/** Yields the stream's bytes in chunks of exactly `size` bytes (the last one may be shorter). */
export async function* readChunks(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of stream) {
    let data = Buffer.isBuffer(piece) ? piece : Buffer.from(piece as Uint8Array);
    while (pendingBytes + data.length >= size) {
      const take = size - pendingBytes;
      pending.push(data.subarray(0, take));
      yield Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      data = data.subarray(take);
    }
    if (data.length > 0) {
      pending.push(data);
      pendingBytes += data.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}

/** Waits `ms`, or rejects early when the worker shuts down. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
