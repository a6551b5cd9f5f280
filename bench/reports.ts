/**
 * Reports for a quarter at national scope over a year of history: 100,000 posts, 500,000 deliveries
 * and 1,500,000 metric snapshots across 160 units on PostgreSQL (a tenth of that on PGlite). p50/p99
 * of the reports page (`GET /reports`, signed in) and of the API (`GET /api/v1/reports/units`),
 * through the real app, against a baseline from the same run: the report's queries alone
 * (`buildReport`), and each of those queries' EXPLAIN ANALYZE execution time and the scans in its
 * plan. Seeding is set-based SQL (generate_series); the rollup triggers run as it goes.
 * Writes its section of docs/benchmarks.md.
 *
 *   npm run bench:reports          (BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local server)
 *   BENCH_ONLY=postgres|pglite     one driver only (the section is printed, not written)
 *   BENCH_PGLITE_FULL=1            PGlite at full size instead of a tenth
 *   BENCH_SCALE=0.1                every size times this (a quick look at the shape; the section is printed, not written)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type SQL, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { loadConfig } from '../config/env';
import { buildApp } from '../src/app';
import { type AppContext, assembleContext } from '../src/context';
import { type Database, openPglite, queryRows } from '../src/db/client';
import { SESSION_COOKIE } from '../src/http/auth';
import { hashPassword, KeyRing, randomToken, sha256Hex } from '../src/infra/crypto';
import { createLogger } from '../src/logger';
import { resolveRedis } from '../src/queues/redis';
import { buildReport, type ReportQuery } from '../src/services/reports';
import { benchPostgres } from './database';
import { explainTree, measureInTurn, seqScansOf, type Timing, writeSection } from './measure';

const FULL = { posts: 100_000, deliveriesPerPost: 5, snapshots: 1_500_000 };
const SCALE = Number(process.env.BENCH_SCALE) || 1;
const REGIONS = 33;
const OFFICES = 126;
/** BENCH_RUNS lowers the count on a machine too loaded for the full run. */
const RUNS = Number(process.env.BENCH_RUNS) || 100;
const WARMUP = Math.max(1, Math.floor(RUNS / 10));
const TIMED = { warmup: WARMUP, runs: RUNS };
const HISTORY_DAYS = 365;
/** The quarter measured: the last 91 days of the history, in WIB days. */
const QUARTER_DAYS = 91;
const PASSWORD = 'kata-sandi-bench-12345';
const NATIONAL_PLATFORMS = [
  'x',
  'facebook',
  'instagram',
  'threads',
  'telegram',
  'mastodon',
  'bluesky',
  'youtube',
];

type Scale = {
  posts: number;
  deliveries: number;
  snapshots: number;
};

/**
 * The organisation, a year of posts (one in ten rejected), five deliveries per post (four national
 * accounts and one of the office's region; one in twenty-five failed), three snapshots per published
 * delivery and an on-demand one for the rest of the snapshot budget — all in a handful of statements.
 */
