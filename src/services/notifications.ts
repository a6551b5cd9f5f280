import { createHmac } from 'node:crypto';
import { and, desc, eq, isNull, type SQL, sql } from 'drizzle-orm';
import type { Transporter } from 'nodemailer';
import type { AppContext } from '../context';
import { queryRows, type Tx } from '../db/client';
import { notifications, notifyOutbox, postEvents, posts, units, users } from '../db/schema';
import { notFound } from '../domain/errors';
import {
  type EmailTopic,
  emailTopicOf,
  isPostNotification,
  type NotificationKind,
  type PostNotificationKind,
} from '../domain/notices';
import { type Actor, authorize } from '../domain/permissions';
import type { Locale } from '../domain/vocabulary';
import { createHttpClient, InternalAddressError } from '../platforms/http';
import { reachOf } from './channels';
import type { Announcement } from './delivery-transitions';
import { type ComposedMail, excerpt, type MailBlock, renderMail } from './mail-format';
import { composeBatchedMail } from './reviewer-mail';
import { loadUnit } from './units';

/**
 * The submitting office hears of every decision and every publish outcome: one in-app notification
 * per user of the post's unit, plus, through the `notify` queue, an e-mail per user (when SMTP is
 * configured) and a signed webhook to the unit's URL (when it has one).
 */

export { NOTIFICATION_KINDS, type NotificationKind } from '../domain/notices';

/** Queues outbox rows once the transaction that wrote them has committed. */
export type AfterCommit = () => Promise<void>;

const ts = (date: Date) => sql`${date.toISOString()}::timestamptz`;

/** The outbox rows of one announcement: an e-mail per notified user (with SMTP), the unit's webhook. */
function outboxCtes(ctx: AppContext, at: Date, unitId: SQL): SQL {
  const email = ctx.config.SMTP_URL ? sql`true` : sql`false`;
  return sql`mail as (
      insert into notify_outbox (via, notification_id, created_at)
      select 'email', n.id, ${ts(at)} from n where ${email}
      returning id
    ), hook as (
      insert into notify_outbox (via, post_event_id, created_at)
      select 'webhook', pe.id, ${ts(at)} from pe join units u on u.id = ${unitId}
      where u.notify_webhook_url is not null
      returning id
    )`;
}

/** The ids a statement built with `outboxCtes` wrote, as one array column named `outbox`. */
const outboxIds = sql`(select coalesce(array_agg(o.id), '{}') from (select id from mail union all select id from hook) o) as outbox`;

/**
 * Writes the in-app rows for an event on a post, and its outbox rows, in one statement inside the
 * caller's transaction. Queue the returned outbox ids after the commit (`enqueueNotify`).
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
): Promise<number[]> {
  const data = JSON.stringify({ ...event.data, postEventId: event.postEventId });
  const [row] = await queryRows<{ outbox: number[] }>(
    tx,
    sql`with pe as (select ${event.postEventId}::bigint as id), n as (
        insert into notifications (user_id, kind, post_id, delivery_id, data, created_at)
        select u.id, ${event.kind}, ${event.postId}::uuid, ${event.deliveryId ?? null}::uuid, ${data}::jsonb, ${ts(event.at)}
        from users u where u.unit_id = ${event.unitId}::uuid and u.disabled_at is null
        returning id
      ), ${outboxCtes(ctx, event.at, sql`${event.unitId}::uuid`)}
      select ${outboxIds}`,
  );
  return (row?.outbox ?? []).map(Number);
}

export type PublishOutcome = 'published' | 'failed' | 'needs_attention';

/**
 * The CTEs that announce a publish outcome, appended to the statement that records it (see
 * delivery-transitions): the post's timeline event, one notification per user of the post's unit,
 * and their outbox rows — nothing more to write, and no transaction to hold open. They read the
 * changed delivery from a CTE named `changed` (id, post_id, channel_id, remote_url, last_error).
 */
export function publishOutcomeCtes(ctx: AppContext, outcome: PublishOutcome, at: Date): Announcement {
  const ctes = sql`info as (
      select ch.id as delivery_id, ch.post_id, p.unit_id, ch.channel_id, c.name as channel_name, c.platform,
        ch.remote_url, ch.last_error
      from changed ch join posts p on p.id = ch.post_id join channels c on c.id = ch.channel_id
    ), pe as (
      insert into post_events (post_id, actor_id, kind, data, created_at)
      select post_id, null, 'delivery', jsonb_build_object(
          'outcome', ${outcome}::text, 'deliveryId', delivery_id, 'channelId', channel_id,
          'channelName', channel_name, 'platform', platform, 'url', remote_url,
          'error', case when ${outcome}::text = 'published' then null else last_error end),
        ${ts(at)}
      from info
      returning id, post_id, data
    ), n as (
      insert into notifications (user_id, kind, post_id, delivery_id, data, created_at)
      select u.id, ${`delivery.${outcome}`}, pe.post_id, info.delivery_id,
        pe.data || jsonb_build_object('postEventId', pe.id), ${ts(at)}
      from pe cross join info join users u on u.unit_id = info.unit_id and u.disabled_at is null
      returning id
    ), ${outboxCtes(ctx, at, sql`(select unit_id from info)`)}`;
  return { ctes, outbox: outboxIds };
}

