/**
 * The reviewer inbox at 100,000 posts across 160 units: p50/p99 latency of GET /api/v1/reviews
 * through the real app (app.inject: routing, auth, validation, serialisation) for a national and a
 * regional reviewer, against a baseline from the same run — the inbox's two queries alone, straight
 * through drizzle — and the queries' execution time inside the database (EXPLAIN ANALYZE), which
 * depends far less on what else runs on the machine. Runs on PostgreSQL (when it answers) and
 * PGlite, and writes its section of docs/benchmarks.md.
 *
 *   npm run bench:inbox            (BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local server)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type SQL, sql } from 'drizzle-orm';
import { loadConfig } from '../config/env';
import { buildApp } from '../src/app';
import { type AppContext, assembleContext } from '../src/context';
import { type Database, openPglite, queryRows } from '../src/db/client';
import { apiTokens, posts, units, users } from '../src/db/schema';
import type { PostStatus } from '../src/domain/vocabulary';
import { KeyRing, randomToken, sha256Hex } from '../src/infra/crypto';
import { createLogger } from '../src/logger';
import { resolveRedis } from '../src/queues/redis';
import { inboxCountsSql, inboxPageSql } from '../src/services/reviews/inbox';
import { benchPostgres } from './database';
import { explainAnalyze, measure, type Timing, timing, writeSection } from './measure';

const POSTS = 100_000;
const REGIONS = 33;
const OFFICES = 126;
const WARMUP = 30;
const RUNS = 400;
const TIMED = { warmup: WARMUP, runs: RUNS };
/** EXPLAIN ANALYZE runs of each query for its execution time inside the database. */
const EXPLAINS = 100;
/** Share of posts in each status; 15 % waiting for review is a heavy backlog on purpose. */
const STATUS_MIX: [PostStatus, number][] = [
  ['submitted', 0.15],
  ['approved', 0.62],
  ['rejected', 0.07],
  ['changes_requested', 0.03],
  ['withdrawn', 0.05],
  ['draft', 0.08],
];
const WORDS = (
  'paspor imigrasi layanan kantor pelayanan publik warga negara asing izin tinggal visa pemeriksaan ' +
  'perlintasan bandara pelabuhan sosialisasi pengawasan kegiatan pelajar antrean sabtu minggu jadwal ' +
  'elektronik simpatik ramah cepat mudah aman terpadu inovasi digital pengaduan masyarakat wilayah ' +
  'kanwil direktorat jenderal operasi razia deportasi tenaga kerja wisatawan kunjungan perpanjangan'
).split(' ');
const DAY = 86_400_000;

/** A small deterministic generator, so every run seeds the same organisation and posts. */
function rng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Seeded {
  national: { levelId: string; token: string };
  regional: { levelId: string; token: string; offices: number };
  waiting: { national: number; regional: number };
  levels: { forwarded: number; decided: number };
}