async function seed(db: Database['db'], posts: number, now: Date): Promise<Scale> {
  const at = now.toISOString();
  const exec = (query: ReturnType<typeof sql>) => db.execute(query);
  await exec(sql`insert into units (id, kind, name, slug, time_zone, path)
    select id, 'national', 'Direktorat Jenderal Imigrasi', 'ditjen', 'Asia/Jakarta', '/' || id || '/'
    from (select gen_random_uuid() as id) n`);
  await exec(sql`insert into units (id, parent_id, kind, name, slug, time_zone, path)
    select r.id, n.id, 'regional', 'Kanwil ' || r.g, 'kanwil-' || r.g, 'Asia/Jakarta', n.path || r.id || '/'
    from (select gen_random_uuid() as id, g from generate_series(1, ${REGIONS}) g) r
    cross join (select id, path from units where parent_id is null) n`);
  await exec(sql`insert into units (id, parent_id, kind, name, slug, time_zone, path)
    select o.id, r.id, 'office', 'Kantor Imigrasi ' || o.g, 'kanim-' || o.g, 'Asia/Jakarta', r.path || o.id || '/'
    from (select gen_random_uuid() as id, g from generate_series(1, ${OFFICES}) g) o
    join units r on r.slug = 'kanwil-' || (1 + (o.g - 1) % ${REGIONS})`);
  await exec(sql`insert into users (unit_id, email, name, role, password_hash)
    select id, 'kontributor@' || slug || '.test', 'Kontributor ' || name, 'contributor', 'scrypt$-$-$-$-$-' from units`);
  await exec(sql`insert into channels (unit_id, platform, name, time_zone)
    select u.id, p, initcap(p) || ' Nasional', 'Asia/Jakarta'
    from units u cross join unnest(${sql.raw(`array[${NATIONAL_PLATFORMS.map((p) => `'${p}'`).join(', ')}]`)}::text[]) p
    where u.parent_id is null`);
  await exec(sql`insert into channels (unit_id, platform, name, time_zone)
    select id, 'facebook', 'Facebook ' || name, 'Asia/Jakarta' from units where kind = 'regional'`);

  // Posts: offices (nine in ten) and regions, spread over the year; one in ten rejected.
  await exec(sql`create temporary table bench_units as
    select row_number() over (order by slug) - 1 as n, id, parent_id, kind from units where kind <> 'national'`);
  await exec(sql`insert into posts (id, unit_id, author_id, status, version, body, tags, submitted_at, decided_at, created_at, updated_at)
    select gen_random_uuid(), u.id, a.id, case when g % 10 = 0 then 'rejected' else 'approved' end, 2,
      'Kabar layanan imigrasi nomor ' || g || ' tentang paspor, izin tinggal dan pengawasan orang asing', array['Imigrasi'],
      t.submitted, t.submitted + ((g % 240) || ' minutes')::interval, t.submitted, t.submitted
    from generate_series(1, ${posts}) g
    cross join lateral (select ${at}::timestamptz - ((g * 7919 % (${HISTORY_DAYS} * 1440)) || ' minutes')::interval as submitted) t
    join bench_units u on u.n = (g * 31) % ${REGIONS + OFFICES}
    join users a on a.unit_id = u.id`);
  await exec(sql`insert into post_events (post_id, kind, from_status, to_status, created_at)
    select id, 'transition', 'draft', 'submitted', submitted_at from posts
    union all
    select id, 'transition', 'submitted', status, decided_at from posts`);

  // Deliveries: approved posts on four of the national accounts and their region's page.
  await exec(sql`create temporary table bench_channels as
    select row_number() over (order by platform) - 1 as n, id from channels c
    where c.unit_id = (select id from units where parent_id is null)`);
  const perPost = FULL.deliveriesPerPost;
  await exec(sql`insert into deliveries (post_id, channel_id, mode, status, due_at, rendered_text, published_at, remote_id, remote_url, created_at, updated_at)
    select p.id, c.id, 'copy', case when (k + pn) % 25 = 0 then 'failed' else 'published' end,
      p.decided_at + (k || ' hours')::interval, p.body,
      case when (k + pn) % 25 = 0 then null else p.decided_at + (k || ' hours')::interval end,
      case when (k + pn) % 25 = 0 then null else 'remote-' || p.id || '-' || k end,
      case when (k + pn) % 25 = 0 then null else 'https://social.example/' || p.id || '/' || k end,
      p.decided_at, p.decided_at + (k || ' hours')::interval
    from (select p.*, row_number() over (order by p.id) as pn, u.parent_id as region, u.kind as unit_kind
          from posts p join units u on u.id = p.unit_id where p.status = 'approved') p
    cross join generate_series(0, ${perPost}) k
    join lateral (
      select id from (
        select id from bench_channels where n = (pn + k) % ${NATIONAL_PLATFORMS.length} and k <> ${perPost - 1}
        union all
        select id from channels where unit_id = case when p.unit_kind = 'office' then p.region else p.unit_id end
          and platform = 'facebook' and k = ${perPost - 1}
      ) x limit 1
    ) c on true
    -- Five deliveries per approved post, six for five in nine of them: 500,000 for 90,000 approved posts.
    where k < ${perPost} or pn % 9 < 5`);

  // Three windows per published delivery, then on-demand snapshots until the budget is spent.
  await exec(sql`insert into metrics_snapshots (delivery_id, "window", taken_at, impressions, likes, reposts, replies, quotes, clicks)
    select d.id, w.name, d.published_at + w.after,
      case when c.platform = 'telegram' then null else (abs(hashtext(d.id::text)) % 5000) * w.factor end,
      (abs(hashtext(d.id::text)) % 300) * w.factor, (abs(hashtext(d.id::text)) % 40) * w.factor,
      (abs(hashtext(d.id::text)) % 20) * w.factor, 0, case when c.platform = 'x' then (abs(hashtext(d.id::text)) % 90) * w.factor end
    from deliveries d join channels c on c.id = d.channel_id
    cross join (values ('1h', interval '1 hour', 1), ('24h', interval '24 hours', 3), ('7d', interval '7 days', 5)) w(name, after, factor)
    where d.status = 'published'`);
  const [counted] = await queryRows<{ snapshots: number; published: number }>(
    db,
    sql`select (select count(*)::int from metrics_snapshots) as snapshots,
      (select count(*)::int from deliveries where status = 'published') as published`,
  );
  const budget = Math.round((FULL.snapshots * posts) / FULL.posts) - Number(counted!.snapshots);
  if (budget > 0)
    await exec(sql`insert into metrics_snapshots (delivery_id, "window", taken_at, impressions, likes, reposts, replies, quotes, clicks)
      select d.id, 'now', d.published_at + interval '9 days', 9000, 400, 50, 25, 0, null
      from deliveries d where d.status = 'published' order by d.id limit ${budget}`);
  // The rollup rows were rewritten as each snapshot arrived: clear what autovacuum (on PGlite, Gaung's upkeep,
  // src/db/upkeep.ts) clears on a live database.
  await exec(sql`vacuum analyze`);
  const [totals] = await queryRows<Scale>(
    db,
    sql`select (select count(*)::int from posts) as posts, (select count(*)::int from deliveries) as deliveries,
      (select count(*)::int from metrics_snapshots) as snapshots`,
  );
  return {
    posts: Number(totals!.posts),
    deliveries: Number(totals!.deliveries),
    snapshots: Number(totals!.snapshots),
  };
}

