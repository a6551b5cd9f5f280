import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { MediaFacts } from '../domain/media-rules';
import type { DeliveryMode, Platform, SourceKind } from '../domain/vocabulary';

/**
 * Which addresses a client may reach. URLs typed in by unit administrators (webhooks, Mastodon
 * instances, Bluesky PDSes) are `public`: a host resolving to a loopback, private, link-local or
 * otherwise internal address is refused, so a channel cannot be aimed at Gaung's own network. The
 * check runs on every connection, after DNS, so a name cannot be re-pointed afterwards.
 */
export type NetworkReach = 'public' | 'any';

/**
 * The one interface every platform adapter implements. Adapters never import the database:
 * everything they need arrives in a PlatformContext, and what they must persist (rotated tokens)
 * goes back through its callbacks.
 */

/** Base URLs of the platforms whose address is global (Mastodon and Bluesky take theirs per channel). */
export interface PlatformEndpoints {
  xApi: string;
  xUpload: string;
  graph: string;
  threads: string;
  /** Threads' authorization window. */
  threadsAuth: string;
  telegram: string;
  /** Google's API host: the Data API under /youtube/v3, uploads under /upload/youtube/v3. */
  youtube: string;
  googleAuth: string;
  googleToken: string;
  /** TikTok's Open API host (Content Posting API, /v2/oauth/token/, Display API). */
  tiktok: string;
  tiktokAuth: string;
  /** The did:plc directory Bluesky sources resolve DIDs with (https://plc.directory when absent). */
  plcDirectory?: string;
  /** Where YouTube serves public channel feeds (/feeds/videos.xml; https://www.youtube.com when absent). */
  youtubeFeeds?: string;
}

/** OAuth apps registered by the operator, where a platform needs one, and its API keys. */
export interface PlatformApps {
  x?: { clientId: string; clientSecret?: string };
  meta?: { appId: string; appSecret: string };
  threads?: { appId: string; appSecret: string };
  google?: { clientId: string; clientSecret: string };
  tiktok?: { clientKey: string; clientSecret: string };
  /** The Cloud project's API key, for public YouTube data (videos.list) where no token is at hand. */
  youtube?: { apiKey: string };
}

export interface PlatformContext {
  channel: {
    id: string;
    platform: Platform;
    /** Non-secret, platform-specific settings (instance URL, page id, chat id…). */
    settings: Record<string, unknown>;
  };
  /** Decrypted credentials, parsed with the adapter's `credentialsSchema`. */
  credentials: Record<string, unknown>;
  /**
   * Persist rotated credentials atomically (compare-and-set on the stored version). Resolves false
   * when another process rotated them first; the adapter should then re-read via `reloadCredentials`.
   */
  saveCredentials(next: Record<string, unknown>, expiresAt: Date | null): Promise<boolean>;
  reloadCredentials(): Promise<Record<string, unknown>>;
  endpoints: PlatformEndpoints;
  apps: PlatformApps;
  /** How far URLs from channel settings (webhook, instance, PDS) may reach: see `NetworkReach`. */
  reach: NetworkReach;
  /** Observed rate-limit state from response headers, so the engine can wait before the next call. */
  onRateLimit?(state: { remaining: number; resetAt: Date; scope: 'channel' | 'app' }): void;
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  /** Aborts in-flight requests when the worker shuts down. */
  signal?: AbortSignal;
  /**
   * Waits until one more call fits a per-token budget the platform documents for one endpoint
   * (TikTok: 6 post inits and 30 status fetches a minute), counted across every worker. Absent:
   * the adapter calls without waiting.
   */
  callSlot?(budget: { id: string; max: number; windowMs: number }): Promise<void>;
}

/**
 * Where a post came from: the office's original on its own account. `repost` and `quote` act on it
 * (nobody pastes or parses URLs); `ref` carries what a native reshare needs beyond the id.
 */
export interface PostOrigin {
  platform: SourceKind;
  /** The platform's id of the original (tweet id, status id, media id, message id, record URI…). */
  nativeId: string;
  /** The original's permalink, where it has one. */
  url: string | null;
  /** The office account's handle as the platform shows it (`@kanim_pontianak`). */
  authorHandle: string | null;
  /** ISO 8601. */
  publishedAt: string;
  /**
   * Platform fields a native repost or quote needs: Bluesky `uri` + `cid`, Telegram `chatId` +
   * `messageId` (+ `messageIds` of an album, comma-separated), Mastodon `accountId`.
   */
  ref?: Record<string, string>;
}

