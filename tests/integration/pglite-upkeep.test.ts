import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { type Database, openPglite, queryRows } from '../../src/db/client';
import { upkeep, withUpkeep } from '../../src/db/upkeep';
import { createLogger } from '../../src/logger';

/** A table of 5,000 rows, 3,000 of them updated once: past autovacuum's thresholds for dead rows and for analyze. */
async function churn(database: Database, table: string) {
  await database.db.execute(sql.raw(`create table ${table} (id int primary key, v int)`));
  await database.db.execute(sql.raw(`insert into ${table} select g, g from generate_series(1, 5000) g`));
  await database.db.execute(sql.raw(`update ${table} set v = v + 1 where id <= 3000`));
}

const stateOf = async (database: Database, table: string) => {
  const [row] = await queryRows<{ vacuumed: boolean; analysed: boolean; all_visible: number; dead: number }>(
    database.db,
    sql`select s.last_vacuum is not null as vacuumed, s.last_analyze is not null as analysed,
        c.relallvisible as all_visible, s.n_dead_tup as dead
      from pg_stat_user_tables s join pg_class c on c.oid = s.relid where s.relname = ${table}`,
  );
  return row!;
};

describe('the embedded database upkeep', () => {
  let database: Database | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it('vacuums and analyses the tables past the thresholds, and leaves the others', async () => {
    database = await openPglite();
    await churn(database, 'churned');
    await database.db.execute(sql`create table quiet (id int primary key)`);
    await database.db.execute(sql`insert into quiet values (1), (2), (3)`);
    expect(await stateOf(database, 'churned')).toMatchObject({
      vacuumed: false,
      analysed: false,
      all_visible: 0,
    });

    const pass = await upkeep(database.db);
    expect(pass.vacuumed).toContain('public.churned');
    expect([...pass.vacuumed, ...pass.analysed]).not.toContain('public.quiet');
    const after = await stateOf(database, 'churned');
    expect(after).toMatchObject({ vacuumed: true, analysed: true, dead: 0 });
    // Index-only reads of the table no longer visit it for every row.
    expect(after.all_visible).toBeGreaterThan(0);

    // Nothing changed since: the next pass has nothing to do.
    expect(await upkeep(database.db)).toEqual({ vacuumed: [], analysed: [] });
  });

  it('runs by itself on an open database until it is closed', async () => {
    database = withUpkeep(await openPglite(), createLogger('silent'), 50);
    await churn(database, 'churned');
    await expect
      .poll(async () => (await stateOf(database!, 'churned')).vacuumed, { timeout: 10_000, interval: 100 })
      .toBe(true);
    await database.close();
    database = undefined;
  });
});
