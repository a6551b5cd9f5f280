import { and, eq, isNull, type SQL, sql } from 'drizzle-orm';
import { type DbOrTx, queryRows, type Tx } from '../db/client';
import { postLevels, units } from '../db/schema';
import { conflict, notFound } from '../domain/errors';
import { checkLevelAction, type LevelAction, type LevelState, levelAbove } from '../domain/review-levels';
import type { LevelArrival, LevelDecision } from '../domain/vocabulary';
import { announceArrival } from './reviewer-notices';

/**
 * The level rows of a post follow its status inside the transaction that changes it: a submission
 * puts the post into the inboxes it belongs in, a post sent back to its office leaves them all, and a
 * level's approve, pass or forward is written to that level's row.
 */

const ts = (date: Date) => sql`${date.toISOString()}::timestamptz`;

/** Active reviewers or admins in the unit: the unit is a level someone can act at. */
const staffed = (unit: SQL) =>
  sql`exists (select 1 from users r where r.unit_id = ${unit} and r.role in ('reviewer', 'admin') and r.disabled_at is null)`;

/**
 * A (re)submitted post waits at the nearest level above its unit that has reviewers (the unit itself
 * when there is none above), and at the national unit when the organisation has it see every post.
 * Decisions of an earlier round are history now (they stay on the timeline).
 */
export async function enterInboxes(
  tx: Tx,
  post: { id: string; unitId: string; unitPath: string },
  at: Date,
): Promise<string[]> {
  await tx.delete(postLevels).where(eq(postLevels.postId, post.id));
  const rows = await queryRows<{ unit_id: string }>(
    tx,
    sql`with nearest as (
        select u.id from units u
        where ${post.unitPath} like u.path || '%' and ${staffed(sql`u.id`)}
        order by (u.id = ${post.unitId}::uuid), length(u.path) desc limit 1
      ), direct as (
        select u.id from units u
        where u.parent_id is null and u.review_national_direct and u.id not in (select id from nearest)
      )
      insert into post_levels (post_id, unit_id, origin_unit_id, arrival, arrived_at)
      select ${post.id}::uuid, id, ${post.unitId}::uuid, 'nearest', ${ts(at)} from nearest
      union all
      select ${post.id}::uuid, id, ${post.unitId}::uuid, 'direct', ${ts(at)} from direct
      returning unit_id`,
  );
  const levelIds = rows.map((row) => row.unit_id);
  await announceArrival(tx, { postId: post.id, levelIds, kind: 'review.submitted', at });
  return levelIds;
}

/** The post went back to its office (or out of review): it waits nowhere any more. */
export async function leaveInboxes(tx: Tx, postId: string, at: Date): Promise<void> {
  await tx
    .update(postLevels)
    .set({ closedAt: at })
    .where(and(eq(postLevels.postId, postId), isNull(postLevels.decision), isNull(postLevels.closedAt)));
}

export interface LevelUnit {
  id: string;
  name: string;
  path: string;
}

export async function loadLevelUnit(tx: DbOrTx, unitId: string): Promise<LevelUnit> {
  const [row] = await tx
    .select({ id: units.id, name: units.name, path: units.path })
    .from(units)
    .where(eq(units.id, unitId));
  if (!row) throw notFound('Unit');
  return row;
}

/** What a level already did with the post (null: it never reached the level); `lock` holds its row to the transaction's end. */
export async function levelState(
  db: DbOrTx,
  postId: string,
  unitId: string,
  lock = false,
): Promise<LevelState | null> {
  const query = db
    .select({ decision: postLevels.decision, forwardedAt: postLevels.forwardedAt })
    .from(postLevels)
    .where(and(eq(postLevels.postId, postId), eq(postLevels.unitId, unitId)));
  const [row] = lock ? await query.for('update') : await query;
  return row ? { decision: row.decision, forwardedAt: row.forwardedAt } : null;
}

/** More channels come from a level that approved the post; any other level approves it first. */
export async function requireApprovedLevel(tx: Tx, postId: string, unitId: string): Promise<void> {
  const state = await levelState(tx, postId, unitId, true);
  if (state?.decision !== 'approved')
    throw conflict(
      'level_not_approved',
      'Your level has not approved this post; approve it for your channels first',
    );
}

/** The row of a level that takes a post up without having been sent it. */
const ownRow = (post: { id: string; unitId: string }, unitId: string, at: Date) => ({
  postId: post.id,
  unitId,
  originUnitId: post.unitId,
  arrival: 'own' as LevelArrival,
  arrivedAt: at,
});

/**
 * Writes a level's approve, pass or forward, after the pure check of what the level already did.
 * Forwarding also puts the post into the inbox of the level above, marked as forwarded (a post the
 * level above already had is marked; one it already decided stays decided). Returns the unit a
 * forward reached.
 */
export async function recordLevelAction(
  tx: Tx,
  post: { id: string; unitId: string },
  level: LevelUnit,
  action: LevelAction,
  by: { userId: string; note: string | null; at: Date },
): Promise<{ forwardedTo: string | null }> {
  checkLevelAction(await levelState(tx, post.id, level.id, true), action, level.path);
  const { at } = by;
  const columns =
    action === 'forward'
      ? { forwardedAt: at, forwardedBy: by.userId, forwardNote: by.note }
      : {
          decision: (action === 'approve' ? 'approved' : 'passed') as LevelDecision,
          decidedAt: at,
          decidedBy: by.userId,
          note: by.note,
        };
  await tx
    .insert(postLevels)
    .values({ ...ownRow(post, level.id, at), ...columns })
    .onConflictDoUpdate({ target: [postLevels.postId, postLevels.unitId], set: columns });
  if (action !== 'forward') return { forwardedTo: null };
  const above = levelAbove(level.path)!;
  await tx
    .insert(postLevels)
    .values({ ...ownRow(post, above, at), arrival: 'forwarded' })
    .onConflictDoUpdate({
      target: [postLevels.postId, postLevels.unitId],
      set: { arrival: 'forwarded', closedAt: null },
    });
  await announceArrival(tx, {
    postId: post.id,
    levelIds: [above],
    kind: 'review.forwarded',
    note: by.note,
    fromLevel: level.name,
    at,
  });
  return { forwardedTo: above };
}
