import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { PGlite } from '@electric-sql/pglite';
import { type SQL, sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { projectRoot } from '../../config/paths';
import * as schema from './schema';

export type Schema = typeof schema;
/** The drizzle database, whichever driver is behind it. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle; services accept `Db | Tx` where they may run inside a caller's transaction. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

export type Driver = 'pglite' | 'postgres';

export interface Database {
  db: Db;
  driver: Driver;
  /** Applies the migrations in `folder` (default: the committed ones) that are not applied yet. */
  migrate(folder?: string): Promise<void>;
  /** True when every migration in the committed folder is applied. */
  migrationsApplied(): Promise<boolean>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const migrationsFolder = path.join(projectRoot, 'src', 'db', 'migrations');

const MIGRATION_LOCK_KEY = 7_302_418_001;

function committedMigrationCount(): number {
  const journal = JSON.parse(readFileSync(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

/** Rows of a raw SQL query, the same on both drivers (both answer `{ rows }`). */
export async function queryRows<T extends Record<string, unknown>>(db: DbOrTx, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

/**
 * Statements prepared once per database (named statements on PostgreSQL: neither drizzle nor the
 * server builds them again for each use), for hot statements of a fixed shape.
 */
export function preparedPerDatabase<T>(prepare: (db: Db) => T): (db: Db) => T {
  const prepared = new WeakMap<Db, T>();
  return (db) => {
    let statements = prepared.get(db);
    if (!statements) {
      statements = prepare(db);
      prepared.set(db, statements);
    }
    return statements;
  };
}

async function appliedMigrationCount(db: Db): Promise<number> {
  const [exists] = await queryRows<{ ok: boolean }>(
    db,
    sql`select to_regclass('drizzle.__drizzle_migrations') is not null as ok`,
  );
  if (!exists?.ok) return 0;
  const [result] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
  );
  return Number(result?.n ?? 0);
}

export class DatabaseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/**
 * The settings of each of Gaung's sessions. No parallel workers: Gaung's requests are many short statements,
 * and a request that reads much (a report) runs its statements at once on the pool's connections, so a
 * parallel plan only competes with them for the same cores, after starting its workers (a report for a
 * quarter at national scope, the queries alone: p50 54 ms instead of 125, docs/benchmarks.md). The URL's
 * own `options` come after, so they win.
 */
function sessionOptions(url: string): string {
  let own: string | null = null;
  try {
    own = new URL(url).searchParams.get('options');
  } catch {
    // Not a URL: node-postgres reads it as it is.
  }
  return ['-c max_parallel_workers_per_gather=0', own].filter(Boolean).join(' ');
}

/** PostgreSQL through node-postgres. Fails with a clear message when the server does not answer. */
export async function openPostgres(url: string, options: { poolMax?: number } = {}): Promise<Database> {
  // Loaded here: a process on PGlite never needs the PostgreSQL client.
  const [{ default: pg }, { drizzle: drizzleNodePg }, { migrate: migrateNodePg }] = await Promise.all([
    import('pg'),
    import('drizzle-orm/node-postgres'),
    import('drizzle-orm/node-postgres/migrator'),
  ]);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax ?? 10,
    connectionTimeoutMillis: 5_000,
    options: sessionOptions(url),
  });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it on next use.
  });
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    const where = safeUrl(url);
    throw new DatabaseError(`cannot connect to PostgreSQL at ${where}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const db = drizzleNodePg(pool, { schema, casing: 'snake_case' }) as unknown as Db;
  return {
    db,
    driver: 'postgres',
    async migrate(folder = migrationsFolder) {
      // Several processes may start at once: one migrates, the others wait for it.
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        await migrateNodePg(drizzleNodePg(client, { casing: 'snake_case' }), { migrationsFolder: folder });
      } finally {
        await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
        client.release();
      }
    },
    async migrationsApplied() {
      return (await appliedMigrationCount(db)) >= committedMigrationCount();
    },
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      await pool.end();
    },
  };
}

/**
 * PGlite runs one backend in this process's memory, and PostgreSQL's defaults size shared memory for
 * a server: 128 MB of shared buffers and 100 connections' worth of tables, most of it written at start.
 * Its data files live in the operating system's page cache anyway, so a small buffer pool serves it.
 */
const PGLITE_SETTINGS = ['shared_buffers = 16MB', 'max_connections = 5'];

/**
 * PGlite is PostgreSQL compiled to WebAssembly. V8 compiles it with its baseline compiler (Liftoff)
 * and re-compiles hot functions with its optimising one in the background, which costs CPU at start
 * and keeps both versions in memory. Liftoff alone opens the database with a third less CPU and
 * holds 20-35 MB less, and answers Gaung's indexed reads as fast; a scan-and-aggregate query over
 * 100,000 rows takes ~1.7× the CPU (docs/benchmarks.md, "PGlite: baseline WebAssembly compiler only").
 * Only PGlite runs WebAssembly in a Gaung process; the flag must be set before its module compiles.
 */
const WASM_FLAGS = '--liftoff-only';

/**
 * Embedded PostgreSQL (PGlite). `dataDir` undefined keeps everything in memory (tests). A lock file
 * stops a second process from opening the same directory, which PGlite does not support.
 */
export async function openPglite(dataDir?: string): Promise<Database> {
  let lockFile: string | undefined;
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    lockFile = path.join(dataDir, '..', 'pglite.lock');
    takeLock(lockFile);
  }
  v8.setFlagsFromString(WASM_FLAGS);
  let client: PGlite;
  try {
    client = new PGlite(dataDir, { postgresqlconf: PGLITE_SETTINGS });
    await client.waitReady;
  } catch (error) {
    if (lockFile) rmSync(lockFile, { force: true });
    throw new DatabaseError(`cannot open the embedded database in ${dataDir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const db = drizzlePglite(client, { schema, casing: 'snake_case' }) as unknown as Db;
  return {
    db,
    driver: 'pglite',
    async migrate(folder = migrationsFolder) {
      await migratePglite(drizzlePglite(client, { casing: 'snake_case' }), { migrationsFolder: folder });
    },
    async migrationsApplied() {
      return (await appliedMigrationCount(db)) >= committedMigrationCount();
    },
    async ping() {
      await client.query('select 1');
    },
    async close() {
      await client.close();
      if (lockFile) rmSync(lockFile, { force: true });
    },
  };
}

function takeLock(lockFile: string): void {
  if (existsSync(lockFile)) {
    const pid = Number(readFileSync(lockFile, 'utf8'));
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new DatabaseError(
        `the embedded database is in use by process ${pid}; run one Gaung process (npm start), or set DATABASE_URL to share PostgreSQL between processes`,
      );
    }
    rmSync(lockFile, { force: true });
  }
  const fd = openSync(lockFile, 'wx');
  writeFileSync(fd, String(process.pid));
  closeSync(fd);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The URL without its password, for messages. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** True when the configured database is there to be opened: PostgreSQL, or an embedded one made before. */
export function databaseExists(config: { DATABASE_URL?: string; dataDir: string }): boolean {
  return Boolean(config.DATABASE_URL) || existsSync(embeddedPath(config.dataDir));
}

const embeddedPath = (dataDir: string) => path.join(dataDir, 'pglite');

export async function openDatabase(config: {
  DATABASE_URL?: string;
  DATABASE_POOL_MAX: number;
  dataDir: string;
}): Promise<Database> {
  if (config.DATABASE_URL) return openPostgres(config.DATABASE_URL, { poolMax: config.DATABASE_POOL_MAX });
  return openPglite(embeddedPath(config.dataDir));
}