async function seed(database: Database): Promise<Seeded> {
  const db = database.db;
  const random = rng(20_300_501);
  const now = Date.now();
  const id = () => crypto.randomUUID();
  const nationalId = id();
  const unitRows: (typeof units.$inferInsert)[] = [
    {
      id: nationalId,
      kind: 'national',
      name: 'Direktorat Jenderal Imigrasi',
      slug: 'ditjen',
      timeZone: 'Asia/Jakarta',
      path: `/${nationalId}/`,
    },
  ];
  const regions = Array.from({ length: REGIONS }, (_, i) => {
    const regionId = id();
    const row = {
      id: regionId,
      parentId: nationalId,
      kind: 'regional' as const,
      name: `Kanwil ${i + 1}`,
      slug: `kanwil-${i + 1}`,
      timeZone: 'Asia/Jakarta',
      path: `/${nationalId}/${regionId}/`,
    };
    unitRows.push(row);
    return row;
  });
  const offices = Array.from({ length: OFFICES }, (_, i) => {
    const region = regions[i % REGIONS]!;
    const officeId = id();
    const row = {
      id: officeId,
      parentId: region.id,
      kind: 'office' as const,
      name: `Kantor Imigrasi ${i + 1}`,
      slug: `kanim-${i + 1}`,
      timeZone: 'Asia/Jakarta',
      path: `${region.path}${officeId}/`,
    };
    unitRows.push(row);
    return row;
  });
  await db.insert(units).values(unitRows);

  const authors = new Map<string, string>();
  const userRows = unitRows.map((unit) => {
    const userId = id();
    authors.set(unit.id!, userId);
    return {
      id: userId,
      unitId: unit.id!,
      email: `kontributor@${unit.slug}.test`,
      name: `Kontributor ${unit.name}`,
      role: 'contributor' as const,
      passwordHash: 'scrypt$-$-$-$-$-',
    };
  });
  await db.insert(users).values(userRows);
  // The regional reviewer watches a region with four offices (regions 1–27 of 33 have four).
  const region = regions[0]!;
  const reviewer = async (unitId: string, name: string) => {
    const userId = id();
    await db.insert(users).values({
      id: userId,
      unitId,
      email: `${name}@bench.test`,
      name,
      role: 'reviewer',
      passwordHash: 'scrypt$-$-$-$-$-',
    });
    const token = randomToken('gaung_');
    await db
      .insert(apiTokens)
      .values({ userId, name: 'bench', tokenHash: sha256Hex(token), prefix: token.slice(0, 12) });
    return token;
  };
  const nationalToken = await reviewer(nationalId, 'humas-pusat');
  const regionalToken = await reviewer(region.id, 'humas-kanwil');

  // Nine posts in ten come from offices, busier ones more often; the rest from regional units.
  const weights = offices.map((_, i) => 1 + (i % 5));
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const pickOffice = () => {
    let r = random() * totalWeight;
    for (let i = 0; i < offices.length; i++) {
      r -= weights[i]!;
      if (r < 0) return offices[i]!;
    }
    return offices.at(-1)!;
  };
  const pickStatus = (): PostStatus => {
    let r = random();
    for (const [status, share] of STATUS_MIX) {
      r -= share;
      if (r < 0) return status;
    }
    return 'approved';
  };
  const CHUNK = 2_000;
  for (let start = 0; start < POSTS; start += CHUNK) {
    const rows: (typeof posts.$inferInsert)[] = [];
    for (let i = start; i < Math.min(POSTS, start + CHUNK); i++) {
      const unit = random() < 0.9 ? pickOffice() : regions[Math.floor(random() * REGIONS)]!;
      const status = pickStatus();
      const created = new Date(now - random() * 120 * DAY);
      const submitted = status === 'draft' ? null : new Date(created.getTime() + random() * DAY);
      const body = Array.from(
        { length: 12 + Math.floor(random() * 30) },
        () => WORDS[Math.floor(random() * WORDS.length)],
      ).join(' ');
      rows.push({
        unitId: unit.id,
        authorId: authors.get(unit.id)!,
        status,
        version: status === 'draft' ? 1 : 2,
        body,
        tags: ['Imigrasi'],
        submittedAt: submitted,
        decidedAt: ['approved', 'rejected', 'changes_requested'].includes(status)
          ? new Date(submitted!.getTime() + DAY)
          : null,
        createdAt: created,
        updatedAt: created,
      });
    }
    await db.insert(posts).values(rows);
  }
  await seedLevels(database);
  const [counts] = await queryRows<{
    national: number;
    regional: number;
    forwarded: number;
    decided: number;
  }>(
    db,
    sql`select count(*) filter (where unit_id = ${nationalId}::uuid and decision is null and closed_at is null)::int as national,
          count(*) filter (where unit_id = ${region.id}::uuid and decision is null and closed_at is null)::int as regional,
          count(*) filter (where arrival = 'forwarded')::int as forwarded,
          count(*) filter (where decision is not null)::int as decided
        from post_levels`,
  );
  await db.execute(sql`vacuum analyze`);
  return {
    national: { levelId: nationalId, token: nationalToken },
    regional: {
      levelId: region.id,
      token: regionalToken,
      offices: offices.filter((o) => o.parentId === region.id).length,
    },
    waiting: { national: counts!.national, regional: counts!.regional },
    levels: { forwarded: counts!.forwarded, decided: counts!.decided },
  };
}

/**
 * The level rows a lived-in database has: every post that reached review waits at (or was decided
 * by) the level above its unit and at the national unit directly; the regional level approved most
 * approved posts (the rest the national level), passed on some waiting ones and forwarded a third of
 * what it saw, so the national inbox holds direct and forwarded posts and carries decisions below it.
 */
