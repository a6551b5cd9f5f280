/**
 * Ingest: one full poll round of 500 office sources of mixed kinds (RSS, Mastodon, Instagram,
 * Facebook, Threads, X, Bluesky, YouTube), each with 5 new items, read by one ingest worker (the
 * production processor, at its concurrency) from fakes in a process of their own that answer at once.
 * Measured: the round's wall time, the CPU seconds of this process (`process.cpuUsage`), and the
 * peak RSS, against a baseline in the same run that only fetches and parses the same answers (each
 * source's reader, same concurrency, nothing brought in). Target: the round within 60 s, with at
 * most twice the baseline's CPU. Writes its section of docs/benchmarks.md.
 *
 *   npm run bench:ingest                 (PostgreSQL at BENCH_DATABASE_URL / TEST_DATABASE_URL / local)
 *   npm run bench:ingest -- --pglite     (PGlite as well)
 *   BENCH_INGEST_SOURCES=100 npm run bench:ingest -- --no-write
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { Worker } from 'bullmq';
import { eq, sql } from 'drizzle-orm';
import { loadConfig } from '../config/env';
import { type AppContext, assembleContext } from '../src/context';
import { type Database, openPglite, queryRows } from '../src/db/client';
import { sources } from '../src/db/schema';
import { KeyRing } from '../src/infra/crypto';
import { createLogger } from '../src/logger';
import { fetchFeedMedia } from '../src/platforms/feeds';
import type { NetworkReach, SourceMedia } from '../src/platforms/types';
import { type RedisTarget, resolveRedis, workerConnection } from '../src/queues/redis';
import { stageUpload } from '../src/services/media';
import { enqueueDueSources, readSourceAnswer } from '../src/services/sources';
import { testImage } from '../tests/fakes/platform-context';
import { processIngest } from '../workers/ingest';
import { benchPostgres } from './database';
import { benchOrg } from './engine-support';
import type { BenchAccount } from './ingest-fakes';
import { root, writeSection } from './measure';

const SOURCES = Number(process.env.BENCH_INGEST_SOURCES ?? 500);
const ITEMS = 5;
const KINDS = 8;
/** The ingest worker's concurrency in `workers/index.ts`. */
const CONCURRENCY = 2;
const args = new Set(process.argv.slice(2));

/** The fakes' process: seeded with the accounts, it answers with them and the environment to use. */
async function startFakes(): Promise<{
  env: Record<string, string>;
  accounts: BenchAccount[];
  stop(): void;
}> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join('bench', 'ingest-fakes.ts')],
    {
      cwd: root,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  child.stdin!.write(`${JSON.stringify({ perKind: Math.ceil(SOURCES / KINDS), items: ITEMS })}\n`);
  const answer = await new Promise<{ env: Record<string, string>; accounts: BenchAccount[] }>(
    (resolve, reject) => {
      let text = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const line = /accounts (.*)\n/.exec(text);
        if (line) resolve(JSON.parse(line[1]!));
      });
      child.once('exit', (code) => reject(new Error(`the fakes exited (${code})`)));
    },
  );
  return { ...answer, accounts: answer.accounts.slice(0, SOURCES), stop: () => child.kill('SIGTERM') };
}

/** The highest RSS seen while `work` runs (sampled every 50 ms), with its CPU seconds and wall time. */
async function measure<T>(work: () => Promise<T>) {
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  const cpu = process.cpuUsage();
  const start = performance.now();
  try {
    const value = await work();
    const used = process.cpuUsage(cpu);
    return {
      value,
      seconds: (performance.now() - start) / 1000,
      cpuSeconds: (used.user + used.system) / 1e6,
      peakRssMb: Math.max(peak, process.memoryUsage.rss()) / 2 ** 20,
    };
  } finally {
    clearInterval(sampler);
  }
}

/** Runs `work` over `items`, `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

interface Outcome {
  driver: string;
  sources: number;
  baseline: { seconds: number; cpuSeconds: number; peakRssMb: number; items: number };
  /** The answers' media fetched and taken through the upload checks, measured apart. */
  checks: { cpuSeconds: number; media: number };
  round: { seconds: number; cpuSeconds: number; peakRssMb: number };
  imported: number;
  failed: { kind: string; lastError: string | null }[];
  byKind: Record<string, number>;
}

