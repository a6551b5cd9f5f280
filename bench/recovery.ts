/**
 * Recovery after a crash: how long the deliveries a worker process was publishing when it was
 * SIGKILLed take to leave `publishing` and to be recorded, with the default settings (lease, heartbeat,
 * reconcile delay). The platform (a ledger fake in this process) has stored each post and holds its
 * answer for 3 s, so every claim is caught mid-call, the case that needs reconciliation.
 *
 * - another worker alive: two worker processes; the one holding claims is killed; timed from the kill
 *   (targets: out of `publishing` within 5 s, recorded within 15 s).
 * - all-in-one: one process, killed and started again; timed from the new start (target: recorded
 *   within 15 s of it).
 * - baseline, same run: the same claims caught the same way, nobody killed; timed to recorded.
 *
 * Median of three rounds each; every post is checked to exist exactly once at the platform.
 * Needs PostgreSQL (BENCH_DATABASE_URL / TEST_DATABASE_URL, default the local server) and Redis.
 *
 *   npm run bench:recovery
 */
import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { queryRows } from '../src/db/client';
import { insertDeliveries } from '../tests/helpers/engine';
import { startLedgerServer } from '../tests/helpers/ledger-platform';
import { benchContext, benchDatabase, benchOrg, describeMachine } from './engine-support';
import { median, root, writeSection } from './measure';

const ROUNDS = Number(process.env.BENCH_RECOVERY_ROUNDS ?? 3);
const IN_FLIGHT = 12;
const PLATFORM_HOLD_MS = 3_000;
const CEILING_MS = 180_000;
const OUT_OF_PUBLISHING_TARGET_MS = 5_000;
const RECORDED_TARGET_MS = 15_000;

interface Worker {
  child: ChildProcess;
  name: string;
  startedAt: number;
}

interface Round {
  /** From the kill (or, for the baseline, the moment the claims were caught) to none `publishing`. */
  outOfPublishingMs: number;
  /** From the kill (all-in-one: from the new start; baseline: from the catch) to every one published. */
  recordedMs: number;
}