/** A medium of a source item, to be downloaded through the same checks as any upload. */
export interface SourceMedia {
  url: string;
  kind: 'image' | 'video';
  altText: string;
  /** Request headers the download needs (an authorisation the platform's file URLs require). Never logged. */
  headers?: Record<string, string>;
  /** Set when the platform said the file is too large to fetch (Telegram's 20 MB): named and skipped. */
  skippedReason?: string;
  /**
   * The URL itself carries a credential (Telegram's file URLs hold the bot token): download it, but
   * never log it, store it or show it.
   */
  secretUrl?: boolean;
  /** A still of a video, where the platform gives one (Instagram, Threads): shown in review, not imported. */
  thumbnailUrl?: string;
}

/** One post read from an office's account: one item however many media it has (a carousel, an album). */
export interface SourceItem {
  /** Stable per source (the platform's id): one post per item however often it is read. */
  key: string;
  url: string | null;
  publishedAt: Date | null;
  text: string;
  media: SourceMedia[];
  origin: PostOrigin;
  /** Items the source skips unless its settings include them. */
  kind: 'post' | 'reply' | 'repost' | 'story';
}

export interface SourceReadRequest {
  /** What the previous read returned (a since_id, a cursor, an update offset); null on the first read. */
  cursor: string | null;
  /** Items published before this are not wanted. */
  since: Date;
  /** The most items to return (newest first). */
  limit: number;
}

export interface SourceReadResult {
  items: SourceItem[];
  /** Stored and passed to the next read. */
  cursor: string | null;
  /** The account's or feed's name, where the read learnt it (shown on the source). */
  title?: string | null;
}

/**
 * The read side of an adapter: a source is read with a PlatformContext whose `channel` is the source
 * (its id, its kind as platform, its settings) and whose credentials are the source's own.
 */
export interface SourceReader {
  readSource(ctx: PlatformContext, request: SourceReadRequest): Promise<SourceReadResult>;
  /** Whether the original still exists; `'cannot_tell'` where the platform cannot say (Telegram, RSS). */
  originExists?(ctx: PlatformContext, origin: PostOrigin): Promise<boolean | 'cannot_tell'>;
}

/** A medium prepared for this platform (resized or re-encoded where the platform needs it). */
export interface PublishMedia extends MediaFacts {
  id: string;
  altText: string;
  sha256: string;
  /** The bytes, streamed. */
  open(): Promise<Readable>;
  /** A signed, expiring URL, for platforms that fetch media themselves (Instagram, Threads, Facebook). */
  publicUrl(): string;
}

export interface PublishRequest {
  /** Stable across attempts: the base of idempotency keys and record keys. */
  deliveryId: string;
  mode: DeliveryMode;
  /** The final text, credit line included. */
  text: string;
  media: PublishMedia[];
  link: string | null;
  /** The office's original post; repost and quote act on it. */
  sourceUrl: string | null;
  /** The original as its source read it; where present, repost and quote use it rather than `sourceUrl`. */
  origin?: PostOrigin | null;
  /** The post's tags (YouTube keeps them as the video's tags). */
  tags?: string[];
  /** When the first attempt started: reconciliation only considers posts created after it (minus skew). */
  firstAttemptAt: Date;
  /** A correction published as a reply to the original delivery's post (adapters with `replies` only). */
  replyTo?: { remoteId: string; url: string | null } | null;
  /** Choices made for this delivery on the approve screen (TikTok's privacy level and interactions). */
  options?: Record<string, unknown>;
  /**
   * What an earlier attempt recorded before it finished (TikTok's publish_id), and where to record
   * it: reconciliation asks the platform about it after a crash.
   */
  checkpoint?: {
    saved: Record<string, unknown> | null;
    save(state: Record<string, unknown>): Promise<void>;
  };
}

export interface PublishResult {
  remoteId: string;
  /** Where the post can be seen; null when the platform gave no address of its own. */
  url: string | null;
  /** Every id the publication made, where it made several (a Telegram album); a retraction removes each. */
  remoteIds?: string[];
}

/** What a retraction needs to know about a published delivery. */
export interface RetractRequest {
  deliveryId: string;
  mode: DeliveryMode;
  /** The platform's id of what the delivery made (post, repost record, message); null if a person confirmed it by URL. */
  remoteId: string | null;
  /** Every id the delivery made (an album's messages); empty when it made one. */
  remoteIds: string[];
  remoteUrl: string | null;
  publishedAt: Date;
  /** The office's original post, which a repost points at. */
  sourceUrl: string | null;
  /** Why it is withdrawn (sent where the platform can carry it, such as a webhook). */
  reason: string;
}

export type RetractResult =
  /** Gone from the platform: deleted now, or already gone (a delete that finds nothing is done). */
  | { outcome: 'retracted' }
  /** The platform cannot delete it (no API, too old): a person removes it by hand, following `message`. */
  | { outcome: 'needs_person'; message: string };

