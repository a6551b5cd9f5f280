// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are source text the scanner reads
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Every status change of a post, a delivery, a channel or a source goes through its state machine
 * (DESIGN principle 3). The code is read for every write of a status column of those tables (a
 * source's pause is one: `paused_at`), in SQL or through drizzle; only the transition builders may hold one.
 */

const root = path.join(import.meta.dirname, '../..');
/** The status columns of each table, as drizzle names them and as SQL does. */
const STATUS_COLUMNS: Record<string, { drizzle: string[]; sql: string[] }> = {
  posts: { drizzle: ['status'], sql: ['status'] },
  deliveries: { drizzle: ['status'], sql: ['status'] },
  channels: { drizzle: ['status'], sql: ['status'] },
  sources: { drizzle: ['status', 'pausedAt'], sql: ['status', 'paused_at'] },
};
const TABLES = Object.keys(STATUS_COLUMNS).join('|');
const columnsOf = (side: 'drizzle' | 'sql') =>
  [...new Set(Object.values(STATUS_COLUMNS).flatMap((c) => c[side]))].join('|');
const ANY_COLUMN = columnsOf('drizzle');
const ANY_SQL_COLUMN = columnsOf('sql');
const BUILDERS = [
  'src/services/channel-transitions.ts',
  'src/services/delivery-transitions.ts',
  'src/services/post-transitions.ts',
  'src/services/source-transitions.ts',
];

/** The text between the parenthesis at `open` and its match. */
function balanced(source: string, open: number): string {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (source[i] === '(') depth++;
    else if (source[i] === ')' && --depth === 0) return source.slice(open + 1, i);
  }
  return source.slice(open + 1);
}

const lineOf = (source: string, index: number) => source.slice(0, index).split('\n').length;

/** Where `source` writes a status column of posts, deliveries, channels or sources, as `line: excerpt`. */
function statusWrites(source: string): string[] {
  const found: string[] = [];
  const note = (index: number, text: string) =>
    found.push(`${lineOf(source, index)}: ${text.replace(/\s+/g, ' ').slice(0, 100)}`);
  // drizzle: .update(posts).set({ status: … }) — or a value the reader cannot see into.
  for (const match of source.matchAll(new RegExp(`\\.update\\(\\s*(${TABLES})\\s*\\)`, 'g'))) {
    const set = source.indexOf('.set(', match.index);
    if (set < 0) continue;
    const values = balanced(source, set + '.set'.length).trim();
    const columns = STATUS_COLUMNS[match[1]!]!.drizzle.join('|');
    if (!values.startsWith('{') || new RegExp(`(^|[{,\\s])(${columns})\\s*[:,}]`).test(values))
      note(match.index, match[0] + values);
  }
  // drizzle upserts: .onConflictDoUpdate({ set: { status: … } })
  for (const match of source.matchAll(/\.onConflictDoUpdate\(/g)) {
    const args = balanced(source, match.index + '.onConflictDoUpdate'.length);
    if (new RegExp(`(^|[{,\\s])(${ANY_COLUMN})\\s*[:,}]`).test(args)) note(match.index, args);
  }
  // SQL: update posts p set … status = … where, and upserts' do update set.
  const sqlUpdate = new RegExp(
    `\\b(?:update\\s+(?:${TABLES})\\b(?:\\s+(?!set\\b)\\w+)?|do\\s+update)\\s+set\\b([\\s\\S]*?)(?=\\bwhere\\b|\\breturning\\b|\\bfrom\\b|;|$)`,
    'gi',
  );
  for (const match of source.matchAll(sqlUpdate))
    if (new RegExp(`(^|[\\s,.])(${ANY_SQL_COLUMN})\\s*=`, 'i').test(match[1]!)) note(match.index, match[0]);
  // An assignment built on its own and joined into an update elsewhere: sql`status = …`.
  for (const match of source.matchAll(new RegExp(`sql\`\\s*(${ANY_SQL_COLUMN})\\s*=`, 'gi')))
    note(match.index, match[0]);
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'migrations' ? [] : sourceFiles(relative);
    return /\.(ts|tsx|mts|js|mjs)$/.test(entry.name) ? [relative] : [];
  });
}

describe('status writes', () => {
  it('finds the ways a status can be written', () => {
    expect(
      statusWrites(`await db.update(posts).set({ status: 'approved' }).where(eq(posts.id, id));`),
    ).toHaveLength(1);
    expect(
      statusWrites(`await tx\n  .update(deliveries)\n  .set({ updatedAt: now, status })\n  .where(x);`),
    ).toHaveLength(1);
    expect(statusWrites(`await tx.update(channels).set(next).where(x);`)).toHaveLength(1);
    expect(
      statusWrites('sql`update deliveries d set version = d.version + 1, status = ${to} where d.id = ${id}`'),
    ).toHaveLength(1);
    expect(statusWrites("sql`UPDATE posts SET status = 'retracted' WHERE id = $1`")).toHaveLength(1);
    expect(statusWrites('const sets = [sql`status = ${to}`];')).toHaveLength(1);
    expect(
      statusWrites(
        'sql`insert into channels (id) values (1) on conflict (id) do update set status = excluded.status`',
      ),
    ).toHaveLength(1);
    expect(statusWrites(`.onConflictDoUpdate({ target: posts.id, set: { status: 'draft' } })`)).toHaveLength(
      1,
    );
    expect(statusWrites(`await db.update(sources).set({ status: 'needs_reauth' });`)).toHaveLength(1);
    expect(statusWrites(`await tx.update(sources).set({ pausedAt: now, updatedAt: now });`)).toHaveLength(1);
    expect(statusWrites('sql`update sources set paused_at = null where id = ${id}`')).toHaveLength(1);
  });

  it('does not take reads, other tables or other columns for status writes', () => {
    expect(statusWrites(`await db.update(channels).set({ statusReason: reason, updatedAt: now });`)).toEqual(
      [],
    );
    expect(statusWrites(`await db.update(sources).set({ lastError: null, pausedBy: id });`)).toEqual([]);
    expect(statusWrites(`await db.update(sourceRules).set({ status: 'x' });`)).toEqual([]);
    expect(statusWrites("sql`update deliveries set due_at = ${at} where status = 'retracting'`")).toEqual([]);
    expect(statusWrites("sql`select id from posts where status = 'approved'`")).toEqual([]);
    expect(
      statusWrites('sql`update delivery_attempts set ended_at = ${now}, http_status = 1 where id = 2`'),
    ).toEqual([]);
  });

  it('finds status writes of posts, deliveries, channels and sources only in the transition builders', () => {
    const writers = [...sourceFiles('src'), ...sourceFiles('workers')].flatMap((file) => {
      const writes = statusWrites(readFileSync(path.join(root, file), 'utf8'));
      return writes.length > 0 ? [{ file, writes }] : [];
    });
    const outside = writers.filter((writer) => !BUILDERS.includes(writer.file));
    expect(outside).toEqual([]);
    // Each builder still writes the status itself (the list above is not stale).
    expect(writers.map((writer) => writer.file).sort()).toEqual(BUILDERS);
  });
});