/** The tables that name a statement in the table of plans (units only when it reads nothing else). */
const READ_TABLES = [
  'units',
  'generate_series',
  'post_review_steps',
  'post_events',
  'delivery_metric_rollups',
  'delivery_metric_weeks',
  'post_metric_totals',
  'deliveries',
];

interface PlanSummary {
  /** What the query reads first, for the table of plans. */
  label: string;
  executionMs: number;
  /** Sequential scans in the plan with the rows they read. */
  seqScans: string[];
}

/** Runs the report once recording its statements, then EXPLAIN ANALYZEs each of them. */
async function explainReport(ctx: AppContext, query: ReportQuery): Promise<PlanSummary[]> {
  const statements: SQL[] = [];
  const db = ctx.db;
  const recording = new Proxy(db, {
    get(target, property, receiver) {
      if (property === 'execute')
        return (statement: SQL) => {
          statements.push(statement);
          return target.execute(statement);
        };
      return Reflect.get(target, property, receiver);
    },
  });
  await buildReport({ ...ctx, db: recording }, query);
  const summaries: PlanSummary[] = [];
  for (const statement of statements) {
    const { plan, ms: executionMs } = await explainTree(db, statement);
    const text = new PgDialect().sqlToQuery(statement).sql.replace(/\s+/g, ' ');
    const tables = [
      ...new Set(
        [...text.matchAll(/\b(?:from|join) ([a-z_]+)/gi)]
          .map((match) => match[1]!)
          .filter((table) => READ_TABLES.includes(table)),
      ),
    ];
    const named = tables.length > 1 ? tables.filter((table) => table !== 'units') : tables;
    const label = named.join(' + ') || (/\bfrom (?:\(?)([a-z_]+)/i.exec(text)?.[1] ?? text.slice(0, 30));
    summaries.push({ label, executionMs, seqScans: seqScansOf(plan) });
  }
  return summaries;
}

interface Row {
  driver: string;
  plans: PlanSummary[];
  scale: Scale;
  inQuarter: number;
  seedSeconds: number;
  page: Timing;
  api: Timing;
  baseline: Timing;
}

async function benchDriver(driver: 'postgres' | 'pglite', database: Database, posts: number): Promise<Row> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gaung-bench-reports-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    GAUNG_DATA_DIR: dataDir,
    GAUNG_REDIS_PREFIX: `gaung-bench-${randomBytes(4).toString('hex')}`,
    GAUNG_SECRET_KEY: randomBytes(32).toString('base64'),
    REDIS_URL: process.env.REDIS_URL,
  });
  const log = createLogger('warn');
  const redisTarget = await resolveRedis(config);
  let ctx: AppContext | undefined;
  const now = new Date();
  try {
    await database.migrate();
    const started = performance.now();
    const scale = await seed(database.db, posts, now);
    const seedSeconds = (performance.now() - started) / 1000;
    console.log(`${driver}: seeded ${JSON.stringify(scale)} in ${seedSeconds.toFixed(1)} s`);

    const [national] = await queryRows<{ id: string; path: string }>(
      database.db,
      sql`select id, path from units where parent_id is null`,
    );
    const email = 'humas@bench.test';
    const [reviewer] = await queryRows<{ id: string }>(
      database.db,
      sql`insert into users (unit_id, email, name, role, password_hash)
        values (${national!.id}, ${email}, 'Humas Pusat', 'reviewer', ${await hashPassword(PASSWORD)}) returning id`,
    );
    const token = randomToken('gaung_');
    await database.db.execute(
      sql`insert into api_tokens (user_id, name, token_hash, prefix) values (${reviewer!.id}, 'bench', ${sha256Hex(token)}, ${token.slice(0, 12)})`,
    );

    ctx = await assembleContext({
      config,
      log,
      database,
      redisTarget,
      keys: new KeyRing(config.GAUNG_SECRET_KEY!),
    });
    const app = await buildApp(ctx);
    await app.ready();
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password: PASSWORD },
    });
    if (login.statusCode !== 200) throw new Error(`sign-in failed: ${login.statusCode} ${login.body}`);
    const cookie = `${SESSION_COOKIE}=${login.cookies.find((c) => c.name === SESSION_COOKIE)!.value}`;

    // The last 91 whole WIB days.
    const day = 86_400_000;
    const wibMidnight = new Date(Math.floor((now.getTime() + 7 * 3_600_000) / day) * day - 7 * 3_600_000);
    const to = new Date(wibMidnight.getTime() + day);
    const from = new Date(to.getTime() - QUARTER_DAYS * day);
    const wib = (date: Date) => new Date(date.getTime() + 7 * 3_600_000).toISOString().slice(0, 10);
    const [inQuarter] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from deliveries where status = 'published'
        and published_at >= ${from.toISOString()}::timestamptz and published_at < ${to.toISOString()}::timestamptz`,
    );

    const pageUrl = `/reports?period=custom&from=${wib(from)}&to=${wib(new Date(to.getTime() - day))}&group=office`;
    const apiUrl = `/api/v1/reports/units?from=${from.toISOString()}&to=${to.toISOString()}&group=office`;
    const expectOk = async (url: string, headers: Record<string, string>) => {
      const response = await app.inject({ url, headers });
      if (response.statusCode !== 200)
        throw new Error(`${url} answered ${response.statusCode}: ${response.body.slice(0, 300)}`);
    };
    if (process.env.BENCH_PAGE_OUT)
      writeFileSync(
        process.env.BENCH_PAGE_OUT,
        (await app.inject({ url: pageUrl, headers: { cookie } })).body,
      );
    const reportQuery: ReportQuery = {
      scopePath: national!.path,
      subtree: true,
      from,
      to,
      group: 'office',
      timeZone: 'Asia/Jakarta',
    };
    const { page, api, baseline } = await measureInTurn(
      {
        page: () => expectOk(pageUrl, { cookie }),
        api: () => expectOk(apiUrl, { authorization: `Bearer ${token}` }),
        baseline: async () => {
          await buildReport(ctx!, reportQuery);
        },
      },
      TIMED,
    );
    const plans = await explainReport(ctx, reportQuery);
    for (const plan of plans)
      console.log(
        `${driver}: explain ${plan.label}: ${plan.executionMs.toFixed(1)} ms${plan.seqScans.length ? `; seq scans: ${plan.seqScans.join(', ')}` : ''}`,
      );
    console.log(
      `${driver}: page p50 ${page.p50.toFixed(1)} p99 ${page.p99.toFixed(1)}; api p50 ${api.p50.toFixed(1)} p99 ${api.p99.toFixed(1)}; baseline p50 ${baseline.p50.toFixed(1)} p99 ${baseline.p99.toFixed(1)} ms`,
    );
    await app.close();
    return { driver, plans, scale, inQuarter: Number(inQuarter!.n), seedSeconds, page, api, baseline };
  } finally {
    if (ctx) {
      await Promise.all(Object.values(ctx.queues).map((queue) => queue.close()));
      ctx.redis.disconnect();
    }
    await redisTarget.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const n = (value: number) => value.toLocaleString('en-US');

function report(rows: Row[], postgresVersion: string | null, load: number[], loadAfter: number[]): string {
  const cpu = os.cpus();
  return [
    '## Reports for a quarter at national scope (`/reports` and `GET /api/v1/reports/units`)',
    '',
    'Command: `npm run bench:reports` (bench/reports.ts).',
    '',
    `Machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, ` +
      `Node ${process.version}, PostgreSQL ${postgresVersion ?? 'not available'}, PGlite (in memory). ` +
      `Load average at the start: ${load.map((l) => l.toFixed(2)).join(' / ')}, at the end: ${loadAfter.map((l) => l.toFixed(2)).join(' / ')} ` +
      '(the machine is shared with other work: the figures move with it).',
    '',
    `Data: a year of history across 160 units (1 national, ${REGIONS} regional, ${OFFICES} offices), seeded with set-based SQL ` +
      '(generate_series): posts from offices and regions (one in ten rejected), five deliveries per approved post (four of the ' +
      "eight national accounts and the region's page; one in twenty-five failed), snapshots at 1 h, 24 h and 7 d per published " +
      'delivery plus on-demand ones (the rollup triggers running as they are written); `VACUUM ANALYZE` after seeding. The period: the last 91 WIB days, grouped by office. ' +
      `Each driver is measured in a process of its own; each figure: ${RUNS} sequential requests after ${WARMUP} warm-up ones, the page, the API and the baseline taking turns (one of each per round).`,
    '',
    '- **page**: `GET /reports` signed in as a national reviewer — session, permission check, the report, the SVG charts and the HTML.',
    '- **API**: `GET /api/v1/reports/units` with a bearer token — the report as JSON.',
    "- **baseline**: the report's queries alone (`buildReport`), straight through drizzle.",
    '',
    '| driver | posts | deliveries | snapshots | published in the quarter | seeding | page p50 | page p99 | API p50 | API p99 | baseline p50 | baseline p99 |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.driver} | ${n(r.scale.posts)} | ${n(r.scale.deliveries)} | ${n(r.scale.snapshots)} | ${n(r.inQuarter)} | ${r.seedSeconds.toFixed(0)} s | ${ms(r.page.p50)} | ${ms(r.page.p99)} | ${ms(r.api.p50)} | ${ms(r.api.p99)} | ${ms(r.baseline.p50)} | ${ms(r.baseline.p99)} |`,
    ),
    '',
    "EXPLAIN ANALYZE of each of the report's statements (one run after the measurements; they run concurrently on PostgreSQL's pool, one after another on PGlite), with the sequential scans in its plan:",
    '',
    '| driver | statement (reads first) | execution | sequential scans |',
    '|---|---|---:|---|',
    ...rows.flatMap((r) =>
      r.plans.map(
        (plan) =>
          `| ${r.driver} | ${plan.label} | ${ms(plan.executionMs)} | ${plan.seqScans.join(', ') || 'none'} |`,
      ),
    ),
    '',
    "What the report reads (migrations 0011, 0016 to 0021, tables and columns kept by triggers in the same transaction as each write and checked against the raw rows by tests/integration/report-rollup.test.ts): the posts' review steps (`post_review_steps`: each transition to submitted, approved, rejected or changes requested with its unit, the previous step to the same status and a submission's first decision) by range per unit, with no grouping by post; the published deliveries' figures from the weekly sums (`delivery_metric_weeks`) for the whole UTC weeks of the period and from the per-delivery rollup (`delivery_metric_rollups`, a covering index of every summed column, migration 0018) for its edges, in two statements, each reading the weekly sums' covering index of its columns (migration 0021): the counts and the figures as last measured per unit and channel, every unit's and channel's, with no join (the scope, the filters, the grouping and the national accounts' totals for the shares are applied to those rows in JavaScript, with the units and channels loaded once), and the figures at 1 h, 24 h and 7 d per unit (or channel) of the scope with the filters applied, a few hundred rows; every figure summed as float8 on PostgreSQL and as bigint on PGlite; the failed deliveries per unit and channel, with the scope, the filters and the grouping applied in JavaScript too, from an index of their time, office and channel (each delivery carries its post's office, 0020); the weekly series in the viewer's zone per unit (or channel) and week from the same weekly sums, each whole UTC week in the viewer's week that holds its middle, with only the hours of it that fall in the neighbouring week (7 a week in WIB) and the period's edges read delivery by delivery from the rollup's index (the weekly sums count the deliveries with known impressions and engagements, so a week made of parts still tells nothing known from zero); the top posts from the per-post totals (`post_metric_totals`) by an index in their order that stops at the tenth, with only the posts whose deliveries straddle the start or the end of the period (found by a GiST index on their first-to-last publication span) summed delivery by delivery.",
    '',
    'Target: page and API p99 < 200 ms.',
  ].join('\n');
}