async function main(): Promise<void> {
  const bench = await benchDatabase();
  const ledger = await startLedgerServer({ dedupe: false });
  const { ctx, config, redisTarget, close } = await benchContext(bench, ledger.fake.url);
  const machine = await describeMachine(bench, redisTarget);
  const org = await benchOrg(ctx);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: bench.url,
    GAUNG_REDIS_PREFIX: config.GAUNG_REDIS_PREFIX,
    GAUNG_SECRET_KEY: config.GAUNG_SECRET_KEY!,
    GAUNG_DATA_DIR: config.dataDir,
    GAUNG_ALLOW_PRIVATE_URLS: '1',
    GAUNG_TEST_REDIS: JSON.stringify(redisTarget.options),
    GAUNG_TEST_LEDGERS: JSON.stringify([
      { platform: 'sandbox', baseUrl: ledger.fake.url, reconcile: 'search' },
    ]),
  };
  const workers = new Set<ChildProcess>();

  const spawnWorker = (): Promise<Worker> => {
    const startedAt = Date.now();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join('tests', 'helpers', 'engine-worker.ts')],
      {
        cwd: root,
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    workers.add(child);
    child.once('exit', () => workers.delete(child));
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        const ready = /engine worker ready as (\S+)/.exec(chunk.toString());
        if (ready) resolve({ child, name: ready[1]!, startedAt });
      });
      child.once('exit', (code) => reject(new Error(`a worker exited (${code}) before it was ready`)));
    });
  };
  const stopAll = async () => {
    await Promise.all(
      [...workers].map(
        (child) =>
          new Promise<void>((resolve) => {
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
  };

  const statuses = async (ids: string[]) =>
    queryRows<{ id: string; status: string; lease_holder: string | null }>(
      ctx.db,
      sql`select id, status, lease_holder from deliveries where id in ${sql.raw(`('${ids.join("','")}')`)}`,
    );
  const until = async (check: () => Promise<boolean>, what: string) => {
    const deadline = Date.now() + CEILING_MS;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`${what} did not happen within ${CEILING_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return Date.now();
  };

  /** Deliveries due now on a channel of their own; resolves once some are claimed by one of `holders` and stored at the platform. */
  const catchInFlight = async (holders: Worker[]) => {
    const channelId = await org.channel('sandbox', `recovery ${Date.now()}`);
    const ids = await insertDeliveries(ctx.db, {
      unitId: org.unitId,
      authorId: org.authorId,
      targets: Array.from({ length: IN_FLIGHT }, () => ({ channelId, dueAt: new Date(Date.now() - 1_000) })),
    });
    let caught: { holder: Worker; ids: string[] } | null = null;
    await until(async () => {
      const stored = new Set(ledger.posts.map((post) => post.ref));
      const rows = await statuses(ids);
      for (const holder of holders) {
        const mine = rows.filter((row) => row.status === 'publishing' && row.lease_holder === holder.name);
        if (mine.length > 0 && mine.every((row) => stored.has(row.id))) {
          caught = { holder, ids: mine.map((row) => row.id) };
          return true;
        }
      }
      return false;
    }, 'a claim in flight');
    return caught as unknown as { holder: Worker; ids: string[] };
  };

  const exactlyOnce = (ids: string[]) => {
    const counts = ledger.countsByRef();
    const wrong = ids.filter((id) => counts.get(id) !== 1);
    if (wrong.length > 0) throw new Error(`${wrong.length} deliveries are not at the platform exactly once`);
  };

  const published = (ids: string[]) => async () =>
    (await statuses(ids)).every((row) => row.status === 'published');
  const outOfPublishing = (ids: string[]) => async () =>
    (await statuses(ids)).every((row) => row.status !== 'publishing');

  ledger.fake.chaos(1, [{ kind: 'slow', ms: PLATFORM_HOLD_MS }], (request) => request.method === 'POST');
  const withOther: Round[] = [];
  const allInOne: Round[] = [];
  const baseline: Round[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      // Another worker alive.
      let pool: Worker[] = await Promise.all([spawnWorker(), spawnWorker()]);
      let caught = await catchInFlight(pool);
      const killedAt = Date.now();
      caught.holder.child.kill('SIGKILL');
      const out = await until(outOfPublishing(caught.ids), 'leaving publishing');
      const recorded = await until(published(caught.ids), 'recording');
      exactlyOnce(caught.ids);
      withOther.push({ outOfPublishingMs: out - killedAt, recordedMs: recorded - killedAt });
      await stopAll();

      // All-in-one: the only process dies and is started again.
      pool = [await spawnWorker()];
      caught = await catchInFlight(pool);
      const killedAlone = Date.now();
      caught.holder.child.kill('SIGKILL');
      const again = await spawnWorker();
      const outAlone = await until(outOfPublishing(caught.ids), 'leaving publishing after the restart');
      const recordedAlone = await until(published(caught.ids), 'recording after the restart');
      exactlyOnce(caught.ids);
      allInOne.push({
        outOfPublishingMs: outAlone - Math.max(killedAlone, again.startedAt),
        recordedMs: recordedAlone - again.startedAt,
      });
      await stopAll();

      // Baseline: caught the same way, nobody killed.
      pool = [await spawnWorker()];
      caught = await catchInFlight(pool);
      const caughtAt = Date.now();
      const outBase = await until(outOfPublishing(caught.ids), 'finishing');
      const recordedBase = await until(published(caught.ids), 'recording');
      exactlyOnce(caught.ids);
      baseline.push({ outOfPublishingMs: outBase - caughtAt, recordedMs: recordedBase - caughtAt });
      await stopAll();
      console.log(
        `round ${round}: another worker alive ${withOther.at(-1)!.outOfPublishingMs} / ${withOther.at(-1)!.recordedMs} ms; all-in-one ${allInOne.at(-1)!.recordedMs} ms after its restart; baseline ${baseline.at(-1)!.recordedMs} ms`,
      );
    }
  } finally {
    await stopAll();
    await close();
    await ledger.fake.stop();
    await bench.database.close();
    await bench.drop();
  }

  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const med = (rounds: Round[], key: keyof Round) => median(rounds.map((r) => r[key]));
  const verdict = (ok: boolean) => (ok ? 'meets' : '**misses**');
  const section = `## Recovery after a crash

Command: \`npm run bench:recovery\` (bench/recovery.ts). Machine: ${machine}

With the default settings (lease ${config.GAUNG_LEASE_SECONDS} s, reconcile delay ${config.GAUNG_RECONCILE_DELAY_MS / 1000} s, heartbeat every
second with a 3 s time to live), a worker process is SIGKILLed while it is publishing: the platform
(a ledger fake) has stored each post and holds its answer for ${PLATFORM_HOLD_MS / 1000} s, so every claim is
caught mid-call, the case that needs reconciliation. Worker processes are the engine's workers and
schedulers (\`tests/helpers/engine-worker.ts\`, what \`npm start --role=worker\` runs, with the ledger as
their platform). Baseline in the same run: claims caught the same way, nobody killed. Median of ${ROUNDS}
rounds; every post was checked to be at the platform exactly once.

| | out of \`publishing\` | every delivery recorded | target |
| --- | ---: | ---: | --- |
| another worker alive, from the kill | ${s(med(withOther, 'outOfPublishingMs'))} | ${s(med(withOther, 'recordedMs'))} | ≤ 5 s (${verdict(med(withOther, 'outOfPublishingMs') <= OUT_OF_PUBLISHING_TARGET_MS)}) / ≤ 15 s (${verdict(med(withOther, 'recordedMs') <= RECORDED_TARGET_MS)}) |
| all-in-one, from its restart | ${s(med(allInOne, 'outOfPublishingMs'))} | ${s(med(allInOne, 'recordedMs'))} | ≤ 15 s (${verdict(med(allInOne, 'recordedMs') <= RECORDED_TARGET_MS)}) |
| baseline, nobody killed, from the catch | ${s(med(baseline, 'outOfPublishingMs'))} | ${s(med(baseline, 'recordedMs'))} | |

Rounds (another worker / all-in-one / baseline, recorded): ${withOther.map((r, i) => `${s(r.recordedMs)} / ${s(allInOne[i]!.recordedMs)} / ${s(baseline[i]!.recordedMs)}`).join('; ')}. Load average at the end: ${os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ')}.
`;
  writeSection('recovery', section);
  console.log(section);
}

await main();
