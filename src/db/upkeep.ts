import { type SQL, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { type Database, type Db, queryRows } from './client';

/**
 * What autovacuum does on a PostgreSQL server, for the embedded database: PGlite runs no background
 * processes, so without this its tables would keep every dead row version their updates leave, its
 * planner would keep the statistics of the day each table was created, and its visibility maps would
 * stay empty, so that every index-only read (the reports' covering indexes) would visit the table too.
 * Each pass vacuums and analyses the tables past autovacuum's default thresholds, one at a time (PGlite
 * runs one statement at a time, so a request waits for at most one table's vacuum).
 */

/** Autovacuum's defaults: dead rows, rows inserted since the last vacuum, rows changed since the last analyze. */
const VACUUM = { base: 50, fraction: 0.2 };
const INSERT_VACUUM = { base: 1_000, fraction: 0.2 };
const ANALYZE = { base: 50, fraction: 0.1 };
/** How often the embedded database looks at its tables (autovacuum's `autovacuum_naptime`). */
const UPKEEP_EVERY_MS = 60_000;

export interface UpkeepPass {
  /** Tables vacuumed (and analysed). */
  vacuumed: string[];
  /** Tables only analysed. */
  analysed: string[];
}

const past = (threshold: { base: number; fraction: number }, count: SQL, rows: SQL) =>
  sql`${count} > ${threshold.base} + ${threshold.fraction}::float8 * greatest(${rows}, 0)`;

/** One pass over the tables: each past a threshold is vacuumed with analyze, or analysed. */
export async function upkeep(db: Db): Promise<UpkeepPass> {
  // The counts are kept per session and published at intervals; this publishes them now.
  await queryRows(db, sql`select pg_stat_force_next_flush()`);
  const rows = sql`c.reltuples`;
  const tables = await queryRows<{ name: string; vacuum: boolean; analyze: boolean }>(
    db,
    sql`select format('%I.%I', s.schemaname, s.relname) as name,
        ${past(VACUUM, sql`s.n_dead_tup`, rows)} or ${past(INSERT_VACUUM, sql`s.n_ins_since_vacuum`, rows)} as vacuum,
        ${past(ANALYZE, sql`s.n_mod_since_analyze`, rows)} as analyze
      from pg_stat_user_tables s join pg_class c on c.oid = s.relid
      order by s.n_dead_tup + s.n_mod_since_analyze desc`,
  );
  const pass: UpkeepPass = { vacuumed: [], analysed: [] };
  for (const table of tables) {
    if (table.vacuum) {
      await db.execute(sql.raw(`vacuum (analyze) ${table.name}`));
      pass.vacuumed.push(table.name);
    } else if (table.analyze) {
      await db.execute(sql.raw(`analyze ${table.name}`));
      pass.analysed.push(table.name);
    }
  }
  return pass;
}

/**
 * The embedded database with its upkeep running every `everyMs` (a pass at a time) until it is closed.
 * A failed pass is logged and the next one tries again.
 */
export function withUpkeep(database: Database, log: Logger, everyMs = UPKEEP_EVERY_MS): Database {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = upkeep(database.db)
      .then((pass) => {
        if (pass.vacuumed.length || pass.analysed.length) log.debug(pass, 'embedded database upkeep');
      })
      .catch((error) => log.warn({ err: error }, 'embedded database upkeep failed'))
      .finally(() => {
        running = undefined;
      });
  }, everyMs);
  timer.unref();
  return {
    ...database,
    async close() {
      clearInterval(timer);
      await running;
      await database.close();
    },
  };
}