async function run(
  driver: 'postgres' | 'pglite',
  database: Database,
  fakes: { env: Record<string, string>; accounts: BenchAccount[] },
  redisTarget: RedisTarget,
): Promise<Outcome> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gaung-bench-ingest-'));
  const config = loadConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'error',
    GAUNG_REDIS_PREFIX: `gaung-bench-ingest-${randomBytes(4).toString('hex')}`,
    GAUNG_SECRET_KEY: randomBytes(32).toString('base64'),
    GAUNG_DATA_DIR: dataDir,
    GAUNG_ALLOW_PRIVATE_URLS: '1',
    ...fakes.env,
  });
  const ctx: AppContext = await assembleContext({
    config,
    log: createLogger(config.LOG_LEVEL),
    database,
    redisTarget,
    keys: new KeyRing(config.GAUNG_SECRET_KEY!),
  });
  const org = await benchOrg(ctx);
  const now = new Date();
  const rows = fakes.accounts.map((account, index) => {
    const id = randomUUID();
    return {
      id,
      unitId: org.unitId,
      createdBy: org.authorId,
      kind: account.kind,
      url: account.url,
      handle: account.handle,
      accountId: account.accountId,
      settings: account.settings,
      credentials: account.credentials ? ctx.keys.encrypt(account.credentials, id) : null,
      since: new Date(now.getTime() - 86_400_000),
      // Not due until the round: the baseline reads first.
      nextPollAt: new Date(now.getTime() + 3_600_000 + index),
    };
  });
  for (let i = 0; i < rows.length; i += 100) await ctx.db.insert(sources).values(rows.slice(i, i + 100));
  const stored = await ctx.db.select().from(sources).where(eq(sources.unitId, org.unitId));

  // Outside both measurements, as in a server that has been running: one picture through the upload
  // checks loads sharp and file-type (nothing is recorded).
  const warmUp = await stageUpload(ctx, {
    stream: Readable.from([await testImage({ width: 320, height: 180, format: 'jpeg', hue: 30 })]),
    fileName: 'warm-up.jpg',
    contentType: undefined,
  });
  await warmUp.discard();

  // The baseline: the same answers fetched and parsed by each source's reader, nothing brought in.
  let baselineItems = 0;
  const media: { medium: SourceMedia; reach: NetworkReach }[] = [];
  const baseline = await measure(() =>
    pool(stored, CONCURRENCY, async (source) => {
      const { reading, result } = await readSourceAnswer(ctx, source);
      baselineItems += result.items.length;
      for (const item of result.items)
        for (const medium of item.media)
          if (!medium.skippedReason) media.push({ medium, reach: reading.reach });
    }),
  );
  // Beside it, not part of it: the media those answers name, fetched and taken through the upload
  // checks as a poll takes them (nothing recorded), to show how much of the round they are.
  const checks = await measure(() =>
    pool(media, CONCURRENCY, async ({ medium, reach }) => {
      const upload = await stageUpload(ctx, {
        stream: await fetchFeedMedia(medium.url, {
          reach,
          maxBytes:
            (medium.kind === 'image'
              ? config.GAUNG_MEDIA_MAX_IMAGE_BYTES
              : config.GAUNG_MEDIA_MAX_VIDEO_BYTES) + 1,
          headers: medium.headers,
        }),
        fileName: 'medium',
        contentType: undefined,
      });
      await upload.discard();
    }),
  );

  // The round: every source due, polled through the ingest queue by one worker.
  await ctx.db.update(sources).set({ nextPollAt: new Date(Date.now() - 1_000) });
  const worker = new Worker('ingest', (job) => processIngest(ctx, job), {
    connection: workerConnection(redisTarget),
    prefix: ctx.redisPrefix,
    concurrency: CONCURRENCY,
  });
  // The round ends when every source's poll has finished; waiting on the worker's own events keeps
  // the wait out of the measured process's CPU (a count on PGlite would run in it).
  const allPolled = new Promise<void>((resolve, reject) => {
    let polled = 0;
    worker.on('failed', (_job, error) => reject(error));
    worker.on('completed', () => {
      polled += 1;
      if (polled >= stored.length) resolve();
    });
  });
  const round = await measure(async () => {
    await enqueueDueSources(ctx);
    await allPolled;
  });
  await worker.close();

  const [imported] = await queryRows<{ n: number }>(
    ctx.db,
    sql`select count(*)::int as n from posts where source_id is not null`,
  );
  const byKind = Object.fromEntries(
    (
      await queryRows<{ kind: string; n: number }>(
        ctx.db,
        sql`select s.kind, count(p.id)::int as n from sources s left join posts p on p.source_id = s.id group by s.kind`,
      )
    ).map((row) => [row.kind, Number(row.n)]),
  );
  const failed = await queryRows<{ kind: string; last_error: string | null }>(
    ctx.db,
    sql`select kind, last_error from sources where failures > 0`,
  );
  await Promise.all(
    Object.values(ctx.queues).map((queue) => queue.obliterate({ force: true }).catch(() => {})),
  );
  await Promise.all(Object.values(ctx.queues).map((queue) => queue.close()));
  ctx.redis.disconnect();
  await ctx.storage.close().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
  return {
    driver,
    sources: stored.length,
    baseline: {
      seconds: baseline.seconds,
      cpuSeconds: baseline.cpuSeconds,
      peakRssMb: baseline.peakRssMb,
      items: baselineItems,
    },
    checks: { cpuSeconds: checks.cpuSeconds, media: media.length },
    round: { seconds: round.seconds, cpuSeconds: round.cpuSeconds, peakRssMb: round.peakRssMb },
    imported: Number(imported?.n ?? 0),
    failed: failed.map((row) => ({ kind: row.kind, lastError: row.last_error })),
    byKind,
  };
}

