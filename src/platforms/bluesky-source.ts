import dns from 'node:dns/promises';
import type { AxiosInstance } from 'axios';
import { isAxiosError } from 'axios';
import { z } from 'zod';
import { createHttpClient } from './http';
import { withLink } from './shared';
import { getSourceJson, malformed } from './source-read';
import {
  type ErrorClass,
  type PlatformContext,
  PlatformError,
  type PostOrigin,
  type SourceItem,
  type SourceMedia,
  type SourceReader,
  type SourceReadRequest,
  type SourceReadResult,
} from './types';

/**
 * An office's Bluesky account as a source, read from its own repository on its own PDS, so any PDS
 * works and no AppView is needed: handle → DID (`com.atproto.identity.resolveHandle` on the PDS
 * named in the `pdsUrl` setting, or the handle's DNS TXT record / well-known file) → DID document
 * (did:plc from the configured PLC directory, did:web from its host) → the PDS it names. Posts are
 * `com.atproto.repo.listRecords` on `app.bsky.feed.post`, newest record key first; images and video
 * are blobs fetched with `com.atproto.sync.getBlob`. Public repositories need no credentials.
 */

const POST = 'app.bsky.feed.post';
const DEFAULT_PLC = 'https://plc.directory';

const settingsSchema = z
  .object({
    handle: z.string().min(1).optional(),
    did: z.string().startsWith('did:').optional(),
    pdsUrl: z.url({ protocol: /^https?$/ }).optional(),
  })
  .refine((s) => s.handle || s.did, 'a Bluesky source needs a handle or a DID');

interface Blob {
  ref?: { $link?: string };
  mimeType?: string;
  size?: number;
}

interface PostRecord {
  text?: string;
  createdAt?: string;
  reply?: unknown;
  facets?: {
    index?: { byteStart?: number; byteEnd?: number };
    features?: { $type?: string; uri?: string }[];
  }[];
  embed?: Embed;
}

interface Embed {
  $type?: string;
  images?: { image?: Blob; alt?: string }[];
  video?: Blob;
  alt?: string;
  external?: { uri?: string };
  media?: Embed;
  record?: { uri?: string; cid?: string; record?: { uri?: string; cid?: string } };
}

interface ListedRecord {
  uri: string;
  cid: string;
  value: PostRecord;
}

export interface BlueskyRepo {
  did: string;
  handle: string | null;
  pds: string;
}

const HANDLE = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

const problem = (message: string) => new PlatformError({ kind: 'invalid', message });

/** A handle's DID from its DNS TXT record (`_atproto.<handle>`) or its well-known file. */
async function handleDid(ctx: PlatformContext, handle: string, classify: Classify): Promise<string> {
  try {
    const records = await dns.resolveTxt(`_atproto.${handle}`);
    const did = records.map((r) => r.join('')).find((r) => r.startsWith('did='));
    if (did) return did.slice(4);
  } catch {
    // No TXT record: the well-known file is the other documented way.
  }
  const http = createHttpClient(`https://${handle}`, { signal: ctx.signal, reach: ctx.reach });
  const answer = await http
    .get<string>('/.well-known/atproto-did', { responseType: 'text', maxContentLength: 2048 })
    .catch((error: unknown) => {
      throw new PlatformError(classify(error));
    });
  const did = String(answer.data).trim();
  if (!did.startsWith('did:')) throw problem(`the handle ${handle} names no DID`);
  return did;
}

/** The DID document's PDS (`#atproto_pds`) and handle (`at://` in alsoKnownAs). */
async function didDocument(
  ctx: PlatformContext,
  did: string,
  classify: Classify,
): Promise<{ pds: string; handle: string | null }> {
  let http: AxiosInstance;
  let path: string;
  if (did.startsWith('did:plc:')) {
    http = createHttpClient(ctx.endpoints.plcDirectory ?? DEFAULT_PLC, { signal: ctx.signal });
    path = `/${encodeURIComponent(did)}`;
  } else if (did.startsWith('did:web:')) {
    const host = decodeURIComponent(did.slice('did:web:'.length));
    if (host.includes(':') && !host.includes('%'))
      throw problem(`Gaung reads did:web only at a host's root: ${did}`);
    http = createHttpClient(`https://${host}`, { signal: ctx.signal, reach: ctx.reach });
    path = '/.well-known/did.json';
  } else throw problem(`unsupported DID method: ${did}`);
  const { data } = await getSourceJson<{
    id?: string;
    alsoKnownAs?: string[];
    service?: { id?: string; type?: string; serviceEndpoint?: unknown }[];
  }>(http, path, { platform: 'Bluesky', classify });
  if (data.id !== did) throw problem(`the DID document of ${did} names another DID`);
  const service = (data.service ?? []).find(
    (s) =>
      (s.id === '#atproto_pds' || s.id === `${did}#atproto_pds`) && s.type === 'AtprotoPersonalDataServer',
  );
  if (typeof service?.serviceEndpoint !== 'string' || !URL.canParse(service.serviceEndpoint))
    throw problem(`the DID document of ${did} names no PDS`);
  const aka = (data.alsoKnownAs ?? []).find((a) => a.startsWith('at://'));
  return { pds: service.serviceEndpoint.replace(/\/+$/, ''), handle: aka ? aka.slice(5) : null };
}

