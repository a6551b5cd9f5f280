import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client';
import type { Platform } from '../../src/domain/vocabulary';
import { REPORT_GROUPS } from '../../src/domain/vocabulary';
import { buildReport, type ReportQuery } from '../../src/services/reports';
import { createTestContext, type TestContext } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, type TestOrg, UNIT_KEYS, type UnitKey } from '../helpers/org';
import { insertChannel } from '../helpers/posts';
import { insertReportedPost } from '../helpers/reports';

/**
 * Reports read delivery_metric_rollups, its weekly sums delivery_metric_weeks and post_review_steps,
 * which triggers keep in the same transaction as each write of a snapshot, a delivery, a post or a
 * timeline event. After a random history — snapshots written out of order and with equal times,
 * re-recorded and corrected, deliveries published late, retracted and deleted, platforms that leave
 * figures out or measure nothing, reviews sent back and resubmitted, decided at the instant of
 * submission, recorded out of order, rewritten and deleted — each table equals what the raw rows give,
 * and every report (each grouping, scope, filter, time zone and period, whole weeks or not) built from
 * them equals the report built from the raw derivations, every delivery read one by one.
 */

/** The raw derivation: per published delivery, its latest snapshot (the later window on a tie) and each window's. */
const FIELDS = ['impressions', 'likes', 'reposts', 'replies', 'quotes', 'clicks'] as const;
const engagements = (alias: string) =>
  `case when coalesce(${FIELDS.slice(1)
    .map((f) => `${alias}.${f}`)
    .join(', ')}) is null then null else ${FIELDS.slice(1)
    .map((f) => `coalesce(${alias}.${f}, 0)`)
    .join(' + ')} end`;
const windowColumns = (window: '1h' | '24h' | '7d', alias: string) =>
  [
    ...FIELDS.map((f) => `${alias}.${f} as ${f}_${window}`),
    `${engagements(alias)} as engagements_${window}`,
  ].join(', ');
const RAW_TEXT = `(
  select d.id as delivery_id, d.post_id, p.unit_id, d.channel_id, d.published_at, l.taken_at,
    coalesce((l.raw ->> 'demo') = 'true', false) as demo,
    ${FIELDS.map((f) => `l.${f}`).join(', ')}, ${engagements('l')} as engagements,
    ${windowColumns('1h', 'w1')}, ${windowColumns('24h', 'w24')}, ${windowColumns('7d', 'w7')}
  from deliveries d
  join posts p on p.id = d.post_id
  left join (
    select distinct on (m.delivery_id) m.*
    from metrics_snapshots m
    order by m.delivery_id, m.taken_at desc,
      case m.window when 'now' then 0 when '7d' then 1 when '24h' then 2 else 3 end
  ) l on l.delivery_id = d.id
  left join metrics_snapshots w1 on w1.delivery_id = d.id and w1.window = '1h'
  left join metrics_snapshots w24 on w24.delivery_id = d.id and w24.window = '24h'
  left join metrics_snapshots w7 on w7.delivery_id = d.id and w7.window = '7d'
  where d.status = 'published'
)`;
const RAW = sql.raw(RAW_TEXT);

/** The raw derivation of the weekly sums: the rollup's deliveries summed per UTC week, unit and channel. */
const RAW_WEEKS = sql.raw(`(
  select date_trunc('week', r.published_at at time zone 'UTC') at time zone 'UTC' as week, r.unit_id, r.channel_id,
    count(*)::int as published, count(r.taken_at)::int as measured, (count(*) filter (where r.demo))::int as demo,
    ${['', '_1h', '_24h', '_7d']
      .flatMap((suffix) =>
        [...FIELDS, 'engagements'].map((f) => `sum(r.${f}${suffix})::bigint as ${f}${suffix}`),
      )
      .join(', ')},
    count(r.impressions)::int as impressions_count, count(r.engagements)::int as engagements_count
  from ${RAW_TEXT} r
  group by 1, 2, 3
)`);

/**
 * The raw derivation of the review steps: each review transition, the post's previous one to the same
 * status and, for a submission, the first decision at or after it.
 */
