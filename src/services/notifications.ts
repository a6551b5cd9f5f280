import { createHmac } from 'node:crypto';
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import nodemailer, { type Transporter } from 'nodemailer';
import type { AppContext } from '../context';
import type { Tx } from '../db/client';
import { channels, deliveries, notifications, postEvents, posts, units, users } from '../db/schema';
import { notFound } from '../domain/errors';
import type { Locale, PostStatus } from '../domain/vocabulary';
import type { QueuePayloads } from '../queues/index';
import { enqueueNotify } from '../queues/producers';
import { insertPostEvent } from './posts';

/**
 * The submitting office hears of every decision and every publish outcome: one in-app notification
 * per user of the post's unit, plus, through the `notify` queue, an e-mail per user (when SMTP is
 * configured) and a signed webhook to the unit's URL (when it has one).
 */

export const NOTIFICATION_KINDS = [
  'post.changes_requested',
  'post.rejected',
  'post.approved',
  'delivery.published',
  'delivery.failed',
  'delivery.needs_attention',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export type NotifyJob = QueuePayloads['notify'];

/** Enqueues what a committed transaction recorded; call it only after the commit. */
export type AfterCommit = () => Promise<void>;

/**
 * Writes the in-app rows for an event on a post (in the caller's transaction) and returns the
 * notify jobs to enqueue once it commits.
 */
export async function recordNotifications(
  ctx: AppContext,
  tx: Tx,
  event: {
    postId: string;
    unitId: string;
    postEventId: number;
    kind: NotificationKind;
    deliveryId?: string;
    data: Record<string, unknown>;
    at: Date;
  },
): Promise<NotifyJob[]> {
  const recipients = await tx
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.unitId, event.unitId), isNull(users.disabledAt)));
  const jobs: NotifyJob[] = [];
  if (recipients.length > 0) {
    const rows = await tx
      .insert(notifications)
      .values(
        recipients.map((user) => ({
          userId: user.id,
          kind: event.kind,
          postId: event.postId,
          deliveryId: event.deliveryId ?? null,
          data: { ...event.data, postEventId: event.postEventId },
          createdAt: event.at,
        })),
      )
      .returning({ id: notifications.id });
    if (ctx.config.SMTP_URL) for (const row of rows) jobs.push({ via: 'email', notificationId: row.id });
  }
  const [unit] = await tx
    .select({ url: units.notifyWebhookUrl })
    .from(units)
    .where(eq(units.id, event.unitId));
  if (unit?.url) jobs.push({ via: 'webhook', postEventId: event.postEventId });
  return jobs;
}

export type PublishOutcome = 'published' | 'failed' | 'needs_attention';

/**
 * For the publishing engine, inside the transaction that recorded the outcome: adds the outcome to
 * the post's timeline and notifies the office. Call the returned function after the commit.
 */
export async function notifyPublishOutcome(
  ctx: AppContext,
  tx: Tx,
  deliveryId: string,
  outcome: PublishOutcome,
): Promise<AfterCommit> {
  const [delivery] = await tx
    .select({
      postId: deliveries.postId,
      unitId: posts.unitId,
      channelId: deliveries.channelId,
      channelName: channels.name,
      platform: channels.platform,
      remoteUrl: deliveries.remoteUrl,
      lastError: deliveries.lastError,
    })
    .from(deliveries)
    .innerJoin(posts, eq(posts.id, deliveries.postId))
    .innerJoin(channels, eq(channels.id, deliveries.channelId))
    .where(eq(deliveries.id, deliveryId));
  if (!delivery) throw notFound('Delivery');
  const at = ctx.now();
  const data = {
    outcome,
    deliveryId,
    channelId: delivery.channelId,
    channelName: delivery.channelName,
    platform: delivery.platform,
    url: delivery.remoteUrl,
    error: outcome === 'published' ? null : delivery.lastError,
  };
  const postEventId = await insertPostEvent(tx, {
    postId: delivery.postId,
    actorId: null,
    kind: 'delivery',
    data,
    at,
  });
  const jobs = await recordNotifications(ctx, tx, {
    postId: delivery.postId,
    unitId: delivery.unitId,
    postEventId,
    kind: `delivery.${outcome}`,
    deliveryId,
    data,
    at,
  });
  return () => enqueueNotify(ctx, jobs);
}

export interface NotificationView {
  id: string;
  kind: string;
  postId: string | null;
  deliveryId: string | null;
  data: Record<string, unknown>;
  readAt: string | null;
  createdAt: string;
}