export interface AccountInfo {
  /** The platform's id of the account (user id, page id, chat id, DID). */
  remoteId: string;
  handle: string;
  name?: string;
}

export interface DeliveryMetrics {
  impressions: number | null;
  likes: number | null;
  reposts: number | null;
  replies: number | null;
  quotes: number | null;
  clicks: number | null;
  raw: Record<string, unknown>;
}

/** How a failed call should be treated by the publishing engine. */
export type ErrorClass =
  /** Transient (network before the request left, 5xx): retry with backoff. */
  | { kind: 'retry'; message: string; httpStatus?: number }
  /** Wait until `until`; the attempt does not count. */
  | { kind: 'rate_limited'; until: Date; scope: 'channel' | 'app'; message: string; httpStatus?: number }
  /** Credentials rejected: the channel needs re-authorisation. */
  | { kind: 'auth'; message: string; httpStatus?: number }
  /** The platform refuses this content: no retry, show the message. */
  | { kind: 'invalid'; message: string; httpStatus?: number }
  /** The request may have reached the platform (timeout, reset after sending): reconcile first. */
  | { kind: 'unknown'; message: string; httpStatus?: number };

/** Thrown by adapters with the classification already made. */
export class PlatformError extends Error {
  readonly classification: ErrorClass;
  constructor(classification: ErrorClass, options?: { cause?: unknown }) {
    super(classification.message, options);
    this.name = this.constructor.name;
    this.classification = classification;
  }
}

/** What a platform supports, as built and tested; the README's platform table says the same. */
export interface Capabilities {
  text: boolean;
  images: boolean;
  video: boolean;
  repost: boolean;
  quote: boolean;
  metrics: boolean;
  /**
   * How the outcome of an unsure attempt is found: `idempotent` (the platform dedupes by key),
   * `search` (the adapter reads recent posts), `none` (a human must check: needs_attention).
   */
  reconcile: 'idempotent' | 'search' | 'none';
  /** Whether the platform fetches media by URL (needs GAUNG_PUBLIC_URL reachable from the platform). */
  mediaByUrl: boolean;
  /** How a published delivery is withdrawn: `api` (Gaung deletes it) or `person` (the API has no delete). */
  retract: 'api' | 'person';
  /** Whether a correction can be published as a reply to the original (`PublishRequest.replyTo`). */
  replies: boolean;
}

export interface PlatformAdapter {
  readonly platform: Platform;
  readonly capabilities: Capabilities;
  /** Validates the secret part of a channel (tokens, passwords) when it is connected or updated. */
  readonly credentialsSchema: z.ZodType<Record<string, unknown>>;
  /** Validates the non-secret settings of a channel. */
  readonly settingsSchema: z.ZodType<Record<string, unknown>>;
  /**
   * Settings that may carry a secret all the same (a receiver URL with a token in its path): shown
   * only to those who manage the channel, never in a delivery's public link.
   */
  readonly privateSettings?: readonly string[];

  publish(ctx: PlatformContext, request: PublishRequest): Promise<PublishResult>;
  repost?(ctx: PlatformContext, request: PublishRequest): Promise<PublishResult>;
  quote?(ctx: PlatformContext, request: PublishRequest): Promise<PublishResult>;
  /**
   * Reconciliation: has this delivery's post already been published? `null`: certainly not;
   * `'cannot_tell'`: the platform offers no way to know.
   */
  findPublished(ctx: PlatformContext, request: PublishRequest): Promise<PublishResult | null | 'cannot_tell'>;
  /**
   * Withdraws a published delivery. Idempotent: a delete of something already gone answers
   * `retracted`, so an unsure attempt is simply sent again.
   */
  retract(ctx: PlatformContext, request: RetractRequest): Promise<RetractResult>;
  fetchMetrics?(ctx: PlatformContext, remoteId: string): Promise<DeliveryMetrics>;
  verifyCredentials(ctx: PlatformContext): Promise<AccountInfo>;
  /**
   * Settings the platform knows better than an administrator (an instance's character limit, say),
   * merged into the channel's settings whenever its credentials are verified.
   */
  describeChannel?(ctx: PlatformContext): Promise<Record<string, unknown>>;
  /** Refreshes short-lived tokens; returns the expiry of the new ones. Absent where tokens do not expire. */
  refreshCredentials?(ctx: PlatformContext): Promise<{ expiresAt: Date | null }>;
  /**
   * How long before its tokens expire they are renewed, where the engine's few minutes are too few:
   * a token that can no longer be renewed once it expired (Threads) is renewed days ahead.
   */
  refreshAheadMs?: number;
  /** Maps anything the adapter threw to the engine's error classes. */
  classifyError(error: unknown): ErrorClass;
  /** Reading the office's own account on this platform as a source; absent where it is not built. */
  readonly source?: SourceReader;
}
