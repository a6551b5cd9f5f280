import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client';
import { createTestDatabase, type TestDatabase, testDrivers } from '../helpers/db';

/** The shape of a database as the catalog reports it: tables, columns, constraints, indexes. */
async function describeSchema(database: TestDatabase) {
  const columns = await queryRows<Record<string, string>>(
    database.db,
    sql`select table_name, column_name, data_type, is_nullable, coalesce(column_default, '') as column_default,
               coalesce(generation_expression, '') as generation_expression
        from information_schema.columns where table_schema = 'public' order by table_name, column_name`,
  );
  const constraints = await queryRows<Record<string, string>>(
    database.db,
    // Not-null constraints appear in pg_constraint only from PostgreSQL 18 (PGlite); columns cover them.
    sql`select conrelid::regclass::text as table_name, conname, pg_get_constraintdef(oid) as definition
        from pg_constraint where connamespace = 'public'::regnamespace and contype <> 'n' order by 1, 2`,
  );
  const indexes = await queryRows<Record<string, string>>(
    database.db,
    sql`select tablename, indexname, indexdef from pg_indexes where schemaname = 'public' order by 1, 2`,
  );
  return { columns, constraints, indexes };
}

describe('database schema', () => {
  const schemas = new Map<string, Awaited<ReturnType<typeof describeSchema>>>();
  const databases: TestDatabase[] = [];

  beforeAll(async () => {
    for (const driver of testDrivers()) {
      const database = await createTestDatabase(driver);
      databases.push(database);
      schemas.set(driver, await describeSchema(database));
    }
  });

  afterAll(async () => {
    await Promise.all(databases.map((d) => d.close()));
  });

  it('applies every committed migration on each driver', async () => {
    for (const database of databases) expect(await database.migrationsApplied()).toBe(true);
  });

  it('holds the whole domain', () => {
    const tables = new Set(schemas.get('pglite')!.columns.map((c) => c.table_name));
    for (const table of [
      'units',
      'users',
      'api_tokens',
      'sessions',
      'channels',
      'posting_slots',
      'posts',
      'post_variants',
      'media',
      'post_media',
      'post_events',
      'deliveries',
      'delivery_attempts',
      'metrics_snapshots',
    ])
      expect(tables, table).toContain(table);
  });

  it('is the same on PGlite and PostgreSQL', (context) => {
    if (!schemas.has('postgres')) context.skip();
    expect(schemas.get('postgres')).toEqual(schemas.get('pglite'));
  });

  it('keeps deliveries unique per post and channel and states inside the machine', async () => {
    for (const database of databases) {
      await expect(
        database.db.execute(
          sql`insert into units (kind, name, slug, time_zone, path) values ('office', 'x', 'x', 'Asia/Jakarta', '/x/')`,
        ),
      ).rejects.toThrow();
      const [unit] = await queryRows<{ id: string }>(
        database.db,
        sql`insert into units (kind, name, slug, time_zone, path) values ('national', 'N', 'n', 'Asia/Jakarta', '/n/') returning id`,
      );
      const [user] = await queryRows<{ id: string }>(
        database.db,
        sql`insert into users (unit_id, email, name, role, password_hash) values (${unit!.id}, 'a@b.c', 'A', 'admin', 'x') returning id`,
      );
      const [channel] = await queryRows<{ id: string }>(
        database.db,
        sql`insert into channels (unit_id, platform, name, time_zone) values (${unit!.id}, 'x', 'X', 'Asia/Jakarta') returning id`,
      );
      const [post] = await queryRows<{ id: string }>(
        database.db,
        sql`insert into posts (unit_id, author_id, body) values (${unit!.id}, ${user!.id}, 'halo') returning id`,
      );
      const insertDelivery = (status: string) =>
        database.db.execute(
          sql`insert into deliveries (post_id, channel_id, mode, status, due_at, rendered_text)
              values (${post!.id}, ${channel!.id}, 'copy', ${status}, now(), 'halo')`,
        );
      await expect(insertDelivery('teleported')).rejects.toThrow();
      await insertDelivery('scheduled');
      await expect(insertDelivery('scheduled')).rejects.toThrow();
    }
  });
});
