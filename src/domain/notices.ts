/**
 * What people are told, and which e-mails each person may turn off. In-app notifications always
 * stay; an e-mail topic switched off in /account sends nothing by e-mail.
 */

/** News of a post or its deliveries: e-mailed too, unless the person turned its topic off. */
export const POST_NOTIFICATION_KINDS = [
  'post.changes_requested',
  'post.rejected',
  'post.approved',
  /** The original on the office's account was deleted: the post left review, or its deliveries wait for a person. */
  'post.origin_deleted',
  'delivery.published',
  'delivery.failed',
  'delivery.needs_attention',
  /** A blackout's end moved the delivery to a free slot (its office is told the new time). */
  'delivery.rescheduled',
  /** A post arrived in a level's inbox: submitted by an office, or forwarded from the level below. */
  'review.submitted',
  'review.forwarded',
  /** A post waited past the level's limit (reviewers), or twice as long (the unit's admins). */
  'review.overdue',
  'review.overdue_admin',
] as const;
export type PostNotificationKind = (typeof POST_NOTIFICATION_KINDS)[number];

/**
 * News of a channel or a source whose credentials the platform refused, or of a source paused because
 * the person who added it left its unit: in the app only.
 */
export const ACCOUNT_NOTIFICATION_KINDS = [
  'channel.needs_reauth',
  'source.needs_reauth',
  'source.author_gone',
] as const;

export const NOTIFICATION_KINDS = [...POST_NOTIFICATION_KINDS, ...ACCOUNT_NOTIFICATION_KINDS] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** The arrivals a reviewer hears of by e-mail in batches, at most one e-mail per batch interval. */
export const ARRIVAL_KINDS = [
  'review.submitted',
  'review.forwarded',
] as const satisfies PostNotificationKind[];

/** E-mail topics a person may turn off, one per kind of news. */
export const EMAIL_TOPICS = ['decisions', 'deliveries', 'arrivals', 'overdue'] as const;
export type EmailTopic = (typeof EMAIL_TOPICS)[number];

export const isPostNotification = (kind: NotificationKind): kind is PostNotificationKind =>
  (POST_NOTIFICATION_KINDS as readonly string[]).includes(kind);

export function emailTopicOf(kind: PostNotificationKind): EmailTopic {
  if (kind.startsWith('post.')) return 'decisions';
  if (kind.startsWith('delivery.')) return 'deliveries';
  if (kind === 'review.submitted' || kind === 'review.forwarded') return 'arrivals';
  return 'overdue';
}

/** At most one arrivals e-mail per reviewer in this interval. */
export const ARRIVAL_BATCH_MS = 30 * 60_000;
/** Digests go out from this local hour until noon (a worker down all morning sends none that day). */
export const DIGEST_HOUR = 7;
export const DIGEST_LAST_HOUR = 12;