async function seedLevels(database: Database): Promise<void> {
  const db = database.db;
  // Stable pseudo-random shares from the post id.
  const share = sql.raw(`(('x' || substr(p.id::text, 1, 8))::bit(32)::int & 1023)`);
  await db.execute(sql`insert into post_levels
      (post_id, unit_id, origin_unit_id, arrival, arrived_at, decision, decided_at, forwarded_at, forward_note, closed_at)
    select p.id, o.parent_id, p.unit_id, 'nearest', p.submitted_at,
      case when p.status = 'approved' and ${share} < 800 then 'approved'
           when p.status = 'submitted' and ${share} < 100 then 'passed' end,
      case when (p.status = 'approved' and ${share} < 800) or (p.status = 'submitted' and ${share} < 100)
           then p.submitted_at + interval '2 hours' end,
      case when ${share} % 3 = 0 then p.submitted_at + interval '3 hours' end,
      case when ${share} % 3 = 0 then 'bagus untuk nasional' end,
      case when p.status in ('rejected', 'changes_requested', 'withdrawn') then p.decided_at end
    from posts p join units o on o.id = p.unit_id
    where p.status <> 'draft' and o.parent_id is not null and o.kind = 'office'`);
  await db.execute(sql`insert into post_levels
      (post_id, unit_id, origin_unit_id, arrival, arrived_at, decision, decided_at, closed_at)
    select p.id, r.id, p.unit_id,
      case when ${share} % 3 = 0 and o.kind = 'office' then 'forwarded' when o.kind = 'office' then 'direct' else 'nearest' end,
      p.submitted_at,
      case when p.status = 'approved' and (${share} >= 800 or ${share} % 3 = 0) then 'approved' end,
      case when p.status = 'approved' and (${share} >= 800 or ${share} % 3 = 0) then p.submitted_at + interval '5 hours' end,
      case when p.status in ('rejected', 'changes_requested', 'withdrawn') then p.decided_at end
    from posts p join units o on o.id = p.unit_id cross join units r
    where p.status <> 'draft' and r.parent_id is null`);
}

interface Row {
  driver: string;
  reviewer: string;
  waiting: number;
  route: Timing;
  baseline: Timing;
  /** Execution time inside the database (EXPLAIN ANALYZE) of the page and the counts query. */
  server: { page: Timing; counts: Timing };
  /** One-minute load average when this row's measurements ended. */
  load: number;
}

async function serverTime(database: Database, query: SQL): Promise<Timing> {
  const samples: number[] = [];
  for (let i = 0; i < EXPLAINS; i++) samples.push((await explainAnalyze(database.db, query)).ms);
  return timing(samples);
}