export async function listNotifications(
  ctx: AppContext,
  userId: string,
  options: { unreadOnly: boolean; limit: number },
): Promise<{ items: NotificationView[]; unread: number }> {
  const [rows, [count]] = await Promise.all([
    ctx.db
      .select()
      .from(notifications)
      .where(
        and(eq(notifications.userId, userId), options.unreadOnly ? isNull(notifications.readAt) : undefined),
      )
      .orderBy(desc(notifications.createdAt), desc(notifications.id))
      .limit(options.limit),
    ctx.db
      .select({ n: sql<number>`count(*)::int` })
      .from(notifications)
      .where(and(eq(notifications.userId, userId), isNull(notifications.readAt))),
  ]);
  return {
    unread: Number(count?.n ?? 0),
    items: rows.map((row) => ({
      id: row.id,
      kind: row.kind,
      postId: row.postId,
      deliveryId: row.deliveryId,
      data: row.data,
      readAt: row.readAt?.toISOString() ?? null,
      createdAt: row.createdAt.toISOString(),
    })),
  };
}

/** The owner of a notification, for `authorize`; 404 when there is none. */
export async function notificationOwner(ctx: AppContext, id: string): Promise<string> {
  const [row] = await ctx.db
    .select({ userId: notifications.userId })
    .from(notifications)
    .where(eq(notifications.id, id));
  if (!row) throw notFound('Notification');
  return row.userId;
}

/** Marks one notification, or all of a user's, as read; returns how many changed. */
export async function markRead(ctx: AppContext, userId: string, id?: string): Promise<number> {
  const changed = await ctx.db
    .update(notifications)
    .set({ readAt: ctx.now() })
    .where(
      and(
        eq(notifications.userId, userId),
        isNull(notifications.readAt),
        id ? eq(notifications.id, id) : undefined,
      ),
    )
    .returning({ id: notifications.id });
  return changed.length;
}

/**
 * The secret a unit's webhook receiver verifies signatures with: derived from the server key per
 * unit, so nothing extra is stored and one unit's secret says nothing about another's.
 */
export const webhookSecret = (ctx: AppContext, unitId: string) => ctx.keys.sign('webhook', `unit:${unitId}`);

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, the value of X-Gaung-Signature. */
export function signWebhook(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

export const WEBHOOK_SIGNATURE_HEADER = 'X-Gaung-Signature';

/** A receiver answered in a way retrying will not change (4xx other than 408/429). */
export class PermanentNotifyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

const EVENT_TYPES: Record<string, NotificationKind> = {
  changes_requested: 'post.changes_requested',
  rejected: 'post.rejected',
  approved: 'post.approved',
};

const excerpt = (text: string, length = 140) =>
  text.length > length ? `${text.slice(0, length - 1)}…` : text;

const postUrl = (ctx: AppContext, postId: string) => `${ctx.config.publicUrl}/posts/${postId}`;

/** Posts the event to the unit's webhook URL, signed. Returns false when there is nothing to send. */
export async function sendUnitWebhook(ctx: AppContext, postEventId: number): Promise<boolean> {
  const [row] = await ctx.db
    .select({
      event: postEvents,
      unitId: units.id,
      unitName: units.name,
      url: units.notifyWebhookUrl,
      postStatus: posts.status,
      postBody: posts.body,
      postVersion: posts.version,
    })
    .from(postEvents)
    .innerJoin(posts, eq(posts.id, postEvents.postId))
    .innerJoin(units, eq(units.id, posts.unitId))
    .where(eq(postEvents.id, postEventId));
  if (!row?.url) return false;
  const { event } = row;
  const type =
    event.kind === 'delivery'
      ? `delivery.${String(event.data.outcome)}`
      : (EVENT_TYPES[event.toStatus ?? ''] ?? `post.${event.toStatus}`);
  const body = JSON.stringify({
    id: String(event.id),
    type,
    occurredAt: event.createdAt.toISOString(),
    unit: { id: row.unitId, name: row.unitName },
    post: {
      id: event.postId,
      status: row.postStatus as PostStatus,
      version: row.postVersion,
      excerpt: excerpt(row.postBody),
      url: postUrl(ctx, event.postId),
    },
    comment: event.body,
    ...(event.kind === 'delivery' ? { delivery: event.data } : {}),
  });
  const response = await fetch(row.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Gaung-Webhook/1',
      [WEBHOOK_SIGNATURE_HEADER]: signWebhook(webhookSecret(ctx, row.unitId), body, ctx.now()),
    },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
  if (response.ok) return true;
  const message = `webhook ${row.url} answered ${response.status}`;
  if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429)
    throw new PermanentNotifyError(message);
  throw new Error(message);
}

