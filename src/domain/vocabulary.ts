// The closed vocabularies of Gaung's domain. The database's check constraints are built from these lists.

export const UNIT_KINDS = ['national', 'regional', 'office'] as const;
export type UnitKind = (typeof UNIT_KINDS)[number];

export const ROLES = ['contributor', 'reviewer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const LOCALES = ['id', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

/** Days off in the organisation's calendar: a public holiday or a collective leave day (cuti bersama). */
export const HOLIDAY_KINDS = ['public_holiday', 'collective_leave'] as const;
export type HolidayKind = (typeof HOLIDAY_KINDS)[number];

/** E-mails gathering several things for one person: arrivals since the last one, the daily and weekly digests. */
export const BATCHED_MAIL_KINDS = ['arrivals', 'daily_digest', 'weekly_digest'] as const;
export type BatchedMailKind = (typeof BATCHED_MAIL_KINDS)[number];

export const PLATFORMS = [
  'x',
  'facebook',
  'instagram',
  'threads',
  'telegram',
  'mastodon',
  'bluesky',
  'youtube',
  'tiktok',
  'webhook',
  'sandbox',
] as const;
export type Platform = (typeof PLATFORMS)[number];
export const isPlatform = (kind: string): kind is Platform => (PLATFORMS as readonly string[]).includes(kind);

/** Platforms that are no public place: a webhook reaches its owner's own system, the sandbox nobody. The press room leaves them out. */
export const NON_PUBLIC_PLATFORMS: readonly Platform[] = ['webhook', 'sandbox'];

export const CHANNEL_STATUSES = ['active', 'needs_reauth', 'paused'] as const;
export type ChannelStatus = (typeof CHANNEL_STATUSES)[number];

export const POST_STATUSES = [
  'draft',
  'submitted',
  'changes_requested',
  'approved',
  'rejected',
  'withdrawn',
  'retracted',
] as const;
export type PostStatus = (typeof POST_STATUSES)[number];

/** How a post reached a review level: the nearest level above its office, the national unit directly (an organisation setting), forwarded from below, or the office's own reviewers deciding. */
export const LEVEL_ARRIVALS = ['nearest', 'direct', 'forwarded', 'own'] as const;
export type LevelArrival = (typeof LEVEL_ARRIVALS)[number];

/** What a level decided for its own channels. */
export const LEVEL_DECISIONS = ['approved', 'passed'] as const;
export type LevelDecision = (typeof LEVEL_DECISIONS)[number];

export const DELIVERY_MODES = ['copy', 'repost', 'quote'] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

export const DELIVERY_STATUSES = [
  'scheduled',
  'publishing',
  'published',
  'failed',
  'unknown',
  'needs_attention',
  'cancelled',
  'retracting',
  'retracted',
  'retraction_needs_attention',
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** How one publish or retraction attempt ended; `null` on the row while it is running. */
export const ATTEMPT_OUTCOMES = [
  'published',
  'retry',
  'rate_limited',
  'auth',
  'invalid',
  'unknown',
  'reconciled_found',
  'reconciled_missing',
  'reconcile_impossible',
  'retracted',
  'needs_person',
] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

export const POST_EVENT_KINDS = ['transition', 'comment', 'edit', 'delivery'] as const;
export type PostEventKind = (typeof POST_EVENT_KINDS)[number];

export const MEDIA_KINDS = ['image', 'video'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

export const METRIC_WINDOWS = ['1h', '24h', '7d'] as const;
export type MetricWindow = (typeof METRIC_WINDOWS)[number];
/** What a report gives reach at: each window, and the latest reading. */
export const REACH_WINDOWS = [...METRIC_WINDOWS, 'latest'] as const;
export type ReachWindow = (typeof REACH_WINDOWS)[number];
/** The snapshots kept per delivery: the scheduled windows, and the latest one taken on demand ("refresh now"). */
export const SNAPSHOT_WINDOWS = [...METRIC_WINDOWS, 'now'] as const;
export type SnapshotWindow = (typeof SNAPSHOT_WINDOWS)[number];

/**
 * The kinds of source (an office's own account that Gaung reads): its website's RSS/Atom feed, or
 * its account on a platform. TikTok is read once the TikTok adapter exists.
 */
export const SOURCE_KINDS = [
  'rss',
  'mastodon',
  'instagram',
  'facebook',
  'threads',
  'x',
  'bluesky',
  'telegram',
  'youtube',
  'tiktok',
] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** A source's standing with its platform: `needs_reauth` once the platform refused its credentials. */
export const SOURCE_STATUSES = ['active', 'needs_reauth'] as const;
export type SourceStatus = (typeof SOURCE_STATUSES)[number];

/** What happens to deliveries that fell due inside a blackout once it ends. */
export const BLACKOUT_ON_END = ['reschedule', 'hold'] as const;
export type BlackoutOnEnd = (typeof BLACKOUT_ON_END)[number];

/** How a correction of a retracted post goes out: as a reply to the original (before it is deleted) or as a new post. */
export const CORRECTION_KINDS = ['reply', 'new'] as const;
export type CorrectionKind = (typeof CORRECTION_KINDS)[number];

/** The platforms connected through an OAuth 2.0 consent page (with PKCE where the platform takes it). */
export const OAUTH_PROVIDERS = ['x', 'youtube', 'tiktok', 'threads'] as const;
export type OAuthProvider = (typeof OAUTH_PROVIDERS)[number];

/** What one bulk review decides for every post it names. */
export const BULK_ACTIONS = ['approve', 'pass', 'forward'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];
/** At most this many posts in one bulk decision (an inbox page). */
export const MAX_BULK_POSTS = 50;

/** How a report groups its figures. */
export const REPORT_GROUPS = ['office', 'region', 'channel', 'platform'] as const;
export type ReportGroup = (typeof REPORT_GROUPS)[number];
