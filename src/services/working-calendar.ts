import { and, asc, eq, gte, lt } from 'drizzle-orm';
import type { AppContext } from '../context';
import { uniqueViolation } from '../db/errors';
import { holidays, units } from '../db/schema';
import { AppError, notFound } from '../domain/errors';
import { type Actor, authorize, decide } from '../domain/permissions';
import type { HolidayKind } from '../domain/vocabulary';
import { clockOf, minuteOf } from '../domain/working-time';
import { recordAudit } from './audit';
import { listVisibleUnits, loadUnit, type UnitRow } from './units';

/**
 * The settings behind waiting times: each unit's working days and hours and how long a post may wait
 * for it, and the organisation's days off (public holidays and collective leave days), which the
 * national admins enter each year.
 */

export interface HolidayView {
  id: string;
  date: string;
  name: string;
  kind: HolidayKind;
}

const holidayView = (row: typeof holidays.$inferSelect): HolidayView => ({
  id: row.id,
  date: row.date,
  name: row.name,
  kind: row.kind,
});

/** The days off of one year, in date order. */
export async function listHolidays(ctx: AppContext, actor: Actor, year: number): Promise<HolidayView[]> {
  authorize(actor, 'holiday.read', { type: 'holidays' }, 'Holiday');
  const rows = await ctx.db
    .select()
    .from(holidays)
    .where(and(gte(holidays.date, `${year}-01-01`), lt(holidays.date, `${year + 1}-01-01`)))
    .orderBy(asc(holidays.date));
  return rows.map(holidayView);
}

export async function addHoliday(
  ctx: AppContext,
  actor: Actor,
  input: { date: string; name: string; kind: HolidayKind },
  ip: string | null,
): Promise<HolidayView> {
  authorize(actor, 'holiday.manage', { type: 'holidays' }, 'Holiday');
  try {
    return await ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(holidays)
        .values({ ...input, createdBy: actor.userId, createdAt: ctx.now() })
        .returning();
      await recordAudit(ctx, tx, {
        actorId: actor.userId,
        unitId: actor.unitId,
        action: 'holiday.added',
        targetType: 'holiday',
        targetId: row!.id,
        ip,
        details: { date: input.date, name: input.name, kind: input.kind },
      });
      return holidayView(row!);
    });
  } catch (error) {
    if (uniqueViolation(error) === 'holidays_date_key')
      throw new AppError('holiday_exists', 409, 'That date is already in the list', {
        errors: [{ field: 'date', message: 'already listed', code: 'duplicate' }],
      });
    throw error;
  }
}

export async function removeHoliday(
  ctx: AppContext,
  actor: Actor,
  id: string,
  ip: string | null,
): Promise<void> {
  authorize(actor, 'holiday.manage', { type: 'holidays' }, 'Holiday');
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx.delete(holidays).where(eq(holidays.id, id)).returning();
    if (!row) throw notFound('Holiday');
    await recordAudit(ctx, tx, {
      actorId: actor.userId,
      unitId: actor.unitId,
      action: 'holiday.removed',
      targetType: 'holiday',
      targetId: id,
      ip,
      details: { date: row.date, name: row.name },
    });
  });
}

export interface WorkingHoursView {
  /** ISO weekdays, 1 = Monday. */
  days: number[];
  start: string;
  end: string;
  reviewWaitMinutes: number;
  timeZone: string;
}

/** A unit the actor may see, or 404. */
async function readableUnit(ctx: AppContext, actor: Actor, unitId: string): Promise<UnitRow> {
  const unit = await loadUnit(ctx, unitId);
  authorize(actor, 'unit.read', { type: 'unit', unitPath: unit.path }, 'Unit');
  return unit;
}

export async function loadWorkingHours(
  ctx: AppContext,
  actor: Actor,
  unitId: string,
): Promise<WorkingHoursView> {
  return workingHoursOf(await readableUnit(ctx, actor, unitId));
}

function workingHoursOf(row: UnitRow): WorkingHoursView {
  return {
    days: [...row.workDays].sort(),
    start: clockOf(row.workStartMinute),
    end: clockOf(row.workEndMinute),
    reviewWaitMinutes: row.reviewWaitMinutes,
    timeZone: row.timeZone,
  };
}

export async function saveWorkingHours(
  ctx: AppContext,
  actor: Actor,
  unitId: string,
  input: { days: number[]; start: string; end: string; reviewWaitMinutes: number },
  ip: string | null,
): Promise<WorkingHoursView> {
  const unit = await loadUnit(ctx, unitId);
  authorize(actor, 'unit.update', { type: 'unit', unitPath: unit.path }, 'Unit');
  const start = minuteOf(input.start);
  const end = minuteOf(input.end);
  if (start === null || end === null || start >= end)
    throw new AppError('working_hours_invalid', 422, 'The working day must start before it ends', {
      errors: [{ field: 'end', message: 'must be after the start', code: 'order' }],
    });
  await ctx.db.transaction(async (tx) => {
    const [before] = await tx.select().from(units).where(eq(units.id, unitId)).for('update');
    if (!before) throw notFound('Unit');
    const days = [...new Set(input.days)].sort();
    await tx
      .update(units)
      .set({
        workDays: days,
        workStartMinute: start,
        workEndMinute: end,
        reviewWaitMinutes: input.reviewWaitMinutes,
        updatedAt: ctx.now(),
      })
      .where(eq(units.id, unitId));
    await recordAudit(ctx, tx, {
      actorId: actor.userId,
      unitId,
      action: 'unit.working_hours',
      targetType: 'unit',
      targetId: unitId,
      ip,
      details: { days, start: input.start, end: input.end, reviewWaitMinutes: input.reviewWaitMinutes },
    });
  });
  return workingHoursOf(await loadUnit(ctx, unitId));
}

/** The days off of a year and the working hours of one unit, with what the actor may change. */
export interface WorkingTime {
  holidays: HolidayView[];
  managesHolidays: boolean;
  /** The units the actor sees, and the shown one. */
  units: UnitRow[];
  unit: UnitRow;
  hours: WorkingHoursView;
  managesUnit: boolean;
}

/** The working-time page of a year, for one unit (default: the actor's). */
export async function workingTime(
  ctx: AppContext,
  actor: Actor,
  options: { year: number; unitId?: string },
): Promise<WorkingTime> {
  authorize(actor, 'holiday.read', { type: 'holidays' }, 'Holiday');
  const units = await listVisibleUnits(ctx, actor);
  const unit = await readableUnit(ctx, actor, options.unitId ?? actor.unitId);
  return {
    holidays: await listHolidays(ctx, actor, options.year),
    managesHolidays: decide(actor, 'holiday.manage', { type: 'holidays' }) === 'allow',
    units: units.some((u) => u.id === unit.id) ? units : [unit, ...units],
    unit,
    hours: workingHoursOf(unit),
    managesUnit: decide(actor, 'unit.update', { type: 'unit', unitPath: unit.path }) === 'allow',
  };
}