const SUBJECTS: Record<Locale, Record<NotificationKind, string>> = {
  id: {
    'post.changes_requested': 'Kiriman Anda perlu diperbaiki',
    'post.rejected': 'Kiriman Anda ditolak',
    'post.approved': 'Kiriman Anda disetujui',
    'delivery.published': 'Kiriman Anda sudah terbit di {channel}',
    'delivery.failed': 'Kiriman Anda gagal terbit di {channel}',
    'delivery.needs_attention': 'Kiriman Anda di {channel} perlu dicek',
  },
  en: {
    'post.changes_requested': 'Changes were requested on your post',
    'post.rejected': 'Your post was rejected',
    'post.approved': 'Your post was approved',
    'delivery.published': 'Your post was published on {channel}',
    'delivery.failed': 'Your post could not be published on {channel}',
    'delivery.needs_attention': 'Your post on {channel} needs checking',
  },
};

const LABELS: Record<Locale, { post: string; note: string; link: string; open: string; greeting: string }> = {
  id: { post: 'Kiriman', note: 'Catatan', link: 'Tautan', open: 'Buka di Gaung', greeting: 'Halo' },
  en: { post: 'Post', note: 'Note', link: 'Link', open: 'Open in Gaung', greeting: 'Hello' },
};

export interface NotificationEmail {
  to: string;
  subject: string;
  text: string;
}

/** The e-mail for one notification, in the recipient's language; null when it no longer applies. */
export async function composeEmail(
  ctx: AppContext,
  notificationId: string,
): Promise<NotificationEmail | null> {
  const [row] = await ctx.db
    .select({
      kind: notifications.kind,
      data: notifications.data,
      postId: notifications.postId,
      email: users.email,
      name: users.name,
      locale: users.locale,
      disabledAt: users.disabledAt,
      postBody: posts.body,
      comment: postEvents.body,
    })
    .from(notifications)
    .innerJoin(users, eq(users.id, notifications.userId))
    .leftJoin(posts, eq(posts.id, notifications.postId))
    .leftJoin(postEvents, sql`${postEvents.id} = (${notifications.data}->>'postEventId')::bigint`)
    .where(eq(notifications.id, notificationId));
  if (!row || row.disabledAt || !row.postId) return null;
  const locale: Locale = row.locale === 'en' ? 'en' : 'id';
  const kind = row.kind as NotificationKind;
  const template = SUBJECTS[locale][kind];
  if (!template) return null;
  const labels = LABELS[locale];
  const channel = typeof row.data.channelName === 'string' ? row.data.channelName : '';
  const subject = `[Gaung] ${template.replace('{channel}', channel)}`;
  const note = row.comment ?? (typeof row.data.error === 'string' ? row.data.error : null);
  const url = typeof row.data.url === 'string' ? row.data.url : null;
  const lines = [
    `${labels.greeting} ${row.name},`,
    '',
    `${template.replace('{channel}', channel)}.`,
    '',
    `${labels.post}: ${excerpt(row.postBody ?? '', 280)}`,
    ...(note ? [`${labels.note}: ${note}`] : []),
    ...(url ? [`${labels.link}: ${url}`] : []),
    '',
    `${labels.open}: ${postUrl(ctx, row.postId)}`,
  ];
  return { to: row.email, subject, text: lines.join('\n') };
}

const transports = new WeakMap<AppContext, Transporter>();

function mailer(ctx: AppContext): Transporter | null {
  if (!ctx.config.SMTP_URL) return null;
  let transport = transports.get(ctx);
  if (!transport) {
    transport = nodemailer.createTransport(ctx.config.SMTP_URL);
    transports.set(ctx, transport);
  }
  return transport;
}

/** Sends a notification's e-mail over SMTP. Returns false when there is nothing to send. */
export async function sendNotificationEmail(ctx: AppContext, notificationId: string): Promise<boolean> {
  const transport = mailer(ctx);
  if (!transport) return false;
  const email = await composeEmail(ctx, notificationId);
  if (!email) return false;
  await transport.sendMail({ from: ctx.config.GAUNG_MAIL_FROM, ...email });
  return true;
}
