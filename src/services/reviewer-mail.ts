import { sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import { queryRows } from '../db/client';
import type { NotificationKind } from '../domain/notices';
import type { BatchedMailKind, Locale } from '../domain/vocabulary';
import { addDays } from '../domain/working-time';
import { type ComposedMail, excerpt, type MailBlock, renderMail } from './mail-format';
import { buildReport } from './reports';

/**
 * The e-mails that gather several things for a reviewer: the arrivals since their last e-mail, the
 * daily digest and the weekly figures. Composed when sent, in the recipient's language, from what
 * the batch row says it covers.
 */

const WORDS = {
  id: {
    greeting: 'Halo',
    footer: 'E-mail ini dapat dimatikan di halaman Akun Saya di Gaung.',
    openInbox: 'Buka kotak tinjauan',
    openReports: 'Buka laporan',
    arrivalsSubject: (n: number) => `[Gaung] ${n} kiriman baru menunggu tinjauan`,
    arrivalsIntro: 'Sejak e-mail terakhir, kiriman ini masuk ke kotak tinjauan Anda:',
    forwarded: (from: string) => `Diteruskan oleh ${from}`,
    dailySubject: (date: string, n: number) => `[Gaung] Ringkasan harian ${date}: ${n} kiriman menunggu`,
    waiting: (n: number) => `Menunggu keputusan tingkat Anda (${n}), yang terlama lebih dulu`,
    noneWaiting: 'Tidak ada kiriman yang menunggu.',
    since: (at: string) => `masuk ${at}`,
    overdue: 'melewati batas waktu tunggu',
    published: (n: number) => `Terbit kemarin di kanal unit Anda (${n})`,
    nonePublished: 'Kemarin tidak ada yang terbit.',
    weeklySubject: (unit: string, from: string, to: string) =>
      `[Gaung] Ringkasan mingguan ${unit}: ${from} – ${to}`,
    weeklyIntro: (unit: string, from: string, to: string) =>
      `Angka ${unit} dan unit di bawahnya, ${from} – ${to}.`,
    figures: 'Angka minggu ini',
    submitted: 'Kiriman masuk',
    approved: 'Disetujui',
    rejected: 'Ditolak',
    changes: 'Diminta perbaikan',
    deliveriesPublished: 'Penerbitan berhasil',
    deliveriesFailed: 'Penerbitan gagal',
    reach: 'Jangkauan (tayangan)',
    engagements: 'Interaksi',
    notAvailable: 'tidak tersedia',
    top: 'Kiriman teratas',
    noTop: 'Belum ada kiriman yang terbit minggu ini.',
    silent: 'Kantor yang tidak mengirim apa pun',
    noneSilent: 'Semua kantor mengirim kiriman minggu ini.',
  },
  en: {
    greeting: 'Hello',
    footer: 'You can turn these e-mails off on the My account page in Gaung.',
    openInbox: 'Open the review inbox',
    openReports: 'Open the reports',
    arrivalsSubject: (n: number) =>
      `[Gaung] ${n} new ${n === 1 ? 'post waits' : 'posts wait'} for your review`,
    arrivalsIntro: 'Since your last e-mail, these posts arrived in your review inbox:',
    forwarded: (from: string) => `Forwarded by ${from}`,
    dailySubject: (date: string, n: number) =>
      `[Gaung] Daily digest ${date}: ${n} ${n === 1 ? 'post' : 'posts'} waiting`,
    waiting: (n: number) => `Waiting for your level's decision (${n}), oldest first`,
    noneWaiting: 'No post is waiting.',
    since: (at: string) => `arrived ${at}`,
    overdue: 'past the waiting limit',
    published: (n: number) => `Published yesterday on your unit's channels (${n})`,
    nonePublished: 'Nothing was published yesterday.',
    weeklySubject: (unit: string, from: string, to: string) =>
      `[Gaung] Weekly digest ${unit}: ${from} – ${to}`,
    weeklyIntro: (unit: string, from: string, to: string) =>
      `Figures of ${unit} and the units below it, ${from} – ${to}.`,
    figures: "This week's figures",
    submitted: 'Posts submitted',
    approved: 'Approved',
    rejected: 'Rejected',
    changes: 'Changes requested',
    deliveriesPublished: 'Deliveries published',
    deliveriesFailed: 'Deliveries failed',
    reach: 'Reach (impressions)',
    engagements: 'Engagements',
    notAvailable: 'not available',
    top: 'Top posts',
    noTop: 'No post was published this week.',
    silent: 'Offices that submitted nothing',
    noneSilent: 'Every office submitted something this week.',
  },
} satisfies Record<Locale, Record<string, unknown>>;

type Words = (typeof WORDS)['id'];

type MailRow = {
  id: number;
  kind: BatchedMailKind;
  data: Record<string, unknown>;
  user_id: string;
  email: string;
  name: string;
  locale: string;
  disabled: boolean;
  opt_outs: string[] | string;
  daily_digest: boolean;
  weekly_digest: boolean;
  unit_id: string;
  unit_name: string;
  unit_path: string;
  time_zone: string;
};

interface Recipient {
  row: MailRow;
  locale: Locale;
  words: Words;
  /** Dates and times in the recipient's language and time zone. */
  time: (at: Date | string) => string;
  number: (n: number | null) => string;
}

const url = (ctx: AppContext, path: string) => `${ctx.config.publicUrl}${path}`;

export async function composeBatchedMail(
  ctx: AppContext,
  batchedMailId: number,
): Promise<ComposedMail | null> {
  const [row] = await queryRows<MailRow>(
    ctx.db,
    sql`select b.id, b.kind, b.data, u.id as user_id, u.email, u.name, u.locale, (u.disabled_at is not null) as disabled,
        u.email_opt_outs as opt_outs, u.daily_digest, u.weekly_digest,
        un.id as unit_id, un.name as unit_name, un.path as unit_path, un.time_zone
      from batched_mails b join users u on u.id = b.user_id join units un on un.id = u.unit_id
      where b.id = ${batchedMailId}`,
  );
  if (!row || row.disabled) return null;
  const locale: Locale = row.locale === 'en' ? 'en' : 'id';
  const tag = locale === 'en' ? 'en-GB' : 'id-ID';
  const timeFormat = new Intl.DateTimeFormat(tag, {
    timeZone: row.time_zone,
    dateStyle: 'medium',
    timeStyle: 'short',
  });
  const numberFormat = new Intl.NumberFormat(tag);
  const recipient: Recipient = {
    row,
    locale,
    words: WORDS[locale],
    time: (at) => timeFormat.format(new Date(at)),
    number: (n) => (n === null ? WORDS[locale].notAvailable : numberFormat.format(n)),
  };
  const optOuts = Array.isArray(row.opt_outs) ? row.opt_outs : row.opt_outs.replace(/[{}]/g, '').split(',');
  switch (row.kind) {
    case 'arrivals':
      return optOuts.includes('arrivals') ? null : arrivalsMail(ctx, recipient);
    case 'daily_digest':
      return row.daily_digest ? dailyDigest(ctx, recipient) : null;
    case 'weekly_digest':
      return row.weekly_digest ? weeklyDigest(ctx, recipient) : null;
  }
}

const greeting = (r: Recipient): MailBlock => ({
  kind: 'paragraph',
  text: `${r.words.greeting} ${r.row.name},`,
});

async function arrivalsMail(ctx: AppContext, r: Recipient): Promise<ComposedMail | null> {
  const items = await queryRows<{
    post_id: string;
    kind: NotificationKind;
    data: Record<string, unknown>;
    body: string;
  }>(
    ctx.db,
    sql`select n.post_id, n.kind, n.data, p.body from notifications n join posts p on p.id = n.post_id
      where n.batched_mail_id = ${r.row.id} order by n.created_at, n.id`,
  );
  if (items.length === 0) return null;
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  const blocks: MailBlock[] = [
    greeting(r),
    { kind: 'paragraph', text: r.words.arrivalsIntro },
    {
      kind: 'list',
      items: items.map((item) => {
        const forwarded =
          item.kind === 'review.forwarded'
            ? [r.words.forwarded(text(item.data.fromLevelName)), text(item.data.comment)]
                .filter(Boolean)
                .join(': ')
            : '';
        return {
          text: `${text(item.data.officeName)}: ${excerpt(item.body, 120)}`,
          url: url(ctx, `/posts/${item.post_id}`),
          ...(forwarded ? { detail: forwarded } : {}),
        };
      }),
    },
    { kind: 'link', link: { label: r.words.openInbox, url: url(ctx, '/inbox') } },
  ];
  return renderMail(r.row.email, r.words.arrivalsSubject(items.length), blocks, r.words.footer);
}

const DIGEST_LIST_LIMIT = 50;

async function dailyDigest(ctx: AppContext, r: Recipient): Promise<ComposedMail> {
  const from = String(r.row.data.from);
  const to = String(r.row.data.to);
  const [waiting, [count], published] = await Promise.all([
    queryRows<{ post_id: string; body: string; office: string; arrived_at: Date | string; overdue: boolean }>(
      ctx.db,
      sql`select l.post_id, p.body, o.name as office, l.arrived_at, (l.alarmed_at is not null) as overdue
        from post_levels l join posts p on p.id = l.post_id join units o on o.id = p.unit_id
        where l.unit_id = ${r.row.unit_id}::uuid and l.decision is null and l.closed_at is null
          and p.status in ('submitted', 'approved')
        order by l.arrived_at, l.post_id limit ${DIGEST_LIST_LIMIT}`,
    ),
    queryRows<{ n: number }>(
      ctx.db,
      sql`select count(*)::int as n from post_levels l join posts p on p.id = l.post_id
        where l.unit_id = ${r.row.unit_id}::uuid and l.decision is null and l.closed_at is null
          and p.status in ('submitted', 'approved')`,
    ),
    queryRows<{ post_id: string; body: string; office: string; channel: string; remote_url: string | null }>(
      ctx.db,
      sql`select d.post_id, p.body, o.name as office, c.name as channel, d.remote_url
        from deliveries d join channels c on c.id = d.channel_id join posts p on p.id = d.post_id
        join units o on o.id = p.unit_id
        where c.unit_id = ${r.row.unit_id}::uuid and d.status = 'published'
          and d.published_at >= ${from}::timestamptz and d.published_at < ${to}::timestamptz
        order by d.published_at, d.id limit ${DIGEST_LIST_LIMIT}`,
    ),
  ]);
  const total = Number(count?.n ?? 0);
  const w = r.words;
  const blocks: MailBlock[] = [
    greeting(r),
    { kind: 'heading', text: w.waiting(total) },
    waiting.length
      ? {
          kind: 'list',
          items: waiting.map((post) => ({
            text: `${post.office}: ${excerpt(post.body, 120)}`,
            url: url(ctx, `/posts/${post.post_id}`),
            detail: [w.since(r.time(post.arrived_at)), post.overdue ? w.overdue : null]
              .filter(Boolean)
              .join(' · '),
          })),
        }
      : { kind: 'paragraph', text: w.noneWaiting },
    { kind: 'heading', text: w.published(published.length) },
    published.length
      ? {
          kind: 'list',
          items: published.map((delivery) => ({
            text: `${delivery.channel} · ${delivery.office}: ${excerpt(delivery.body, 120)}`,
            url: delivery.remote_url ?? url(ctx, `/posts/${delivery.post_id}`),
          })),
        }
      : { kind: 'paragraph', text: w.nonePublished },
    { kind: 'link', link: { label: w.openInbox, url: url(ctx, '/inbox') } },
  ];
  return renderMail(r.row.email, w.dailySubject(String(r.row.data.date), total), blocks, w.footer);
}

async function weeklyDigest(ctx: AppContext, r: Recipient): Promise<ComposedMail> {
  const from = new Date(String(r.row.data.from));
  const to = new Date(String(r.row.data.to));
  const report = await buildReport(ctx, {
    scopePath: r.row.unit_path,
    subtree: true,
    from,
    to,
    group: 'office',
    timeZone: r.row.time_zone,
  });
  const offices = await queryRows<{ id: string; name: string }>(
    ctx.db,
    sql`select id, name from units where kind = 'office' and path like ${`${r.row.unit_path}%`} order by name`,
  );
  const submitting = new Set(
    report.groups.filter((group) => (group.posts?.submitted ?? 0) > 0).map((group) => group.key),
  );
  const silent = offices.filter((office) => !submitting.has(office.id));
  const w = r.words;
  const { totals } = report;
  const firstDay = addDays(String(r.row.data.date), -7);
  const lastDay = addDays(String(r.row.data.date), -1);
  const figures: [string, string][] = [
    [w.submitted, r.number(totals.posts?.submitted ?? 0)],
    [w.approved, r.number(totals.posts?.approved ?? 0)],
    [w.rejected, r.number(totals.posts?.rejected ?? 0)],
    [w.changes, r.number(totals.posts?.changesRequested ?? 0)],
    [w.deliveriesPublished, r.number(totals.deliveries.published)],
    [w.deliveriesFailed, r.number(totals.deliveries.failed)],
    [w.reach, r.number(totals.reach.latest.impressions)],
    [w.engagements, r.number(totals.reach.latest.engagements)],
  ];
  const blocks: MailBlock[] = [
    greeting(r),
    { kind: 'paragraph', text: w.weeklyIntro(r.row.unit_name, firstDay, lastDay) },
    { kind: 'heading', text: w.figures },
    { kind: 'table', rows: figures },
    { kind: 'heading', text: w.top },
    report.topPosts.length
      ? {
          kind: 'list',
          items: report.topPosts.slice(0, 5).map((post) => ({
            text: `${post.unit.name}: ${excerpt(post.text, 120)}`,
            url: url(ctx, `/posts/${post.postId}`),
            detail: `${w.reach}: ${r.number(post.reach.impressions)} · ${w.engagements}: ${r.number(post.reach.engagements)}`,
          })),
        }
      : { kind: 'paragraph', text: w.noTop },
    { kind: 'heading', text: w.silent },
    silent.length
      ? { kind: 'list', items: silent.map((office) => ({ text: office.name })) }
      : { kind: 'paragraph', text: w.noneSilent },
    { kind: 'link', link: { label: w.openReports, url: url(ctx, '/reports') } },
  ];
  return renderMail(r.row.email, w.weeklySubject(r.row.unit_name, firstDay, lastDay), blocks, w.footer);
}