export interface NotificationView {
  id: string;
  kind: NotificationKind;
  postId: string | null;
  deliveryId: string | null;
  data: Record<string, unknown>;
  readAt: string | null;
  createdAt: string;
}

async function listNotifications(
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

/** In-app notifications are personal: nobody else sees them, not even an admin. */
const authorizeOwner = (actor: Actor, userId: string) =>
  authorize(actor, 'notification.read', { type: 'notification', userId }, 'Notification');

/** The actor's own notifications, newest first, and how many are unread. */
export async function notificationsOf(
  ctx: AppContext,
  actor: Actor,
  options: { unreadOnly: boolean; limit: number },
): Promise<{ items: NotificationView[]; unread: number }> {
  authorizeOwner(actor, actor.userId);
  return listNotifications(ctx, actor.userId, options);
}

/** Marks one of the actor's notifications (404 for anyone else's), or all of them, as read. */
export async function markNotificationsRead(ctx: AppContext, actor: Actor, id?: string): Promise<number> {
  authorizeOwner(actor, id ? await notificationOwner(ctx, id) : actor.userId);
  return markRead(ctx, actor.userId, id);
}

/** The owner of a notification, for `authorize`; 404 when there is none. */
async function notificationOwner(ctx: AppContext, id: string): Promise<string> {
  const [row] = await ctx.db
    .select({ userId: notifications.userId })
    .from(notifications)
    .where(eq(notifications.id, id));
  if (!row) throw notFound('Notification');
  return row.userId;
}

/** Marks one notification, or all of a user's, as read; returns how many changed. */
async function markRead(ctx: AppContext, userId: string, id?: string): Promise<number> {
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

/** Where a unit's webhook goes and the secret its receiver checks signatures with; for those who may change the unit. */
export async function unitWebhook(
  ctx: AppContext,
  actor: Actor,
  unitId: string,
): Promise<{ url: string | null; secret: string }> {
  const unit = await loadUnit(ctx, unitId);
  authorize(actor, 'unit.update', { type: 'unit', unitPath: unit.path }, 'Unit');
  return { url: unit.notifyWebhookUrl, secret: webhookSecret(ctx, unit.id) };
}

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
      status: row.postStatus,
      version: row.postVersion,
      excerpt: excerpt(row.postBody),
      url: postUrl(ctx, event.postId),
    },
    comment: event.body,
    ...(event.kind === 'delivery' ? { delivery: event.data } : {}),
  });
  // The URL is a unit administrator's: it may not reach Gaung's own network (see NetworkReach).
  const post = async () =>
    createHttpClient(row.url!, { timeoutMs: 10_000, reach: reachOf(ctx.config) }).post('', body, {
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Gaung-Webhook/1',
        [WEBHOOK_SIGNATURE_HEADER]: signWebhook(webhookSecret(ctx, row.unitId), body, ctx.now()),
      },
      responseType: 'stream',
      validateStatus: () => true,
    });
  const response = await post().catch((error: unknown) => {
    const refused = error instanceof InternalAddressError ? error : (error as { cause?: unknown }).cause;
    // An internal address stays internal: retrying cannot help.
    if (refused instanceof InternalAddressError) throw new PermanentNotifyError(refused.message);
    throw error;
  });
  response.data.destroy();
  if (response.status >= 200 && response.status < 300) return true;
  const message = `webhook ${row.url} answered ${response.status}`;
  if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429)
    throw new PermanentNotifyError(message);
  throw new Error(message);
}