const RAW_STEPS = sql.raw(`(
  select e.id as event_id, e.post_id, p.unit_id, e.to_status, e.created_at as at,
    (select max(x.created_at) from post_events x
      where x.post_id = e.post_id and x.kind = 'transition' and x.to_status = e.to_status
        and (x.created_at, x.id) < (e.created_at, e.id)) as previous_at,
    case when e.to_status = 'submitted' then (
      select min(x.created_at) from post_events x
      where x.post_id = e.post_id and x.kind = 'transition'
        and x.to_status in ('approved', 'rejected', 'changes_requested') and x.created_at >= e.created_at
    ) end as decided_at
  from post_events e join posts p on p.id = e.post_id
  where e.kind = 'transition' and e.to_status in ('submitted', 'approved', 'rejected', 'changes_requested')
)`);

/** The raw derivation of the post totals: the rollup's deliveries summed per post. */
const RAW_POST_TOTALS = sql.raw(`(
  select r.post_id, (array_agg(r.unit_id))[1] as unit_id, min(r.published_at) as first_published_at,
    max(r.published_at) as last_published_at, count(*)::int as published,
    sum(r.impressions)::bigint as impressions, sum(r.engagements)::bigint as engagements
  from ${RAW_TEXT} r
  group by r.post_id
)`);

const RAW_SOURCES = { metrics: RAW, metricWeeks: null, postTotals: null, reviews: RAW_STEPS };

/** mulberry32: a small seeded generator, so a failing history can be replayed with its seed. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    int: (below: number) => Math.floor(next() * below),
    chance: (p: number) => next() < p,
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!,
    shuffle: <T>(items: T[]) => {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [items[i], items[j]] = [items[j]!, items[i]!];
      }
      return items;
    },
  };
}

const HOUR = 3_600_000;
const WINDOW_AFTER: Record<'1h' | '24h' | '7d' | 'now', number> = {
  '1h': HOUR,
  '24h': 24 * HOUR,
  '7d': 7 * 24 * HOUR,
  now: 9 * 24 * HOUR,
};
/** What each platform's metrics leave out (null), as the adapters report them. */
const LEFT_OUT: Partial<Record<Platform, readonly string[]>> = {
  x: [],
  facebook: ['quotes', 'clicks'],
  mastodon: ['impressions', 'quotes', 'clicks'],
  bluesky: ['impressions', 'clicks'],
};
const START = Date.parse('2031-02-24T00:00:00Z');
const SEED = Number(process.env.REPORT_ROLLUP_SEED) || Date.now() % 1_000_000;

