import { asc, eq, inArray, like, or, sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import type { DbOrTx } from '../db/client';
import { uniqueViolation } from '../db/errors';
import { units } from '../db/schema';
import { AppError, forbidden, notFound, notFoundAt } from '../domain/errors';
import { DEFAULT_TIME_ZONE, lineage, PARENT_KINDS, wouldCycle } from '../domain/org';
import { type Actor, atLeast, authorize, decide } from '../domain/permissions';
import type { UnitKind } from '../domain/vocabulary';
import { changesOf, recordAudit } from './audit';

/** The organisation tree: national → regional → office, each unit with its own time zone. */

export type UnitRow = typeof units.$inferSelect;

export interface UnitView {
  id: string;
  parentId: string | null;
  kind: UnitKind;
  name: string;
  slug: string;
  timeZone: string;
  createdAt: string;
  updatedAt: string;
}

export const unitView = (row: UnitRow): UnitView => ({
  id: row.id,
  parentId: row.parentId,
  kind: row.kind,
  name: row.name,
  slug: row.slug,
  timeZone: row.timeZone,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

/** Serialises moves, so two concurrent moves cannot together make a cycle. */
const TREE_LOCK_KEY = 7_302_418_010;

export async function findUnit(db: DbOrTx, id: string): Promise<UnitRow | null> {
  const [row] = await db.select().from(units).where(eq(units.id, id));
  return row ?? null;
}

/** The unit, or 404 — the same answer whether it does not exist or the caller may not see it. */
export async function loadUnit(ctx: AppContext, id: string): Promise<UnitRow> {
  const row = await findUnit(ctx.db, id);
  if (!row) throw notFound('Unit');
  return row;
}

/** A unit the actor may see, or 404. */
export async function readUnit(ctx: AppContext, actor: Actor, id: string): Promise<UnitRow> {
  const unit = await loadUnit(ctx, id);
  authorize(actor, 'unit.read', { type: 'unit', unitPath: unit.path }, 'Unit');
  return unit;
}

/** The part of the tree the actor sees (every signed-in person sees their own unit). */
export async function listUnits(ctx: AppContext, actor: Actor): Promise<UnitRow[]> {
  authorize(actor, 'unit.read', { type: 'unit', unitPath: actor.unitPath }, 'Unit');
  return listVisibleUnits(ctx, actor);
}

/** The units page: the visible tree, the units the actor may change, and those a new unit may go under. */
export async function unitTree(
  ctx: AppContext,
  actor: Actor,
): Promise<{ units: UnitRow[]; manages: Set<string>; parents: UnitRow[] }> {
  const units = await listUnits(ctx, actor);
  const manages = new Set(
    units
      .filter((u) => decide(actor, 'unit.update', { type: 'unit', unitPath: u.path }) === 'allow')
      .map((u) => u.id),
  );
  const parents = units.filter(
    (u) =>
      u.kind !== 'office' && decide(actor, 'unit.create', { type: 'unit', unitPath: u.path }) === 'allow',
  );
  return { units, manages, parents };
}

/** The unit a new unit (or a moved one) goes under, once the actor may put one there. */
async function parentFor(ctx: AppContext, actor: Actor, parentId: string): Promise<UnitRow> {
  const parent = await findUnit(ctx.db, parentId);
  if (!parent) throw notFoundAt('Unit', 'parentId');
  authorize(actor, 'unit.create', { type: 'unit', unitPath: parent.path }, 'Unit', 'parentId');
  return parent;
}

/** The units `decide(actor, 'unit.read', …)` allows, as one query: the own subtree (own unit for contributors) and the ancestors. */
export async function listVisibleUnits(ctx: AppContext, actor: Actor): Promise<UnitRow[]> {
  const own = atLeast(actor, 'reviewer')
    ? like(units.path, `${actor.unitPath}%`)
    : eq(units.id, actor.unitId);
  return ctx.db
    .select()
    .from(units)
    .where(or(own, inArray(units.id, lineage(actor.unitPath))))
    .orderBy(asc(units.path));
}

const slugTaken = () =>
  new AppError('slug_taken', 409, 'Another unit already has this slug', {
    errors: [{ field: 'slug', message: 'already taken', code: 'slug_taken' }],
  });

function checkParentKind(kind: UnitKind, parent: UnitRow): void {
  if (!PARENT_KINDS[kind].includes(parent.kind))
    throw new AppError('invalid_parent', 422, `A ${kind} unit cannot be placed under a ${parent.kind} unit`, {
      errors: [{ field: 'parentId', message: `must be a ${PARENT_KINDS[kind].join(' or ')} unit` }],
    });
}

async function insertOrConflict<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (uniqueViolation(error) === 'units_slug_key') throw slugTaken();
    throw error;
  }
}

export interface NewUnit {
  parentId: string;
  kind: Exclude<UnitKind, 'national'>;
  name: string;
  slug: string;
  /** Defaults to the parent's zone: an office keeps the time of its region. */
  timeZone?: string;
}

export async function createUnit(
  ctx: AppContext,
  actor: Actor,
  input: NewUnit,
  ip: string | null,
): Promise<UnitRow> {
  await parentFor(ctx, actor, input.parentId);
  return insertOrConflict(() =>
    ctx.db.transaction(async (tx) => {
      const [parent] = await tx.select().from(units).where(eq(units.id, input.parentId)).for('share');
      if (!parent) throw notFound('Unit');
      checkParentKind(input.kind, parent);
      const id = crypto.randomUUID();
      const now = ctx.now();
      const [row] = await tx
        .insert(units)
        .values({
          id,
          parentId: parent.id,
          kind: input.kind,
          name: input.name,
          slug: input.slug,
          timeZone: input.timeZone ?? parent.timeZone ?? DEFAULT_TIME_ZONE,
          path: `${parent.path}${id}/`,
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      await recordAudit(ctx, tx, {
        actorId: actor.userId,
        unitId: id,
        action: 'unit.created',
        targetType: 'unit',
        targetId: id,
        ip,
        details: {
          kind: row!.kind,
          name: row!.name,
          slug: row!.slug,
          parentId: parent.id,
          timeZone: row!.timeZone,
        },
      });
      return row!;
    }),
  );
}

export interface UnitPatch {
  name?: string;
  slug?: string;
  timeZone?: string;
  parentId?: string;
}

/**
 * Renames, re-zones or moves a unit. A move rewrites the path of the unit and of every unit below it
 * in one statement, under a lock that serialises moves.
 */
export async function updateUnit(
  ctx: AppContext,
  actor: Actor,
  unitId: string,
  patch: UnitPatch,
  ip: string | null,
): Promise<UnitRow> {
  const current = await loadUnit(ctx, unitId);
  authorize(actor, 'unit.update', { type: 'unit', unitPath: current.path }, 'Unit');
  if (patch.parentId !== undefined && patch.parentId !== current.parentId)
    await parentFor(ctx, actor, patch.parentId);
  return insertOrConflict(() =>
    ctx.db.transaction(async (tx) => {
      const moving = patch.parentId !== undefined;
      if (moving) await tx.execute(sql`select pg_advisory_xact_lock(${TREE_LOCK_KEY})`);
      const [unit] = await tx.select().from(units).where(eq(units.id, unitId)).for('update');
      if (!unit) throw notFound('Unit');
      const changes = changesOf(unit, patch);
      if (Object.keys(changes).length === 0) return unit;
      const now = ctx.now();
      if (changes.parentId) {
        const [parent] = await tx.select().from(units).where(eq(units.id, patch.parentId!));
        if (!parent) throw notFound('Unit');
        if (wouldCycle(unit.path, parent.path))
          throw new AppError(
            'unit_cycle',
            422,
            'A unit cannot be moved under itself or one of its own units',
            {
              errors: [{ field: 'parentId', message: 'is this unit or lies below it' }],
            },
          );
        checkParentKind(unit.kind, parent);
        const newPath = `${parent.path}${unit.id}/`;
        await tx
          .update(units)
          .set({ path: sql`${newPath} || substr(${units.path}, ${unit.path.length + 1})`, updatedAt: now })
          .where(like(units.path, `${unit.path}%`));
      }
      const [row] = await tx
        .update(units)
        .set({
          name: patch.name,
          slug: patch.slug,
          timeZone: patch.timeZone,
          parentId: patch.parentId,
          updatedAt: now,
        })
        .where(eq(units.id, unit.id))
        .returning();
      await recordAudit(ctx, tx, {
        actorId: actor.userId,
        unitId: unit.id,
        action: 'unit.updated',
        targetType: 'unit',
        targetId: unit.id,
        ip,
        details: { changes },
      });
      return row!;
    }),
  );
}

/**
 * The organisation setting "submissions also wait in the national inbox directly" (on by default):
 * off, the national level sees only what a level below forwards. National admins only; it applies
 * to posts submitted from then on.
 */
/** Only the national unit's admins decide how posts reach the national inbox (403 for everyone else). */
function requireNationalAdmin(actor: Actor, unit: UnitRow): void {
  if (unit.parentId !== null || !atLeast(actor, 'admin'))
    throw forbidden('Only administrators of the national unit change how posts reach the national inbox');
}

/** Whether posts reach the national inbox directly at submission, as national admins see it. */
export async function reviewNationalDirect(ctx: AppContext, actor: Actor): Promise<boolean> {
  const unit = await loadUnit(ctx, actor.unitId);
  requireNationalAdmin(actor, unit);
  return unit.reviewNationalDirect;
}

export async function setReviewNationalDirect(
  ctx: AppContext,
  actor: Actor,
  on: boolean,
  ip: string | null,
): Promise<UnitRow> {
  return ctx.db.transaction(async (tx) => {
    const [unit] = await tx.select().from(units).where(eq(units.id, actor.unitId)).for('update');
    if (!unit) throw notFound('Unit');
    requireNationalAdmin(actor, unit);
    if (unit.reviewNationalDirect === on) return unit;
    const [row] = await tx
      .update(units)
      .set({ reviewNationalDirect: on, updatedAt: ctx.now() })
      .where(eq(units.id, unit.id))
      .returning();
    await recordAudit(ctx, tx, {
      actorId: actor.userId,
      unitId: unit.id,
      action: 'unit.updated',
      targetType: 'unit',
      targetId: unit.id,
      ip,
      details: { changes: { reviewNationalDirect: { from: unit.reviewNationalDirect, to: on } } },
    });
    return row!;
  });
}