/** Measures one driver in this process; null when PostgreSQL does not answer. */
async function runDriver(
  driver: 'postgres' | 'pglite',
): Promise<{ row: Row; version: string | null } | null> {
  if (driver === 'postgres') {
    const postgres = await benchPostgres('reports');
    if (!postgres) return null;
    try {
      return {
        row: await benchDriver('postgres', postgres.database, Math.round(FULL.posts * SCALE)),
        version: postgres.version,
      };
    } finally {
      await postgres.drop();
    }
  }
  const pglite = await openPglite();
  try {
    const posts = Math.round((process.env.BENCH_PGLITE_FULL ? FULL.posts : FULL.posts / 10) * SCALE);
    return { row: await benchDriver('pglite', pglite, posts), version: null };
  } finally {
    await pglite.close();
  }
}

/**
 * Each driver is measured in a process of its own, so that one's heap (a full-size seeding and its
 * measurements) does not weigh on the other's figures.
 */
function runChild(driver: 'postgres' | 'pglite'): Promise<{ row: Row; version: string | null } | null> {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'gaung-bench-reports-rows-')), 'row.json');
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    env: { ...process.env, BENCH_ONLY: driver, BENCH_ROW_OUT: out },
    stdio: 'inherit',
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench:reports (${driver}) exited with ${code}`));
      const text = readFileSync(out, 'utf8');
      rmSync(path.dirname(out), { recursive: true, force: true });
      resolve(JSON.parse(text));
    });
  });
}

async function main() {
  const load = os.loadavg();
  const only = process.env.BENCH_ONLY as 'postgres' | 'pglite' | undefined;
  if (only && process.env.BENCH_ROW_OUT) {
    writeFileSync(process.env.BENCH_ROW_OUT, JSON.stringify(await runDriver(only)));
    return;
  }
  const results = [];
  for (const driver of ['postgres', 'pglite'] as const) {
    if (only && only !== driver) continue;
    const result = await runChild(driver);
    if (result) results.push(result);
    else if (driver === 'postgres') console.warn('PostgreSQL not reachable: PGlite only');
  }
  const version = results.find((result) => result.version)?.version ?? null;
  const section = report(
    results.map((result) => result.row),
    version,
    load,
    os.loadavg(),
  );
  if (!only && SCALE === 1) writeSection('reports', section);
  console.log(`\n${section}`);
}

await main();