const SUBJECTS: Record<Locale, Record<PostNotificationKind, string>> = {
  id: {
    'post.changes_requested': 'Kiriman Anda perlu diperbaiki',
    'post.rejected': 'Kiriman Anda ditolak',
    'post.approved': 'Kiriman Anda disetujui',
    'post.origin_deleted': 'Unggahan asli kiriman Anda sudah dihapus',
    'delivery.published': 'Kiriman Anda sudah terbit di {channel}',
    'delivery.failed': 'Kiriman Anda gagal terbit di {channel}',
    'delivery.needs_attention': 'Kiriman Anda di {channel} perlu dicek',
    'delivery.rescheduled': 'Kiriman Anda di {channel} dijadwalkan ulang setelah masa henti',
    'review.submitted': 'Kiriman baru dari {office} menunggu tinjauan',
    'review.forwarded': 'Kiriman dari {office} diteruskan kepada Anda',
    'review.overdue': 'Kiriman dari {office} sudah melewati batas waktu tunggu di {level}',
    'review.overdue_admin': 'Kiriman dari {office} sudah dua kali batas waktu tunggu di {level}',
  },
  en: {
    'post.changes_requested': 'Changes were requested on your post',
    'post.rejected': 'Your post was rejected',
    'post.approved': 'Your post was approved',
    'post.origin_deleted': 'The original of your post was deleted',
    'delivery.published': 'Your post was published on {channel}',
    'delivery.failed': 'Your post could not be published on {channel}',
    'delivery.needs_attention': 'Your post on {channel} needs checking',
    'delivery.rescheduled': 'Your post on {channel} was rescheduled after a blackout',
    'review.submitted': 'A new post from {office} waits for review',
    'review.forwarded': 'A post from {office} was forwarded to you',
    'review.overdue': 'A post from {office} has waited past the limit at {level}',
    'review.overdue_admin': 'A post from {office} has waited twice the limit at {level}',
  },
};

const LABELS: Record<
  Locale,
  { post: string; note: string; link: string; open: string; greeting: string; footer: string }
> = {
  id: {
    post: 'Kiriman',
    note: 'Catatan',
    link: 'Tautan',
    open: 'Buka di Gaung',
    greeting: 'Halo',
    footer: 'E-mail ini dapat dimatikan di halaman Akun Saya di Gaung.',
  },
  en: {
    post: 'Post',
    note: 'Note',
    link: 'Link',
    open: 'Open in Gaung',
    greeting: 'Hello',
    footer: 'You can turn these e-mails off on the My account page in Gaung.',
  },
};

export type NotificationEmail = ComposedMail;

/** Fills a subject template with what the notification says. */
const fill = (template: string, data: Record<string, unknown>) =>
  template.replace(/\{(channel|office|level)\}/g, (_all, key: string) => {
    const value = data[`${key}Name`];
    return typeof value === 'string' ? value : '';
  });

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
      optOuts: users.emailOptOuts,
      postBody: posts.body,
      comment: postEvents.body,
    })
    .from(notifications)
    .innerJoin(users, eq(users.id, notifications.userId))
    .leftJoin(posts, eq(posts.id, notifications.postId))
    .leftJoin(postEvents, sql`${postEvents.id} = (${notifications.data}->>'postEventId')::bigint`)
    .where(eq(notifications.id, notificationId));
  // Only news of a post is e-mailed; a channel's or a source's stays in the app.
  if (!row || row.disabledAt || !row.postId || !isPostNotification(row.kind)) return null;
  const locale: Locale = row.locale === 'en' ? 'en' : 'id';
  const template = SUBJECTS[locale][row.kind];
  if (!template || row.optOuts.includes(emailTopicOf(row.kind) satisfies EmailTopic)) return null;
  const labels = LABELS[locale];
  const headline = fill(template, row.data);
  const note = row.comment ?? (typeof row.data.error === 'string' ? row.data.error : null);
  const url = typeof row.data.url === 'string' ? row.data.url : null;
  const blocks: MailBlock[] = [
    { kind: 'paragraph', text: `${labels.greeting} ${row.name},` },
    { kind: 'paragraph', text: `${headline}.` },
    { kind: 'table', rows: [[labels.post, excerpt(row.postBody ?? '', 280)]] },
    ...(note ? [{ kind: 'table' as const, rows: [[labels.note, note] as [string, string]] }] : []),
    ...(url ? [{ kind: 'link' as const, link: { label: labels.link, url } }] : []),
    { kind: 'link', link: { label: labels.open, url: postUrl(ctx, row.postId) } },
  ];
  return renderMail(row.email, `[Gaung] ${headline}`, blocks, labels.footer);
}

const transports = new WeakMap<AppContext, Transporter>();

/** The SMTP transport, made on the first e-mail: nodemailer is loaded then, not at start. */
async function mailer(ctx: AppContext): Promise<Transporter | null> {
  if (!ctx.config.SMTP_URL) return null;
  let transport = transports.get(ctx);
  if (!transport) {
    const { default: nodemailer } = await import('nodemailer');
    // Another e-mail may have made it while nodemailer loaded.
    transport = transports.get(ctx) ?? nodemailer.createTransport(ctx.config.SMTP_URL);
    transports.set(ctx, transport);
  }
  return transport;
}

