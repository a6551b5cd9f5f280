import type { Readable } from 'node:stream';
import type { AxiosResponse } from 'axios';
import type { PlatformContext } from './types';

/** Helpers several adapters share: reading media streams, waiting between polls, matching posts by text. */

/**
 * The largest answer a source read accepts from a platform API. A page of 100 posts with their
 * media fields is well under 1 MB; anything far beyond is hostile or broken and is refused whole.
 */
export const SOURCE_ANSWER_MAX_BYTES = 8 * 1024 * 1024;

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

const NAMED_ENTITIES = new Map<string, string>(
  Object.entries({
    amp: '&',
    lt: '<',
    gt: '>',
    quot: '"',
    apos: "'",
    nbsp: ' ',
    hellip: '…',
    mdash: '—',
    ndash: '–',
    lsquo: '‘',
    rsquo: '’',
    ldquo: '“',
    rdquo: '”',
    laquo: '«',
    raquo: '»',
    middot: '·',
    bull: '•',
    copy: '©',
    reg: '®',
    trade: '™',
    euro: '€',
  }),
);

/** A character reference names a Unicode scalar value: not NUL, not a surrogate, at most U+10FFFF. */
const isScalarValue = (code: number) => code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff);

/** The longest reference read (`&#x10FFFF;` and every named one fit). */
const REFERENCE_MAX = 34;

/** The character a reference (what stands between `&` and `;`) names, or undefined. */
function referenced(reference: string): string | undefined {
  if (reference.charCodeAt(0) !== 35 /* # */)
    return NAMED_ENTITIES.get(reference) ?? NAMED_ENTITIES.get(reference.toLowerCase());
  const hex = reference[1] === 'x' || reference[1] === 'X';
  const digits = reference.slice(hex ? 2 : 1);
  if (!(hex ? /^[0-9a-f]{1,8}$/i : /^[0-9]{1,10}$/).test(digits)) return undefined;
  const code = Number.parseInt(digits, hex ? 16 : 10);
  return isScalarValue(code) ? String.fromCodePoint(code) : undefined;
}

/**
 * Decodes numeric and a few named references; one that names no character stays as written. One
 * forward scan with `indexOf`: feeds can hold millions of references.
 */
export function decodeEntities(text: string): string {
  let amp = text.indexOf('&');
  if (amp < 0) return text;
  const parts: string[] = [];
  let copied = 0;
  // The next `;` after an `&` is also the next one after every `&` before it: found once, not per `&`.
  let semi = -1;
  while (amp >= 0) {
    if (semi <= amp) semi = text.indexOf(';', amp + 1);
    if (semi < 0) break;
    const character = semi - amp <= REFERENCE_MAX ? referenced(text.slice(amp + 1, semi)) : undefined;
    if (character === undefined) {
      amp = text.indexOf('&', amp + 1);
      continue;
    }
    parts.push(text.slice(copied, amp), character);
    copied = semi + 1;
    amp = text.indexOf('&', copied);
  }
  parts.push(text.slice(copied));
  return parts.join('');
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

/** Credentials with an OAuth access token that runs out. */
export interface ExpiringCredentials {
  accessToken: string;
  expiresAt: string;
}

/** How an adapter reads, renews and recognises a refused access token. */
export interface ExpiringTokenRules<C extends ExpiringCredentials> {
  credentials(ctx: PlatformContext): C;
  /** Renews the access token and stores the new credentials. */
  refresh(ctx: PlatformContext): Promise<C>;
  /** Renew this long before the token runs out. */
  marginMs: number;
  /** Whether a failed request says the platform refused the access token. */
  refused(error: unknown): boolean;
}

/**
 * A fresh access token, and requests made with it: a request the platform refuses for its token
 * renews the token once and tries again.
 */
export function expiringToken<C extends ExpiringCredentials>(rules: ExpiringTokenRules<C>) {
  const fresh = (credentials: C) => Date.parse(credentials.expiresAt) - Date.now() > rules.marginMs;
  async function accessToken(ctx: PlatformContext): Promise<string> {
    const current = rules.credentials(ctx);
    if (fresh(current)) return current.accessToken;
    return (await rules.refresh(ctx)).accessToken;
  }
  async function authorized<T>(
    ctx: PlatformContext,
    run: (headers: { authorization: string }) => Promise<AxiosResponse<T>>,
  ): Promise<AxiosResponse<T>> {
    const token = await accessToken(ctx);
    try {
      return await run({ authorization: `Bearer ${token}` });
    } catch (error) {
      if (!rules.refused(error)) throw error;
      const renewed = await rules.refresh(ctx);
      return run({ authorization: `Bearer ${renewed.accessToken}` });
    }
  }
  return { fresh, accessToken, authorized };
}

/**
 * Stores renewed credentials with a compare-and-set; when another worker stored first, its
 * credentials are the ones to use.
 */
export async function storeRenewed<C extends ExpiringCredentials & Record<string, unknown>>(
  ctx: PlatformContext,
  next: C,
  parse: (stored: unknown) => C,
): Promise<C> {
  if (await ctx.saveCredentials(next, new Date(next.expiresAt))) return next;
  return parse(await ctx.reloadCredentials());
}
