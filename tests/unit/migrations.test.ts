import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrationsFolder } from '../../src/db/client';

/**
 * A migration may not lose data unless someone said why: DROP TABLE, DROP COLUMN, TRUNCATE and an
 * ALTER … TYPE to anything but a type that holds every old value are refused, except in a migration
 * carrying a `-- data-loss-reviewed: <why>` comment.
 */

const REVIEWED = /^--[ \t]*data-loss-reviewed:[ \t]*\S.*$/m;

/** Target types every value of a narrower one fits in (the widening conversions). */
const WIDENING_TARGETS =
  /^(text|bigint|double precision|numeric|jsonb|timestamp with time zone|uuid\[\]|text\[\])$/i;

/** The statements of a migration that could lose data, as written. */
function dataLossStatements(migration: string): string[] {
  const statements = migration
    .split('--> statement-breakpoint')
    .map((statement) =>
      statement
        .split('\n')
        .filter((line) => !line.trim().startsWith('--'))
        .join('\n')
        .trim(),
    )
    .filter(Boolean);
  return statements.filter((statement) => {
    if (/\bdrop\s+table\b/i.test(statement) || /\bdrop\s+column\b/i.test(statement)) return true;
    if (/\btruncate\b/i.test(statement)) return true;
    const types = [
      ...statement.matchAll(
        /\balter\s+column\s+"?[\w]+"?\s+(?:set\s+data\s+)?type\s+([^;,]+?)(?:\s+using\b|;|,|$)/gi,
      ),
    ];
    return types.some((match) => !WIDENING_TARGETS.test(match[1]!.replace(/"/g, '').trim()));
  });
}

const migrations = readdirSync(migrationsFolder)
  .filter((file) => file.endsWith('.sql'))
  .sort();

describe('migrations', () => {
  it.each(migrations)('%s loses no data, or says why it may', (file) => {
    const migration = readFileSync(path.join(migrationsFolder, file), 'utf8');
    if (REVIEWED.test(migration)) return;
    expect(
      dataLossStatements(migration),
      `${file}: add "-- data-loss-reviewed: <why>" if this is meant`,
    ).toEqual([]);
  });

  it('are listed in the journal, each once, in order', () => {
    const journal = JSON.parse(readFileSync(path.join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as {
      entries: { idx: number; tag: string }[];
    };
    expect(journal.entries.map((entry) => `${entry.tag}.sql`)).toEqual(migrations);
    expect(journal.entries.map((entry) => entry.idx)).toEqual(migrations.map((_, index) => index));
  });

  it('released migrations are never edited (their sha256 is in tests/fixtures/<release>/migrations.json)', () => {
    const release = JSON.parse(
      readFileSync(path.join(import.meta.dirname, '../fixtures/v0.1.0/migrations.json'), 'utf8'),
    ) as { migrations: { tag: string; sha256: string }[] };
    for (const { tag, sha256 } of release.migrations) {
      const bytes = readFileSync(path.join(migrationsFolder, `${tag}.sql`));
      expect(createHash('sha256').update(bytes).digest('hex'), tag).toBe(sha256);
    }
  });
});

describe('the data-loss check', () => {
  it('finds dropped tables and columns, truncation and narrowing type changes', () => {
    expect(dataLossStatements('DROP TABLE "feeds";')).toHaveLength(1);
    expect(dataLossStatements('ALTER TABLE "posts" DROP COLUMN "link";')).toHaveLength(1);
    expect(dataLossStatements('TRUNCATE "sessions";')).toHaveLength(1);
    expect(
      dataLossStatements('ALTER TABLE "deliveries" ALTER COLUMN "attempts" SET DATA TYPE smallint;'),
    ).toHaveLength(1);
    expect(
      dataLossStatements('ALTER TABLE "units" ALTER COLUMN "name" SET DATA TYPE varchar(40);'),
    ).toHaveLength(1);
  });

  it('lets additive changes, widening types and replaced constraints through', () => {
    const additive = [
      'ALTER TABLE "posts" ADD COLUMN "retracted_at" timestamp with time zone;',
      'ALTER TABLE "deliveries" ALTER COLUMN "attempts" SET DATA TYPE bigint;',
      'ALTER TABLE "units" ALTER COLUMN "name" SET DATA TYPE text;',
      'ALTER TABLE "posts" DROP CONSTRAINT "posts_status_check";',
      'DROP INDEX "deliveries_attention_idx";',
      'ALTER TABLE "channels" RENAME TO "accounts";',
      '-- DROP TABLE "feeds"; (a comment, not a statement)',
    ].join('--> statement-breakpoint\n');
    expect(dataLossStatements(additive)).toEqual([]);
  });

  it('accepts a migration that says why its data may go', () => {
    expect(
      REVIEWED.test('-- data-loss-reviewed: sandbox_posts were demo data only\nDROP TABLE "sandbox_posts";'),
    ).toBe(true);
    expect(REVIEWED.test('-- data-loss-reviewed:\nDROP TABLE "sandbox_posts";')).toBe(false);
  });
});