/** What a profile of the round shows, kept beside the numbers. */
const PROFILE =
  "Where the round's CPU goes (`node --cpu-prof`, each thread's CPU from `/proc/self/task`, and each source polled on its own with `process.cpuUsage` around it, this version and the one before run in turn; load average 1 to 6, another session's benchmark running): a poll is five round trips to the database, four of them prepared statements: the claim, which also reads whether the author still works in the unit and the source's rules; the items already known; one statement for all the read's new posts with their media rows and creation events; one that marks the listed originals checked and picks the pending ones (the posts the read just made start checked, so it updates none of them: on PGlite it took 2.5 ms a poll instead of 3.6 ms, polls run one at a time); and the poll's record. A poll whose items bring pictures (YouTube: each video's thumbnail) records them in the same write, as one transaction: the blobs' locks, one insert for all its media (the unit's existing media read for the rest), the posts' statement, the bytes stored once; before, each picture had a transaction of its own, four or five round trips. Each picture is still fetched, its type judged from its bytes, staged to disk and synced under the size limit, its header read (pixel limit) and then decoded into a WebP thumbnail by the same sharp pipeline (which rejects a damaged file), the thumbnail staged. Those checks take 9.3 ms of CPU per picture in a process of their own (300 pictures, load about 2), against 14.0 to 14.3 ms before: sharp's work 6.3 ms instead of 9.1 to 9.3 (one pipeline instead of two, WebP effort 1 instead of 4), staging 0.95 ms instead of 1.7 to 1.8 for the picture and 0.95 ms instead of 2.0 to 2.1 for its thumbnail (written through the file handle instead of a stream pipeline, its directory made only when missing). Polled one by one, the 62 YouTube sources take 5.0 to 5.3 s of CPU, 7.2 to 7.5 s before, against 0.26 to 0.33 s to read them: 2.3 to 2.4 s on the main thread (the HTTP requests through axios the largest part), 1.3 s in libuv's pool (sharp's calls and the file operations), 1.0 s in libvips' workers and 0.5 s in V8's helper threads. The other seven kinds, whose path did not change, take 2.8 to 2.9 s polled one by one against 1.2 to 1.6 s to read them (load about 4): the largest single item in their profile is the socket writes of the five round trips (`writev`, 1.25 s of 3.3 s on the main thread). Whole rounds on PostgreSQL, this version and the one before run in turn at load about 4 (before the thumbnail's effort went from 4 to 1): 8.28 and 8.66 s of CPU against 9.95 and 11.31 s. The fakes' thumbnails are all one picture, so after the first the unit has it already: each is still fetched, checked and thumbnailed, only its bytes are not stored again. The baseline fetches no pictures, and the 310 pictures' fetch and checks alone (the media checks column) cost about twice the CPU of the whole baseline, so the 2 × target is not met: it leaves one baseline's CPU (1.0 to 1.5 s) for all a round adds, 3 to 5 ms a picture even if the 500 polls' writes cost nothing, while sharp's decode and encode of one picture take about 6 ms. Counted against reading and checking together, the round adds less than their CPU again on PostgreSQL (the last ratio); on PGlite that ratio also carries the database's own work. With PGlite the database works in this process, so its CPU counts in the round's and not in the baseline's. PGlite's peak RSS varies between runs of the same code (380 to 730 MB seen): it depends on whether V8 has collected the buffers left from setting up the sources when the round starts (226 MB of ArrayBuffers still there in one run, 8 MB in another). The round's wall time meets its target.";