type Classify = (error: unknown) => ErrorClass;

/** Where the account's repository lives, resolved as the module comment says. */
export async function resolveRepo(
  ctx: PlatformContext,
  classify: Classify,
  known?: { did?: string },
): Promise<BlueskyRepo> {
  const settings = settingsSchema.parse(ctx.channel.settings);
  const handle = settings.handle?.replace(/^@/, '').toLowerCase();
  let did = known?.did ?? settings.did;
  if (!did && handle) {
    if (!HANDLE.test(handle)) throw problem(`not a Bluesky handle: ${settings.handle}`);
    if (settings.pdsUrl) {
      const pds = createHttpClient(settings.pdsUrl, { signal: ctx.signal, reach: ctx.reach });
      const { data } = await getSourceJson<{ did?: string }>(
        pds,
        '/xrpc/com.atproto.identity.resolveHandle',
        {
          platform: 'Bluesky',
          params: { handle },
          classify,
        },
      );
      did = data.did;
    } else did = await handleDid(ctx, handle, classify);
  }
  if (!did?.startsWith('did:')) throw problem(`the handle ${handle} names no DID`);
  const document = await didDocument(ctx, did, classify);
  if (handle && !known?.did && document.handle !== handle)
    throw problem(`the DID document of ${did} does not claim the handle ${handle}`);
  return { did, handle: document.handle ?? handle ?? null, pds: settings.pdsUrl ?? document.pds };
}

/** Link facets carry the full URL of links the app shortened in the text; the text gets them back. */
function fullText(record: PostRecord): string {
  const bytes = Buffer.from(record.text ?? '', 'utf8');
  const links = (record.facets ?? [])
    .map((facet) => ({
      start: facet.index?.byteStart ?? -1,
      end: facet.index?.byteEnd ?? -1,
      uri: facet.features?.find((f) => f.$type === 'app.bsky.richtext.facet#link')?.uri,
    }))
    .filter(
      (l): l is { start: number; end: number; uri: string } =>
        !!l.uri && l.start >= 0 && l.end <= bytes.length && l.start < l.end,
    )
    .sort((a, b) => b.start - a.start);
  let text = bytes;
  let floor = bytes.length;
  for (const link of links) {
    if (link.end > floor) continue;
    text = Buffer.concat([text.subarray(0, link.start), Buffer.from(link.uri), text.subarray(link.end)]);
    floor = link.start;
  }
  return text.toString('utf8');
}

const blobUrl = (repo: BlueskyRepo, blob: Blob | undefined) =>
  blob?.ref?.$link
    ? `${repo.pds}/xrpc/com.atproto.sync.getBlob?did=${encodeURIComponent(repo.did)}&cid=${encodeURIComponent(blob.ref.$link)}`
    : null;

function embedMedia(repo: BlueskyRepo, embed: Embed | undefined): SourceMedia[] {
  if (!embed) return [];
  switch (embed.$type) {
    case 'app.bsky.embed.images':
      return (embed.images ?? []).flatMap((image) => {
        const url = blobUrl(repo, image.image);
        return url ? [{ url, kind: 'image' as const, altText: image.alt ?? '' }] : [];
      });
    case 'app.bsky.embed.video': {
      const url = blobUrl(repo, embed.video);
      return url ? [{ url, kind: 'video', altText: embed.alt ?? '' }] : [];
    }
    case 'app.bsky.embed.recordWithMedia':
      return embedMedia(repo, embed.media);
    default:
      return [];
  }
}

const rkeyOf = (uri: string) => uri.split('/').pop() ?? '';