/** Sends a notification's e-mail over SMTP. Returns false when there is nothing to send. */
export async function sendNotificationEmail(ctx: AppContext, notificationId: string): Promise<boolean> {
  const transport = await mailer(ctx);
  if (!transport) return false;
  const email = await composeEmail(ctx, notificationId);
  if (!email) return false;
  await transport.sendMail({ from: ctx.config.GAUNG_MAIL_FROM, ...email });
  return true;
}

/** Sends a batched e-mail (arrivals, a digest). Returns false when there is nothing to send. */
async function sendBatchedMail(ctx: AppContext, batchedMailId: number): Promise<boolean> {
  const transport = await mailer(ctx);
  if (!transport) return false;
  const email = await composeBatchedMail(ctx, batchedMailId);
  if (!email) return false;
  await transport.sendMail({ from: ctx.config.GAUNG_MAIL_FROM, ...email });
  return true;
}

/**
 * Sends one outbox row and records how it went. A row already sent (a job queued twice) is not sent
 * again. `lastTry`: no retry follows a failure, so the row is given up.
 */
export async function deliverOutboxEntry(
  ctx: AppContext,
  outboxId: number,
  lastTry: boolean,
): Promise<{ sent: boolean }> {
  const [entry] = await ctx.db.select().from(notifyOutbox).where(eq(notifyOutbox.id, outboxId));
  if (!entry || entry.sentAt || entry.failedAt) return { sent: false };
  try {
    const sent =
      entry.via === 'email'
        ? await sendNotificationEmail(ctx, entry.notificationId!)
        : entry.via === 'batched_mail'
          ? await sendBatchedMail(ctx, entry.batchedMailId!)
          : await sendUnitWebhook(ctx, entry.postEventId!);
    await ctx.db
      .update(notifyOutbox)
      .set({ sentAt: ctx.now(), attempts: entry.attempts + 1, lastError: sent ? null : 'nothing to send' })
      .where(eq(notifyOutbox.id, outboxId));
    return { sent };
  } catch (error) {
    const givenUp = lastTry || error instanceof PermanentNotifyError;
    await ctx.db
      .update(notifyOutbox)
      .set({
        attempts: entry.attempts + 1,
        lastError: (error as Error).message.slice(0, 1000),
        ...(givenUp ? { failedAt: ctx.now() } : {}),
      })
      .where(eq(notifyOutbox.id, outboxId));
    throw error;
  }
}

/** Outbox rows left unsent with no job (their job was lost with Redis): at most a day old. */
export async function pendingOutbox(ctx: AppContext, olderThanMs: number, limit = 500): Promise<number[]> {
  const now = ctx.now().getTime();
  const rows = await queryRows<{ id: number }>(
    ctx.db,
    sql`select id from notify_outbox
      where sent_at is null and failed_at is null
        and created_at < ${ts(new Date(now - olderThanMs))} and created_at > ${ts(new Date(now - 86_400_000))}
      order by created_at limit ${limit}`,
  );
  return rows.map((row) => Number(row.id));
}

export interface NoticeSettings {
  /** E-mail topics turned off; the in-app notifications stay. */
  emailOptOuts: EmailTopic[];
  dailyDigest: boolean;
  weeklyDigest: boolean;
}

/** What reaches the actor by e-mail. */
export async function loadNoticeSettings(ctx: AppContext, actor: Actor): Promise<NoticeSettings> {
  authorizeOwner(actor, actor.userId);
  const [row] = await ctx.db
    .select({
      emailOptOuts: users.emailOptOuts,
      dailyDigest: users.dailyDigest,
      weeklyDigest: users.weeklyDigest,
    })
    .from(users)
    .where(eq(users.id, actor.userId));
  if (!row) throw notFound('User');
  return { ...row, emailOptOuts: row.emailOptOuts as EmailTopic[] };
}

/** Replaces the actor's choices of what reaches them by e-mail. */
export async function saveNoticeSettings(
  ctx: AppContext,
  actor: Actor,
  settings: NoticeSettings,
): Promise<NoticeSettings> {
  authorizeOwner(actor, actor.userId);
  await ctx.db
    .update(users)
    .set({
      emailOptOuts: [...new Set(settings.emailOptOuts)].sort(),
      dailyDigest: settings.dailyDigest,
      weeklyDigest: settings.weeklyDigest,
      updatedAt: ctx.now(),
    })
    .where(eq(users.id, actor.userId));
  return loadNoticeSettings(ctx, actor);
}
