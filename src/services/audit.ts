import { and, desc, eq, gte, isNull, like, lt, lte, or, type SQL } from 'drizzle-orm';
import type { AppContext } from '../context';
import type { DbOrTx } from '../db/client';
import { auditEvents, units, users } from '../db/schema';
import { notFoundAt } from '../domain/errors';
import { type Actor, authorize } from '../domain/permissions';

/**
 * The audit trail of sign-ins, tokens, users and units: who, when, from which address, what
 * changed. Written in the same transaction as the change it describes; never holds secrets.
 */

export interface AuditEntry {
  actorId: string | null;
  /** The unit the event concerns; admins see the events of their subtree. */
  unitId: string | null;
  action: string;
  targetType?: string;
  targetId?: string;
  ip: string | null;
  details?: Record<string, unknown>;
}

export async function recordAudit(ctx: AppContext, db: DbOrTx, entry: AuditEntry): Promise<void> {
  await db.insert(auditEvents).values({
    actorId: entry.actorId,
    unitId: entry.unitId,
    action: entry.action,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    ip: entry.ip,
    details: entry.details ?? {},
    createdAt: ctx.now(),
  });
}

/** `{ field: { from, to } }` for the fields whose value differs. */
export function changesOf<T extends Record<string, unknown>>(before: T, after: Partial<T>) {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const [field, to] of Object.entries(after))
    if (to !== undefined && before[field] !== to) changes[field] = { from: before[field], to };
  return changes;
}

export interface AuditView {
  id: string;
  at: string;
  action: string;
  actor: { id: string; name: string } | null;
  unit: { id: string; name: string } | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

export interface AuditQuery {
  action?: string;
  from?: Date;
  to?: Date;
  /** The id of the last event of the previous page. */
  cursor?: string;
  limit: number;
}

/**
 * Events of the subtree of `unitId` (default: the actor's unit), newest first, for the admins over it.
 * Events tied to no unit (a failed sign-in with an unknown e-mail) belong to the root and show only in
 * its trail.
 */
export async function listAudit(
  ctx: AppContext,
  actor: Actor,
  query: AuditQuery & { unitId?: string },
): Promise<{ events: AuditView[]; nextCursor: string | null }> {
  const [scope] = await ctx.db
    .select({ path: units.path, parentId: units.parentId })
    .from(units)
    .where(eq(units.id, query.unitId ?? actor.unitId));
  if (!scope) throw notFoundAt('Unit', 'unitId');
  authorize(actor, 'audit.read', { type: 'audit', unitPath: scope.path }, 'Unit', query.unitId && 'unitId');
  const inScope = like(units.path, `${scope.path}%`);
  const conditions: (SQL | undefined)[] = [
    scope.parentId === null ? or(inScope, isNull(auditEvents.unitId)) : inScope,
    query.action ? eq(auditEvents.action, query.action) : undefined,
    query.from ? gte(auditEvents.createdAt, query.from) : undefined,
    query.to ? lte(auditEvents.createdAt, query.to) : undefined,
    query.cursor ? lt(auditEvents.id, Number(query.cursor)) : undefined,
  ];
  const rows = await ctx.db
    .select({
      id: auditEvents.id,
      createdAt: auditEvents.createdAt,
      action: auditEvents.action,
      actorId: auditEvents.actorId,
      actorName: users.name,
      unitId: auditEvents.unitId,
      unitName: units.name,
      targetType: auditEvents.targetType,
      targetId: auditEvents.targetId,
      ip: auditEvents.ip,
      details: auditEvents.details,
    })
    .from(auditEvents)
    .leftJoin(units, eq(units.id, auditEvents.unitId))
    .leftJoin(users, eq(users.id, auditEvents.actorId))
    .where(and(...conditions))
    .orderBy(desc(auditEvents.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  return {
    events: page.map((row) => ({
      id: String(row.id),
      at: row.createdAt.toISOString(),
      action: row.action,
      actor: row.actorId ? { id: row.actorId, name: row.actorName ?? '' } : null,
      unit: row.unitId ? { id: row.unitId, name: row.unitName ?? '' } : null,
      targetType: row.targetType,
      targetId: row.targetId,
      ip: row.ip,
      details: row.details,
    })),
    nextCursor: rows.length > query.limit ? String(page.at(-1)!.id) : null,
  };
}
