import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Database, openPostgres } from '../src/db/client';

export interface BenchPostgres {
  database: Database;
  version: string;
  drop(): Promise<void>;
}

/**
 * A fresh PostgreSQL database for a benchmark (BENCH_DATABASE_URL, TEST_DATABASE_URL or the local
 * server), dropped by `drop` (kept with BENCH_KEEP=1, to look into afterwards); null when no server
 * answers, so the benchmark runs on PGlite only.
 */
export async function benchPostgres(label: string): Promise<BenchPostgres | null> {
  const adminUrl =
    process.env.BENCH_DATABASE_URL ||
    process.env.TEST_DATABASE_URL ||
    'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3_000 });
  try {
    await admin.connect();
  } catch (error) {
    console.warn(`PostgreSQL not reachable (${(error as Error).message}); PGlite only`);
    return null;
  }
  const name = `gaung_bench_${label}_${randomBytes(4).toString('hex')}`;
  const version = (await admin.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]!
    .v;
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await openPostgres(url.toString());
  return {
    database,
    version,
    async drop() {
      await database.close();
      if (process.env.BENCH_KEEP) {
        console.log(`BENCH_KEEP: database ${name} kept`);
        return;
      }
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}