async function benchDriver(
  driver: 'postgres' | 'pglite',
  database: Database,
): Promise<{ rows: Row[]; plan: string }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gaung-bench-inbox-'));
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
  try {
    await database.migrate();
    const started = performance.now();
    const seeded = await seed(database);
    console.log(
      `${driver}: seeded ${POSTS.toLocaleString('en-US')} posts in ${((performance.now() - started) / 1000).toFixed(1)} s`,
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
    const rows: Row[] = [];
    for (const [name, who] of [
      ['national (160 units)', seeded.national],
      [`regional (1 + ${seeded.regional.offices} units)`, seeded.regional],
    ] as const) {
      const headers = { authorization: `Bearer ${who.token}` };
      const route = await measure(async () => {
        const response = await app.inject({ url: '/api/v1/reviews', headers });
        if (response.statusCode !== 200)
          throw new Error(`inbox answered ${response.statusCode}: ${response.body}`);
      }, TIMED);
      const filters = { levelId: who.levelId, limit: 50 };
      const baseline = await measure(async () => {
        await Promise.all([
          queryRows(database.db, inboxPageSql(filters)),
          queryRows(database.db, inboxCountsSql(filters)),
        ]);
      }, TIMED);
      const server = {
        page: await serverTime(database, inboxPageSql(filters)),
        counts: await serverTime(database, inboxCountsSql(filters)),
      };
      const waiting = name.startsWith('national') ? seeded.waiting.national : seeded.waiting.regional;
      rows.push({ driver, reviewer: name, waiting, route, baseline, server, load: os.loadavg()[0]! });
      console.log(
        `${driver} ${name}: route p50 ${route.p50.toFixed(2)} ms p99 ${route.p99.toFixed(2)} ms; baseline p50 ${baseline.p50.toFixed(2)} ms p99 ${baseline.p99.toFixed(2)} ms; ` +
          `server page p50 ${server.page.p50.toFixed(2)} ms p99 ${server.page.p99.toFixed(2)} ms, counts p50 ${server.counts.p50.toFixed(2)} ms p99 ${server.counts.p99.toFixed(2)} ms`,
      );
    }
    const { plan } = await explainAnalyze(
      database.db,
      inboxPageSql({ levelId: seeded.national.levelId, limit: 50 }),
    );
    await app.close();
    return { rows, plan };
  } finally {
    if (ctx) {
      await Promise.all(Object.values(ctx.queues).map((queue) => queue.close()));
      ctx.redis.disconnect();
    }
    await redisTarget.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const ms = (value: number) => value.toFixed(1);
const ms2 = (value: number) => value.toFixed(2);

function report(
  rows: Row[],
  plans: Map<string, string>,
  postgresVersion: string | null,
  load: number[],
): string {
  const cpu = os.cpus();
  const lines = [
    '## Reviewer inbox (`GET /api/v1/reviews`) at 100,000 posts',
    '',
    'Command: `npm run bench:inbox` (bench/inbox.ts).',
    '',
    `Machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, ` +
      `Node ${process.version}, PostgreSQL ${postgresVersion ?? 'not available'}, PGlite (in memory). ` +
      `Load average at the start: ${load.map((l) => l.toFixed(2)).join(' / ')} (the machine is shared).`,
    '',
    `Data: ${POSTS.toLocaleString('en-US')} posts across 160 units (1 national, ${REGIONS} regional, ${OFFICES} offices); ` +
      `${STATUS_MIX.map(([s, share]) => `${s} ${Math.round(share * 100)} %`).join(', ')}; ` +
      `\`VACUUM ANALYZE\` after seeding. Each figure: ${RUNS} sequential requests after ${WARMUP} warm-up ones, first page (50 posts) with the per-unit counts.`,
    '',
    '- **route**: `app.inject` through the whole app — bearer-token lookup, permission check, the inbox queries, zod serialisation.',
    "- **baseline**: the inbox's two queries alone (the page, with each post's thumbnail and the levels' decisions folded in, and the per-unit counts, in parallel), straight through drizzle.",
    `- **server**: each query's execution time inside the database as \`EXPLAIN ANALYZE\` reports it (${EXPLAINS} runs each, after the measurements above): what the queries cost without the waits for a CPU that a loaded machine adds to every round trip.`,
    '',
    '| driver | reviewer | waiting posts in scope | route p50 | route p99 | baseline p50 | baseline p99 | server page p50 / p99 | server counts p50 / p99 | load (1 min) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.driver} | ${r.reviewer} | ${r.waiting.toLocaleString('en-US')} | ${ms(r.route.p50)} ms | ${ms(r.route.p99)} ms | ${ms(r.baseline.p50)} ms | ${ms(r.baseline.p99)} ms | ` +
        `${ms2(r.server.page.p50)} / ${ms2(r.server.page.p99)} ms | ${ms2(r.server.counts.p50)} / ${ms2(r.server.counts.p99)} ms | ${r.load.toFixed(1)} |`,
    ),
    '',
    `Target: route p99 < 50 ms — ${
      rows.every((r) => r.route.p99 < 50)
        ? 'met'
        : `not met in this run (${rows
            .filter((r) => r.route.p99 >= 50)
            .map((r) => `${r.driver} ${r.reviewer.split(' ')[0]}`)
            .join(', ')})`
    }. ` +
      "One request makes two round trips to the database: the token lookup, then the page and the counts in parallel. The page query walks `post_levels_inbox_idx` (keyset pagination on arrival time and post id) and looks up each of its rows' thumbnail and levels' decisions by primary key; the per-office counts read `inbox_tallies` (kept exact by a trigger on `post_levels`) and each office's oldest arrival from the front of `post_levels_inbox_origin_idx`. So the server-side time grows with the page and the number of offices, never with the backlog. On this shared 2-core machine the wall-clock figures follow the load: each round trip waits for a CPU, which is why the p99s sit far above the server-side times.",
    '',
    'Plan of the national page query (`EXPLAIN ANALYZE`, one run):',
    '',
    ...[...plans].flatMap(([driver, plan]) => [`${driver}:`, '', '```', plan, '```', '']),
  ];
  return lines.join('\n');
}

async function main() {
  const load = os.loadavg();
  const rows: Row[] = [];
  const plans = new Map<string, string>();
  const postgres = await benchPostgres('inbox');
  if (postgres) {
    try {
      const result = await benchDriver('postgres', postgres.database);
      rows.push(...result.rows);
      plans.set('PostgreSQL', result.plan);
    } finally {
      await postgres.drop();
    }
  }
  const pglite = await openPglite();
  try {
    const result = await benchDriver('pglite', pglite);
    rows.push(...result.rows);
    plans.set('PGlite', result.plan);
  } finally {
    await pglite.close();
  }
  const section = report(rows, plans, postgres?.version ?? null, load);
  writeSection('inbox', section);
  console.log(`\n${section}`);
}

await main();