describe.each(testDrivers())('metric rollup on %s', (driver) => {
  let t: TestContext;
  let org: TestOrg;
  const random = generator(SEED);
  const seedNote = `history seed ${SEED} (REPORT_ROLLUP_SEED to replay)`;
  const channelPlatform = new Map<string, Platform>();

  const exec = (statement: ReturnType<typeof sql>) => t.ctx.db.execute(statement);
  const rows = (relation: ReturnType<typeof sql>) =>
    queryRows<Record<string, unknown>>(t.ctx.db, sql`select * from ${relation} r order by r.delivery_id`);

  /** A snapshot as the metrics worker writes it: scheduled windows once, the on-demand one replaced. */
  const writeSnapshot = (deliveryId: string, window: keyof typeof WINDOW_AFTER, publishedAt: Date) => {
    const platform = channelPlatform.get(deliveryId)!;
    const leftOut = LEFT_OUT[platform] ?? [];
    const jitter = random.chance(0.2) ? 0 : (random.int(120) - 60) * 60_000;
    // Some scheduled snapshots are taken late, after the next window's: the latest is by time, not by window.
    const late = window !== 'now' && random.chance(0.15) ? 10 * 24 * HOUR : 0;
    const takenAt = new Date(publishedAt.getTime() + WINDOW_AFTER[window] + jitter + late).toISOString();
    const figure = (field: string) =>
      leftOut.includes(field) || random.chance(0.05) ? null : random.int(5_000);
    const values = FIELDS.map((field) => figure(field));
    const demo = random.chance(0.1) ? '{"demo": true}' : '{}';
    return exec(sql`insert into metrics_snapshots (delivery_id, "window", taken_at, impressions, likes, reposts, replies, quotes, clicks, raw)
      values (${deliveryId}::uuid, ${window}, ${takenAt}::timestamptz, ${sql.join(
        values.map((v) => sql`${v}::bigint`),
        sql`, `,
      )}, ${demo}::jsonb)
      on conflict (delivery_id, "window") ${
        window === 'now'
          ? sql`do update set taken_at = excluded.taken_at, impressions = excluded.impressions, likes = excluded.likes,
              reposts = excluded.reposts, replies = excluded.replies, quotes = excluded.quotes, clicks = excluded.clicks,
              raw = excluded.raw`
          : sql`do nothing`
      }`);
  };

  /**
   * The report from the tables equals the one from the raw derivations, every delivery read one by one;
   * and its posts' figures equal what the timelines give, each post's events looked up one by one.
   */
  const expectRawReport = async (query: ReportQuery) => {
    const report = await buildReport(t.ctx, query);
    const note = `${seedNote}: ${JSON.stringify(query)}`;
    expect(report, note).toEqual(await buildReport(t.ctx, query, RAW_SOURCES));
    if (query.group !== 'office' && query.group !== 'region') return;
    const key =
      query.group === 'office'
        ? sql`u.id::text`
        : sql`coalesce(nullif(split_part(u.path, '/', 3), ''), split_part(u.path, '/', 2))`;
    const inScope = query.subtree
      ? sql`u.path like ${`${query.scopePath}%`}`
      : sql`u.path = ${query.scopePath}`;
    const from = sql`${query.from.toISOString()}::timestamptz`;
    const to = sql`${query.to.toISOString()}::timestamptz`;
    const timelines = await queryRows<Record<string, number | string | null>>(
      t.ctx.db,
      sql`with ev as (
          select e.post_id, ${key} as k,
            bool_or(e.to_status = 'submitted') as submitted, bool_or(e.to_status = 'approved') as approved,
            bool_or(e.to_status = 'rejected') as rejected, bool_or(e.to_status = 'changes_requested') as changes,
            min(e.created_at) filter (where e.to_status = 'submitted') as submitted_at
          from post_events e join posts p on p.id = e.post_id join units u on u.id = p.unit_id
          where e.kind = 'transition' and e.to_status in ('submitted', 'approved', 'rejected', 'changes_requested')
            and e.created_at >= ${from} and e.created_at < ${to} and ${inScope}
          group by e.post_id, 2
        )
        select ev.k, count(*) filter (where ev.submitted)::int as submitted, count(*) filter (where ev.approved)::int as approved,
          count(*) filter (where ev.rejected)::int as rejected, count(*) filter (where ev.changes)::int as changes,
          percentile_cont(0.5) within group (order by extract(epoch from d.at - ev.submitted_at) / 60)::float8 as median,
          percentile_cont(0.9) within group (order by extract(epoch from d.at - ev.submitted_at) / 60)::float8 as p90
        from ev left join lateral (
          select min(x.created_at) as at from post_events x
          where x.post_id = ev.post_id and x.kind = 'transition'
            and x.to_status in ('approved', 'rejected', 'changes_requested') and x.created_at >= ev.submitted_at
        ) d on ev.submitted_at is not null
        group by grouping sets ((ev.k), ())`,
    );
    const figures = (row: Record<string, number | string | null>) => ({
      posts: {
        submitted: Number(row.submitted),
        approved: Number(row.approved),
        rejected: Number(row.rejected),
        changesRequested: Number(row.changes),
      },
      firstDecisionMinutes: {
        median: row.median === null ? null : Number(row.median),
        p90: row.p90 === null ? null : Number(row.p90),
      },
    });
    for (const row of timelines) {
      const group = row.k === null ? report.totals : report.groups.find((g) => g.key === row.k);
      expect(group && { posts: group.posts, firstDecisionMinutes: group.firstDecisionMinutes }, note).toEqual(
        figures(row),
      );
    }
    const counted = report.groups.filter(
      (g) => g.posts!.submitted + g.posts!.approved + g.posts!.rejected + g.posts!.changesRequested > 0,
    );
    expect(counted.length, note).toBe(timelines.filter((row) => row.k !== null).length);

    // The failed deliveries of the period, each counted for its post's office as the posts give it now.
    const byPlatform = query.platforms?.length
      ? sql` and c.platform in (${sql.join(
          query.platforms.map((platform) => sql`${platform}`),
          sql`, `,
        )})`
      : sql``;
    const failed = await queryRows<{ k: string | null; failed: number }>(
      t.ctx.db,
      sql`select ${key} as k, count(*)::int as failed
        from deliveries d join posts p on p.id = d.post_id join units u on u.id = p.unit_id
          join channels c on c.id = d.channel_id
        where d.status = 'failed' and d.updated_at >= ${from} and d.updated_at < ${to} and ${inScope} ${byPlatform}
        group by grouping sets ((1), ())`,
    );
    for (const row of failed) {
      const group = row.k === null ? report.totals : report.groups.find((g) => g.key === row.k);
      expect(group?.deliveries.failed, note).toBe(Number(row.failed));
    }
    expect(report.groups.filter((g) => g.deliveries.failed > 0).length, note).toBe(
      failed.filter((row) => row.k !== null).length,
    );
  };

  beforeAll(async () => {
    t = await createTestContext(driver, { now: () => new Date('2031-04-01T00:00:00Z') });
    org = await seedTestOrg(t.ctx);
    const channels: { id: string; platform: Platform; unit: UnitKey }[] = [];
    for (const [unit, platform] of [
      ['national', 'x'],
      ['national', 'facebook'],
      ['national', 'telegram'],
      ['regionA', 'mastodon'],
      ['regionA', 'facebook'],
      ['regionB', 'bluesky'],
      ['regionB', 'webhook'],
      ['officeA1', 'x'],
    ] as const)
      channels.push({
        id: await insertChannel(t.ctx, org.units[unit], platform, { name: `${platform} ${unit}` }),
        platform,
        unit,
      });

    // Posts over five weeks from every unit, each on one to four channels; some deliveries failed.
    const published: { id: string; at: Date; platform: Platform }[] = [];
    for (let i = 0; i < 60; i++) {
      const unit = random.pick(UNIT_KEYS);
      const submittedAt = new Date(START + random.int(35 * 24) * HOUR);
      const targets = random.shuffle([...channels]).slice(0, 1 + random.int(4));
      const deliveries = targets.map((channel) => ({
        channelId: channel.id,
        publishedAt: new Date(submittedAt.getTime() + (1 + random.int(48)) * HOUR),
        status: random.chance(0.1) ? ('failed' as const) : ('published' as const),
      }));
      const made = await insertReportedPost(t.ctx, {
        unit: org.units[unit],
        author: org.user(unit, 'contributor'),
        submittedAt,
        decision: { after: 1 + random.int(600), to: 'approved' },
        deliveries,
      });
      made.deliveryIds.forEach((id, n) => {
        channelPlatform.set(id, targets[n]!.platform);
        if (deliveries[n]!.status === 'published')
          published.push({ id, at: deliveries[n]!.publishedAt, platform: targets[n]!.platform });
      });
    }

    // Snapshots in random order across deliveries and windows, scheduled ones sometimes repeated
    // (kept once), on-demand ones re-recorded; platforms without metrics get none.
    const writes = published
      .filter((delivery) => LEFT_OUT[delivery.platform])
      .flatMap((delivery) =>
        (['1h', '24h', '7d', 'now'] as const)
          .filter(() => random.chance(0.75))
          .flatMap((window) =>
            Array.from({ length: random.chance(0.2) ? 2 : 1 }, () => ({ delivery, window })),
          ),
      );
    for (const write of random.shuffle(writes))
      await writeSnapshot(write.delivery.id, write.window, write.delivery.at);

    // Several deliveries' snapshots in one statement.
    const batch = published.filter((delivery) => delivery.platform === 'x').slice(0, 5);
    await exec(sql`insert into metrics_snapshots (delivery_id, "window", taken_at, impressions, likes)
      select d.id, 'now', d.published_at + interval '30 days', 77, 7 from deliveries d
      where d.id in (${sql.join(
        batch.map((delivery) => sql`${delivery.id}::uuid`),
        sql`, `,
      )})
      on conflict (delivery_id, "window") do update set taken_at = excluded.taken_at, impressions = excluded.impressions,
        likes = excluded.likes, reposts = null, replies = null, quotes = null, clicks = null`);
    // Two snapshots of one delivery taken at the same moment: the later window is the latest.
    const tied = published.find((delivery) => delivery.platform === 'facebook')!;
    await exec(sql`update metrics_snapshots set taken_at = ${tied.at.toISOString()}::timestamptz + interval '2 days'
      where delivery_id = ${tied.id}::uuid`);
    // A correction of one figure, a snapshot removed, a delivery retracted, one deleted with its snapshots.
    const [corrected] = await queryRows<{ id: string }>(
      t.ctx.db,
      sql`select id from metrics_snapshots order by taken_at limit 1`,
    );
    await exec(sql`update metrics_snapshots set likes = likes + 1000 where id = ${corrected!.id}::uuid`);
    await exec(sql`delete from metrics_snapshots where id = (
      select id from metrics_snapshots where "window" = '24h' order by taken_at desc limit 1)`);
    const [retracted, deleted] = random.shuffle(published.filter((d) => LEFT_OUT[d.platform]));
    await exec(sql`update deliveries set status = 'retracting' where id = ${retracted!.id}::uuid`);
    await exec(sql`update deliveries set status = 'retracted', retracted_at = published_at + interval '3 days'
      where id = ${retracted!.id}::uuid`);
    await exec(sql`delete from deliveries where id = ${deleted!.id}::uuid`);
    // A delivery that went out late: scheduled first, published once its snapshots' window came (on a
    // platform that reports figures: Telegram and webhooks give none).
    const measured = Object.keys(LEFT_OUT);
    const [late] = await queryRows<{ id: string }>(
      t.ctx.db,
      sql`update deliveries set status = 'scheduled', published_at = null
        where id = (select d.id from deliveries d join channels c on c.id = d.channel_id
          where d.status = 'failed' and c.platform in (${sql.join(
            measured.map((platform) => sql`${platform}`),
            sql`, `,
          )}) limit 1) returning id`,
    );
    await exec(sql`update deliveries set status = 'published', published_at = ${new Date(START + 20 * 24 * HOUR).toISOString()}::timestamptz,
      remote_id = 'late-1' where id = ${late!.id}::uuid`);
    await writeSnapshot(late!.id, '1h', new Date(START + 20 * 24 * HOUR));
    // Review timelines: sent back and resubmitted, decided at the instant of submission, never decided,
    // withdrawn, commented on; some events written together in one statement, some out of order.
    const reviewed: string[] = [];
    for (let i = 0; i < 40; i++) {
      const unit = random.pick(UNIT_KEYS);
      let at = START + random.int(35 * 24) * HOUR + random.int(60) * 60_000;
      const made = await insertReportedPost(t.ctx, {
        unit: org.units[unit],
        author: org.user(unit, 'contributor'),
        submittedAt: new Date(at),
      });
      reviewed.push(made.postId);
      const events: { from: string; to: string | null; kind: string; at: number }[] = [];
      let status = 'submitted';
      for (let round = 0; round < 1 + random.int(4); round++) {
        const step = (to: string, kind = 'transition') => {
          at += random.chance(0.15) ? 0 : random.int(3 * 24) * HOUR + random.int(60) * 60_000;
          events.push({ from: status, to, kind, at });
          if (kind === 'transition') status = to;
        };
        if (random.chance(0.3)) step('submitted', 'comment');
        if (status === 'changes_requested' || status === 'draft') step('submitted');
        const roll = random.next();
        if (roll < 0.45) step('changes_requested');
        else if (roll < 0.6) step(random.chance(0.5) ? 'withdrawn' : 'draft');
        else if (roll < 0.85) {
          step('approved');
          break;
        } else if (roll < 0.95) {
          step('rejected');
          break;
        } else break;
      }
      // Written all at once, one by one, or in reverse order of time.
      const values = (list: typeof events) =>
        sql.join(
          list.map(
            (event) =>
              sql`(${made.postId}::uuid, ${event.kind}, ${event.from}, ${event.kind === 'transition' ? event.to : null},
                ${new Date(event.at).toISOString()}::timestamptz)`,
          ),
          sql`, `,
        );
      const insert = (list: typeof events) =>
        list.length
          ? exec(
              sql`insert into post_events (post_id, kind, from_status, to_status, created_at) values ${values(list)}`,
            )
          : Promise.resolve();
      const order = random.next();
      if (order < 0.4) await insert(events);
      else for (const event of order < 0.7 ? events : [...events].reverse()) await insert([event]);
    }
    // A decision taken back (its event deleted) and one recorded at another time.
    await exec(sql`delete from post_events where id = (select e.id from post_events e
      where e.kind = 'transition' and e.to_status = 'changes_requested' and e.post_id in (${sql.join(
        reviewed.map((id) => sql`${id}::uuid`),
        sql`, `,
      )}) order by e.id limit 1)`);
    await exec(sql`update post_events set created_at = created_at - interval '2 days' where id = (select e.id from post_events e
      where e.kind = 'transition' and e.to_status = 'approved' and e.post_id in (${sql.join(
        reviewed.map((id) => sql`${id}::uuid`),
        sql`, `,
      )}) order by e.id desc limit 1)`);
    await exec(sql`update post_events set to_status = 'withdrawn' where id = (select e.id from post_events e
      where e.kind = 'transition' and e.to_status = 'submitted' and e.post_id in (${sql.join(
        reviewed.map((id) => sql`${id}::uuid`),
        sql`, `,
      )}) order by e.id desc limit 1)`);
    // A reviewed post moved to another office: its steps follow it.
    await exec(
      sql`update posts set unit_id = ${org.units.officeA2.id}::uuid where id = ${reviewed[0]!}::uuid`,
    );
    // A post moved to another office: its deliveries follow it.
    await exec(sql`update posts set unit_id = ${org.units.officeB2.id}::uuid
      where id = (select post_id from deliveries where status = 'published' limit 1)`);
    // And one whose delivery failed in the reports' common period, from an office other than officeA2.
    await exec(sql`update posts set unit_id = ${org.units.officeA2.id}::uuid
      where id = (select d.post_id from deliveries d join posts p on p.id = d.post_id
        where d.status = 'failed' and p.unit_id <> ${org.units.officeA2.id}::uuid
          and d.updated_at >= '2031-03-03T00:00:00Z' and d.updated_at < '2031-03-23T00:00:00Z'
        order by d.updated_at limit 1)`);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('holds exactly the figures the snapshots give, for every published delivery and no other', async () => {
    const rollup = await rows(sql`delivery_metric_rollups`);
    expect(rollup, seedNote).toEqual(await rows(RAW));
    expect(rollup.length).toBeGreaterThan(50);
    // Not vacuous: measured and unmeasured deliveries, every window, figures left out by a platform.
    expect(rollup.some((row) => row.taken_at === null)).toBe(true);
    for (const column of ['impressions', 'likes_1h', 'reposts_24h', 'engagements_7d'])
      expect(rollup.some((row) => row[column] !== null)).toBe(true);
    expect(rollup.some((row) => row.taken_at !== null && row.impressions === null)).toBe(true);
    expect(rollup.some((row) => row.demo === true)).toBe(true);
  });

  it('holds in each week exactly the sums of its deliveries', async () => {
    const weeks = await queryRows<Record<string, unknown>>(
      t.ctx.db,
      sql`select * from delivery_metric_weeks where published > 0 order by week, unit_id, channel_id`,
    );
    expect(weeks, seedNote).toEqual(
      await queryRows<Record<string, unknown>>(
        t.ctx.db,
        sql`select * from ${RAW_WEEKS} r order by week, unit_id, channel_id`,
      ),
    );
    // Not vacuous: weeks with several deliveries, and weeks left empty by a retraction or a deletion.
    expect(weeks.some((week) => Number(week.published) > 1)).toBe(true);
    expect(weeks.length).toBeGreaterThan(20);
  });

  it('holds for each post exactly the sums of its deliveries', async () => {
    const totals = await queryRows<Record<string, unknown>>(
      t.ctx.db,
      sql`select * from post_metric_totals where published > 0 order by post_id`,
    );
    expect(totals, seedNote).toEqual(
      await queryRows<Record<string, unknown>>(
        t.ctx.db,
        sql`select * from ${RAW_POST_TOTALS} r order by post_id`,
      ),
    );
    // Not vacuous: posts on several channels.
    expect(totals.some((post) => Number(post.published) > 1)).toBe(true);
  });

  it('keeps each review step as the timelines give it', async () => {
    const steps = await queryRows<Record<string, unknown>>(
      t.ctx.db,
      sql`select * from post_review_steps order by event_id`,
    );
    expect(steps, seedNote).toEqual(
      await queryRows<Record<string, unknown>>(t.ctx.db, sql`select * from ${RAW_STEPS} r order by event_id`),
    );
    // Not vacuous: resubmissions, undecided submissions, and every kind of step.
    expect(steps.some((step) => step.to_status === 'submitted' && step.decided_at === null)).toBe(true);
    for (const status of ['submitted', 'approved', 'rejected', 'changes_requested'])
      expect(steps.some((step) => step.to_status === status)).toBe(true);
    const submissions = new Map<unknown, number>();
    for (const step of steps)
      if (step.to_status === 'submitted')
        submissions.set(step.post_id, (submissions.get(step.post_id) ?? 0) + 1);
    expect([...submissions.values()].some((count) => count > 1)).toBe(true);
  });

  it('gives every report the figures the raw snapshots give', async () => {
    const scopes = [
      { scopePath: org.units.national.path, subtree: true },
      { scopePath: org.units.regionA.path, subtree: true },
      { scopePath: org.units.officeA1.path, subtree: false },
    ];
    const filters: Pick<ReportQuery, 'platforms' | 'channelIds'>[] = [
      {},
      { platforms: ['telegram'] },
      { platforms: ['mastodon', 'bluesky', 'webhook'] },
    ];
    let compared = 0;
    for (const group of REPORT_GROUPS)
      for (const scope of scopes)
        for (const filter of filters)
          for (const timeZone of ['Asia/Jakarta', 'Asia/Jayapura']) {
            const query: ReportQuery = {
              ...scope,
              ...filter,
              group,
              timeZone,
              from: new Date('2031-03-02T17:00:00Z'),
              to: new Date('2031-03-23T17:00:00Z'),
            };
            await expectRawReport(query);
            compared++;
          }
    expect(compared).toBe(REPORT_GROUPS.length * scopes.length * filters.length * 2);

    // What a platform does not give stays "not available", not 0.
    const national = { scopePath: org.units.national.path, subtree: true, timeZone: 'Asia/Jakarta' };
    const period = { from: new Date(START), to: new Date(START + 60 * 24 * HOUR) };
    const all = await buildReport(t.ctx, { ...national, ...period, group: 'platform' });
    expect(all.totals.deliveries.published).toBeGreaterThan(0);
    expect(all.totals.deliveries.failed).toBeGreaterThan(0);
    expect(all.totals.reach.latest.impressions).toBeGreaterThan(0);
    const telegram = await buildReport(t.ctx, {
      ...national,
      ...period,
      group: 'platform',
      platforms: ['telegram'],
    });
    expect(telegram.totals.deliveries.published).toBeGreaterThan(0);
    expect(telegram.totals.reach.latest).toEqual({
      impressions: null,
      likes: null,
      reposts: null,
      replies: null,
      quotes: null,
      clicks: null,
      engagements: null,
    });
    expect(telegram.totals.notAvailableFrom.impressions).toEqual(['telegram']);
    const mastodon = await buildReport(t.ctx, {
      ...national,
      ...period,
      group: 'platform',
      platforms: ['mastodon'],
    });
    expect(mastodon.totals.reach.latest.impressions).toBeNull();
    expect(mastodon.totals.notAvailableFrom.impressions).toEqual(['mastodon']);
  });

  it('gives every report the figures the raw rows give in odd time zones and periods', {
    timeout: 300_000,
  }, async () => {
    const scopes = [
      { scopePath: org.units.national.path, subtree: true },
      { scopePath: org.units.regionA.path, subtree: true },
    ];
    // Zones a quarter or three quarters of an hour off UTC, with summer time or south of the equator, and
    // periods that start and end mid-day, mid-week, on UTC weeks, or last less than a week.
    const periods = [
      { from: '2031-03-04T09:17:00Z', to: '2031-03-29T03:45:30Z' },
      { from: '2031-03-03T00:00:00Z', to: '2031-03-24T00:00:00Z' },
      { from: '2031-03-10T05:00:00Z', to: '2031-03-13T11:00:00Z' },
      { from: '2031-02-20T00:00:00Z', to: '2031-04-10T00:00:00Z' },
    ];
    for (const timeZone of ['Asia/Kathmandu', 'America/St_Johns', 'Pacific/Chatham', 'Australia/Lord_Howe'])
      for (const period of periods)
        for (const group of REPORT_GROUPS)
          for (const scope of scopes) {
            const query: ReportQuery = {
              ...scope,
              group,
              timeZone,
              from: new Date(period.from),
              to: new Date(period.to),
            };
            await expectRawReport(query);
          }
  });

  it.runIf(driver === 'postgres')(
    'stays exact when two transactions record snapshots of one delivery at once',
    async () => {
      const [target] = await queryRows<{ id: string; published_at: string }>(
        t.ctx.db,
        sql`select d.id, d.published_at::text from deliveries d join channels c on c.id = d.channel_id
          where d.status = 'published' and c.platform = 'x' order by d.id limit 1`,
      );
      const connect = async () => {
        const client = new pg.Client({ connectionString: t.database.url! });
        await client.connect();
        await client.query('begin');
        return client;
      };
      const insert = (client: pg.Client, window: string, impressions: number) =>
        client.query(
          `insert into metrics_snapshots (delivery_id, "window", taken_at, impressions, likes)
            values ($1, $2, $3::timestamptz + interval '20 days', $4, 1)
            on conflict (delivery_id, "window") do update set taken_at = excluded.taken_at,
              impressions = excluded.impressions, likes = excluded.likes`,
          [target!.id, window, target!.published_at, impressions],
        );
      await exec(sql`delete from metrics_snapshots where delivery_id = ${target!.id}::uuid`);
      const first = await connect();
      const second = await connect();
      try {
        await insert(first, '1h', 111);
        // The second writer waits for the first: its rollup row is computed from what the first committed.
        const waiting = insert(second, '24h', 222);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await first.query('commit');
        await waiting;
        await second.query('commit');
      } finally {
        await first.end();
        await second.end();
      }
      const [row] = await queryRows<Record<string, unknown>>(
        t.ctx.db,
        sql`select impressions_1h::int, impressions_24h::int from delivery_metric_rollups where delivery_id = ${target!.id}::uuid`,
      );
      expect(row).toEqual({ impressions_1h: 111, impressions_24h: 222 });
      expect(await rows(sql`delivery_metric_rollups`)).toEqual(await rows(RAW));
      expect(
        await queryRows(t.ctx.db, sql`select * from post_metric_totals where published > 0 order by post_id`),
      ).toEqual(await queryRows(t.ctx.db, sql`select * from ${RAW_POST_TOTALS} r order by post_id`));
    },
  );

  it.runIf(driver === 'postgres')(
    "stays exact when two transactions record snapshots of one week's deliveries at once",
    async () => {
      const [channel] = await queryRows<{ channel_id: string }>(
        t.ctx.db,
        sql`select id as channel_id from channels where platform = 'x' order by id limit 1`,
      );
      const ids: string[] = [];
      for (const hours of [1, 30]) {
        const made = await insertReportedPost(t.ctx, {
          unit: org.units.officeB1,
          author: org.user('officeB1', 'contributor'),
          submittedAt: new Date(Date.parse('2031-04-14T00:00:00Z') + hours * HOUR),
          decision: { after: 10, to: 'approved' },
          deliveries: [
            {
              channelId: channel!.channel_id,
              publishedAt: new Date(Date.parse('2031-04-14T02:00:00Z') + hours * HOUR),
            },
          ],
        });
        ids.push(made.deliveryIds[0]!);
      }
      const connect = async () => {
        const client = new pg.Client({ connectionString: t.database.url! });
        await client.connect();
        await client.query('begin');
        return client;
      };
      const insert = (client: pg.Client, deliveryId: string, impressions: number) =>
        client.query(
          `insert into metrics_snapshots (delivery_id, "window", taken_at, impressions, likes)
            select id, '24h', published_at + interval '1 day', $2, 1 from deliveries where id = $1`,
          [deliveryId, impressions],
        );
      const first = await connect();
      const second = await connect();
      try {
        await insert(first, ids[0]!, 1_000);
        // The second writer waits for the first on the week's cell, then sums what the first committed.
        const waiting = insert(second, ids[1]!, 2_000);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await first.query('commit');
        await waiting;
        await second.query('commit');
      } finally {
        await first.end();
        await second.end();
      }
      const [cell] = await queryRows<{ published: number; impressions_24h: string }>(
        t.ctx.db,
        sql`select published, impressions_24h::text from delivery_metric_weeks
          where week = '2031-04-14T00:00:00Z' and unit_id = ${org.units.officeB1.id}::uuid and channel_id = ${channel!.channel_id}::uuid`,
      );
      expect(cell).toMatchObject({ published: 2, impressions_24h: '3000' });
      expect(
        await queryRows(
          t.ctx.db,
          sql`select * from delivery_metric_weeks where published > 0 order by week, unit_id, channel_id`,
        ),
      ).toEqual(
        await queryRows(t.ctx.db, sql`select * from ${RAW_WEEKS} r order by week, unit_id, channel_id`),
      );
    },
  );
});