export function blueskyItem(repo: BlueskyRepo, record: ListedRecord): SourceItem {
  const value = record.value;
  const createdAt = value.createdAt ? new Date(value.createdAt) : null;
  const publishedAt = createdAt && !Number.isNaN(createdAt.getTime()) ? createdAt : null;
  const actor = repo.handle ?? repo.did;
  const url = `https://bsky.app/profile/${actor}/post/${rkeyOf(record.uri)}`;
  const external =
    value.embed?.$type === 'app.bsky.embed.external' ? (value.embed.external?.uri ?? null) : null;
  const quoted = value.embed?.record?.record ?? value.embed?.record;
  const ref: Record<string, string> = { uri: record.uri, cid: record.cid };
  if (quoted?.uri && quoted.cid && value.embed?.$type !== 'app.bsky.embed.images') {
    ref.quotedUri = quoted.uri;
    ref.quotedCid = quoted.cid;
  }
  return {
    key: record.uri,
    url,
    publishedAt,
    text: withLink(fullText(value), external),
    media: embedMedia(repo, value.embed),
    origin: {
      platform: 'bluesky',
      nativeId: record.uri,
      url,
      authorHandle: repo.handle ? `@${repo.handle}` : null,
      publishedAt: (publishedAt ?? new Date()).toISOString(),
      ref,
    },
    kind: value.reply ? 'reply' : 'post',
  };
}

/** At most this many pages of 100 records per read. */
const MAX_PAGES = 10;

async function readSource(
  ctx: PlatformContext,
  request: SourceReadRequest,
  classify: Classify,
): Promise<SourceReadResult> {
  const repo = await resolveRepo(ctx, classify);
  const pds = createHttpClient(repo.pds, { signal: ctx.signal, reach: ctx.reach });
  const items: SourceItem[] = [];
  let newest: string | null = null;
  let cursor: string | undefined;
  const since = request.since.getTime();
  read: for (let page = 0; page < MAX_PAGES && items.length < request.limit; page++) {
    const { data } = await getSourceJson<{ records?: unknown; cursor?: string }>(
      pds,
      '/xrpc/com.atproto.repo.listRecords',
      {
        platform: 'Bluesky',
        params: { repo: repo.did, collection: POST, limit: 100, ...(cursor ? { cursor } : {}) },
        classify,
      },
    );
    if (!Array.isArray(data.records)) throw malformed('Bluesky', 'a record list without records');
    for (const record of data.records as ListedRecord[]) {
      if (typeof record?.uri !== 'string' || typeof record.cid !== 'string' || !record.value)
        throw malformed('Bluesky', 'a record without its URI, CID or value');
      const rkey = rkeyOf(record.uri);
      // Record keys of posts are TIDs, newest first: the cursor is the newest key read.
      if (request.cursor && rkey <= request.cursor) break read;
      if (newest === null || rkey > newest) newest = rkey;
      const item = blueskyItem(repo, record);
      if (item.publishedAt && item.publishedAt.getTime() < since) {
        if (!request.cursor) break read;
        continue;
      }
      items.push(item);
      if (items.length >= request.limit) break read;
    }
    cursor = data.cursor;
    if (!cursor || data.records.length === 0) break;
  }
  return { items, cursor: newest ?? request.cursor };
}

/** getRecord on the original's repository: RecordNotFound means it was deleted. */
async function originExists(ctx: PlatformContext, origin: PostOrigin, classify: Classify): Promise<boolean> {
  const uri = origin.ref?.uri ?? origin.nativeId;
  const [, , did, collection, rkey] = uri.split('/');
  if (!did || !collection || !rkey) throw problem(`not an at:// record URI: ${uri}`);
  const repo = await resolveRepo(ctx, classify, { did });
  const pds = createHttpClient(repo.pds, { signal: ctx.signal, reach: ctx.reach });
  let missing = false;
  try {
    const { data } = await getSourceJson<{ uri?: string; cid?: string }>(
      pds,
      '/xrpc/com.atproto.repo.getRecord',
      {
        platform: 'Bluesky',
        params: { repo: did, collection, rkey },
        classify: (error) => {
          const body = isAxiosError(error)
            ? (error.response?.data as { error?: string } | undefined)
            : undefined;
          if (body?.error === 'RecordNotFound') missing = true;
          return classify(error);
        },
      },
    );
    return data.uri === uri;
  } catch (error) {
    if (missing) return false;
    throw error;
  }
}

export function createBlueskySource(classify: Classify): SourceReader {
  return {
    readSource: (ctx, request) => readSource(ctx, request, classify),
    originExists: (ctx, origin) => originExists(ctx, origin, classify),
  };
}
