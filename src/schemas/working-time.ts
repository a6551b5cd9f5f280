import { z } from 'zod';
import { HOLIDAY_KINDS } from '../domain/vocabulary';

/** Inputs and views of the working calendar, shared by the API and the web forms. */

export const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine((value) => {
    const parsed = new Date(`${value}T00:00:00Z`);
    return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(value);
  }, 'is not a calendar date');

export const holidayName = z.string().trim().min(1).max(120);

/** `HH:MM`, 24:00 allowed as the end of a day. */
export const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be a time as HH:MM');

export const reviewWaitMinutes = z.number().int().min(15).max(10_080);

export const workDays = z.array(z.number().int().min(1).max(7)).min(1).max(7);

export const holidayView = z.object({
  id: z.uuid(),
  date: z.string(),
  name: z.string(),
  kind: z.enum(HOLIDAY_KINDS),
});

export const workingHours = z.object({
  days: z.array(z.number().int()),
  start: z.string(),
  end: z.string(),
  reviewWaitMinutes: z.number().int(),
  timeZone: z.string(),
});

export const holidayListQuery = z.strictObject({
  year: z.coerce.number().int().min(2000).max(2100).optional(),
});

export const holidayList = z.object({ year: z.number().int(), items: z.array(holidayView) });

export const holidayBody = z.strictObject({
  date: calendarDate,
  name: holidayName,
  kind: z.enum(HOLIDAY_KINDS),
});

export const workingHoursBody = z.strictObject({
  days: workDays,
  start: clockTime,
  end: clockTime,
  reviewWaitMinutes,
});
