import type { Locale } from '../domain/vocabulary';

/**
 * Dates and times as people in Indonesia read them: in the viewer's unit time zone, labelled
 * WIB / WITA / WIT, and the conversions between a form's local time and an instant.
 */

const INDONESIAN_ZONES: Record<string, string> = {
  'Asia/Jakarta': 'WIB',
  'Asia/Pontianak': 'WIB',
  'Asia/Makassar': 'WITA',
  'Asia/Jayapura': 'WIT',
};

/** The organisation's time zones (WIB, WITA, WIT), offered wherever a unit or a channel picks one. */
export const ZONES = Object.keys(INDONESIAN_ZONES);

/** WIB / WITA / WIT for Indonesia's zones; elsewhere the offset ("GMT+9"). */
export function zoneLabel(zone: string, at: Date = new Date()): string {
  const known = INDONESIAN_ZONES[zone];
  if (known) return known;
  const part = new Intl.DateTimeFormat('en', { timeZone: zone, timeZoneName: 'shortOffset' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName');
  return part?.value ?? zone;
}

const intlLocale = (locale: Locale) => (locale === 'id' ? 'id-ID' : 'en-GB');

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(locale: Locale, zone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${zone}|${JSON.stringify(options)}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat(intlLocale(locale), { timeZone: zone, ...options });
    formatters.set(key, found);
  }
  return found;
}

const DATE: Intl.DateTimeFormatOptions = {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
};
const TIME: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };

/** "Jum, 27 Nov 2026 21.42 WIB". */
export const formatDateTime = (at: Date, locale: Locale, zone: string) =>
  `${formatter(locale, zone, DATE).format(at)} ${formatter(locale, zone, TIME).format(at)} ${zoneLabel(zone, at)}`;

/** "21.42 WIB". */
export const formatTime = (at: Date, locale: Locale, zone: string) =>
  `${formatter(locale, zone, TIME).format(at)} ${zoneLabel(zone, at)}`;

/** "21.42", for tight places where the zone is stated once nearby. */
export const formatClock = (at: Date, locale: Locale, zone: string) =>
  formatter(locale, zone, TIME).format(at);

/** "Jum, 27 Nov 2026". */
export const formatDate = (at: Date, locale: Locale, zone: string) =>
  formatter(locale, zone, DATE).format(at);

/** "November 2026". */
export const formatMonth = (at: Date, locale: Locale, zone: string) =>
  formatter(locale, zone, { month: 'long', year: 'numeric' }).format(at);

/** "Sen 23" for the head of a calendar column. */
export const formatDayHead = (at: Date, locale: Locale, zone: string) =>
  formatter(locale, zone, { weekday: 'short', day: 'numeric' }).format(at);

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock reading of an instant in a zone. */
export function localParts(at: Date, zone: string): LocalParts {
  let found = partsFormatters.get(zone);
  if (!found) {
    // Built once per zone: building one costs far more than reading an instant with it.
    found = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    });
    partsFormatters.set(zone, found);
  }
  const parts = found.formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
  };
}

/** The instant a wall-clock reading denotes in a zone (the later one in a repeated hour). */
export function instantOf(local: LocalParts, zone: string): Date {
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
  let guess = wall;
  // Two rounds settle the zone's offset at that moment, also across an offset change.
  for (let round = 0; round < 2; round += 1) {
    const seen = localParts(new Date(guess), zone);
    const seenWall = Date.UTC(seen.year, seen.month - 1, seen.day, seen.hour, seen.minute);
    guess += wall - seenWall;
  }
  return new Date(guess);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The value of an `<input type="datetime-local">` showing an instant in a zone. */
export function toLocalInput(at: Date, zone: string): string {
  const p = localParts(at, zone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
}

/** A datetime-local value read in a zone; null when it is not one. */
export function fromLocalInput(value: string, zone: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?$/.exec(value.trim());
  if (!match) return null;
  const [year, month, day, hour, minute] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return null;
  return instantOf({ year, month, day, hour, minute }, zone);
}

/** A calendar day, "YYYY-MM-DD". */
export type DayKey = string;

export function dayKeyOf(at: Date, zone: string): DayKey {
  const p = localParts(at, zone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}

export function parseDayKey(value: string | undefined): DayKey | null {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const date = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value ? null : value;
}

/** Calendar arithmetic on day keys, independent of any zone. */
export function addDays(day: DayKey, days: number): DayKey {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** Monday of the day's week (weeks start on Monday in Indonesia). */
export function weekStart(day: DayKey): DayKey {
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
  return addDays(day, -((weekday + 6) % 7));
}

export const monthStart = (day: DayKey): DayKey => `${day.slice(0, 7)}-01`;

export function addMonths(day: DayKey, months: number): DayKey {
  const date = new Date(`${monthStart(day)}T00:00:00Z`);
  date.setUTCMonth(date.getUTCMonth() + months);
  return date.toISOString().slice(0, 10);
}

/** The instant a day begins in a zone. */
export function startOfDay(day: DayKey, zone: string): Date {
  const [year, month, dayOfMonth] = day.split('-').map(Number) as [number, number, number];
  return instantOf({ year, month, day: dayOfMonth, hour: 0, minute: 0 }, zone);
}
