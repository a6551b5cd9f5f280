/**
 * Working time: how long a post has waited for a unit counts only the unit's working hours, in its
 * time zone, on its working days, leaving out public holidays and collective leave days (cuti
 * bersama). Pure: the calendar is given, nothing is read.
 */

export interface WorkingCalendar {
  timeZone: string;
  /** ISO weekdays worked: 1 = Monday … 7 = Sunday. */
  days: readonly number[];
  /** Minutes after local midnight: the working day is [start, end). */
  startMinute: number;
  endMinute: number;
  /** Local dates (`YYYY-MM-DD`) off work: public holidays and collective leave days. */
  holidays: ReadonlySet<string>;
}

/** Mon–Fri 08:00–16:00, the default of a unit that set nothing else. */
export const DEFAULT_WORKING_HOURS = { days: [1, 2, 3, 4, 5], startMinute: 8 * 60, endMinute: 16 * 60 };
/** How long a post may wait for a unit unless it says otherwise: 4 working hours. */
export const DEFAULT_REVIEW_WAIT_MINUTES = 4 * 60;

/** A calendar that never reaches a working minute would loop for ever; ten years is beyond any wait. */
const MAX_DAYS = 3_660;
const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

export interface LocalTime {
  /** `YYYY-MM-DD` in the zone. */
  date: string;
  /** Minutes after local midnight, with seconds as a fraction. */
  minute: number;
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  weekday: number;
}

/** The wall-clock date, time and weekday of an instant in a zone. */
export function localTime(at: Date, timeZone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(at)) parts[part.type] = part.value;
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  const minute =
    Number(parts.hour) * 60 +
    Number(parts.minute) +
    (Number(parts.second) + at.getUTCMilliseconds() / 1000) / 60;
  return { date, minute, weekday: isoWeekday(date) };
}

const dayNumber = (date: string) => Date.parse(`${date}T00:00:00Z`) / DAY_MS;
const dateOfDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** The ISO weekday of a calendar date. */
export function isoWeekday(date: string): number {
  const sunday0 = new Date(dayNumber(date) * DAY_MS).getUTCDay();
  return sunday0 === 0 ? 7 : sunday0;
}

/** The date `days` after (or before) `date`. */
export const addDays = (date: string, days: number) => dateOfDay(dayNumber(date) + days);

/** The instant at which the zone's clock shows `minute` minutes after midnight of `date`. */
export function instantAt(date: string, minute: number, timeZone: string): Date {
  const wall = dayNumber(date) * DAY_MS + minute * 60_000;
  // The zone's offset at a guess, then again at the corrected guess (enough across one DST change).
  const offsetAt = (instant: number) => {
    const local = localTime(new Date(instant), timeZone);
    return dayNumber(local.date) * DAY_MS + Math.round(local.minute * 60_000) - instant;
  };
  const first = wall - offsetAt(wall);
  return new Date(wall - offsetAt(first));
}

function checkCalendar(calendar: WorkingCalendar): void {
  if (
    calendar.days.length === 0 ||
    !(calendar.startMinute >= 0 && calendar.endMinute <= 24 * 60 && calendar.startMinute < calendar.endMinute)
  )
    throw new RangeError('A working calendar needs at least one working day and a start before its end');
}

const isWorkingDay = (calendar: WorkingCalendar, date: string) =>
  calendar.days.includes(isoWeekday(date)) && !calendar.holidays.has(date);

/** The instant after `start` at which `minutes` working minutes have passed. */
export function addWorkingMinutes(start: Date, minutes: number, calendar: WorkingCalendar): Date {
  checkCalendar(calendar);
  if (minutes <= 0) return start;
  const here = localTime(start, calendar.timeZone);
  let date = here.date;
  let from = here.minute;
  let remaining = minutes;
  for (let day = 0; day < MAX_DAYS; day++) {
    if (isWorkingDay(calendar, date)) {
      const open = Math.max(from, calendar.startMinute);
      const available = calendar.endMinute - open;
      if (available > 0) {
        if (remaining <= available) return instantAt(date, open + remaining, calendar.timeZone);
        remaining -= available;
      }
    }
    date = addDays(date, 1);
    from = 0;
  }
  throw new RangeError('No working time within ten years');
}

/** Working minutes between two instants (0 when `to` is not after `from`). */
export function workingMinutesBetween(from: Date, to: Date, calendar: WorkingCalendar): number {
  checkCalendar(calendar);
  if (to <= from) return 0;
  const start = localTime(from, calendar.timeZone);
  const end = localTime(to, calendar.timeZone);
  let total = 0;
  for (let date = start.date, day = 0; date <= end.date && day < MAX_DAYS; date = addDays(date, 1), day++) {
    if (!isWorkingDay(calendar, date)) continue;
    const open = Math.max(calendar.startMinute, date === start.date ? start.minute : 0);
    const close = Math.min(calendar.endMinute, date === end.date ? end.minute : 24 * 60);
    if (close > open) total += close - open;
  }
  return total;
}

/** `HH:MM` for minutes after midnight. */
export const clockOf = (minute: number) =>
  `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;

/** Minutes after midnight from `HH:MM` (24:00 allowed as the end of a day); null when malformed. */
export function minuteOf(clock: string): number | null {
  const match = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(clock);
  if (!match) return null;
  const minute = Number(match[1]) * 60 + Number(match[2]);
  return minute <= 24 * 60 ? minute : null;
}