function report(
  outcomes: Outcome[],
  versions: Record<string, string>,
  start: number[],
  end: number[],
): string {
  const load = (values: number[]) => values.map((n) => n.toFixed(2)).join(' / ');
  const f1 = (n: number) => n.toFixed(1);
  const f2 = (n: number) => n.toFixed(2);
  const lines = [
    `## Ingest: one poll round of ${outcomes[0]?.sources ?? SOURCES} sources`,
    '',
    `\`npm run bench:ingest${outcomes.some((o) => o.driver === 'pglite') ? ' -- --pglite' : ''}\` on ${os.cpus()[0]?.model ?? 'an unknown CPU'}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, Node ${process.version}${Object.entries(
      versions,
    )
      .map(([name, version]) => `, ${name} ${version}`)
      .join(
        '',
      )}. Load average (1 / 5 / 15 min) at the start ${load(start)}, at the end ${load(end)}: the machine is shared, so CPU seconds matter more than wall time.`,
    '',
    `${outcomes[0]?.sources ?? SOURCES} sources of one office, an equal share of each kind (RSS, Mastodon, Instagram, Facebook, Threads, X, Bluesky, YouTube), each with ${ITEMS} new text items (a YouTube item also brings the video's thumbnail in, through the upload checks), on the test fakes in a process of their own that answer at once. **Round**: every source due, polled through the \`ingest\` queue by one worker running the production processor at its concurrency (${CONCURRENCY}), until the worker has finished every source's poll (its completion events are counted; the database is not asked, which on PGlite would add the asking to the measured CPU). **Baseline**, in the same run before the round: the same answers fetched and parsed by each source's reader at the same concurrency, nothing brought in. **Media checks**, measured apart after the baseline and not part of it: the media those answers name, fetched and taken through the upload checks at the same concurrency, nothing recorded; the last ratio shows what the round adds to reading and checking (the database, the queue, the posts). Before both, outside the measurements, one picture is taken through the upload checks (nothing recorded), so that sharp and file-type are loaded as in a server that has been running. CPU is this process's (\`process.cpuUsage\`; PostgreSQL and the fakes are other processes), RSS its peak (sampled every 50 ms). Target: the round within 60 s, with at most 2 × the baseline's CPU.`,
    '',
    '| database | baseline: wall | baseline: CPU | round: wall | round: CPU | CPU ÷ baseline | media checks: CPU | CPU ÷ (baseline + media checks) | peak RSS | posts made | sources failed |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...outcomes.map(
      (o) =>
        `| ${o.driver} | ${f1(o.baseline.seconds)} s | ${f2(o.baseline.cpuSeconds)} s | ${f1(o.round.seconds)} s | ${f2(o.round.cpuSeconds)} s | ${f2(o.round.cpuSeconds / o.baseline.cpuSeconds)} × | ${f2(o.checks.cpuSeconds)} s (${o.checks.media} media) | ${f2(o.round.cpuSeconds / (o.baseline.cpuSeconds + o.checks.cpuSeconds))} × | ${Math.round(o.round.peakRssMb)} MB | ${o.imported} of ${o.baseline.items} | ${o.failed.length} |`,
    ),
    '',
    ...outcomes.map(
      (o) =>
        `${o.driver}: posts per kind ${Object.entries(o.byKind)
          .sort()
          .map(([kind, n]) => `${kind} ${n}`)
          .join(
            ', ',
          )}; round ${o.round.seconds <= 60 ? 'within' : 'over'} 60 s, CPU ${o.round.cpuSeconds <= 2 * o.baseline.cpuSeconds ? 'within' : 'over'} 2 × the baseline.${o.failed.length > 0 ? ` Failed: ${o.failed.map((f) => `${f.kind} (${f.lastError})`).join('; ')}.` : ''}`,
    ),
    '',
    PROFILE,
  ];
  return lines.join('\n');
}

const loadStart = os.loadavg();
const fakes = await startFakes();
const redisTarget = await resolveRedis({
  REDIS_URL: process.env.REDIS_URL,
  dataDir: path.join(root, 'data', 'bench'),
});
const outcomes: Outcome[] = [];
const versions: Record<string, string> = {};
try {
  const postgres = await benchPostgres('ingest');
  if (postgres) {
    try {
      await postgres.database.migrate();
      versions.PostgreSQL = postgres.version;
      outcomes.push(await run('postgres', postgres.database, fakes, redisTarget));
    } finally {
      await postgres.drop();
    }
  }
  if (args.has('--pglite') || !postgres) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gaung-bench-ingest-pglite-'));
    const database = await openPglite(dir);
    try {
      await database.migrate();
      versions.PGlite = 'in-process';
      outcomes.push(await run('pglite', database, fakes, redisTarget));
    } finally {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  fakes.stop();
  await redisTarget.stop();
}
const section = report(outcomes, versions, loadStart, os.loadavg());
console.log(section);
if (!args.has('--no-write')) writeSection('ingest', section);
process.exit(0);
