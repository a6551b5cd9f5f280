import { describe, expect, it } from 'vitest';
import {
  addWorkingMinutes,
  DEFAULT_WORKING_HOURS,
  instantAt,
  isoWeekday,
  localTime,
  minuteOf,
  type WorkingCalendar,
  workingMinutesBetween,
} from '../../src/domain/working-time';

const calendar = (timeZone: string, holidays: string[] = []): WorkingCalendar => ({
  timeZone,
  ...DEFAULT_WORKING_HOURS,
  holidays: new Set(holidays),
});
const WIB = calendar('Asia/Jakarta');
const WITA = calendar('Asia/Makassar');
const WIT = calendar('Asia/Jayapura');
const at = (iso: string) => new Date(iso);

describe('working time', () => {
  it('counts within one working day', () => {
    // Monday 7 December 2026, 09:00 WIB.
    expect(addWorkingMinutes(at('2026-12-07T09:00:00+07:00'), 240, WIB)).toEqual(
      at('2026-12-07T13:00:00+07:00'),
    );
  });

  it('carries what is left of a day over to the next morning', () => {
    expect(addWorkingMinutes(at('2026-12-07T14:00:00+07:00'), 240, WIB)).toEqual(
      at('2026-12-08T10:00:00+07:00'),
    );
  });

  it('skips the weekend', () => {
    // Friday 15:00: one hour on Friday, three on Monday.
    expect(addWorkingMinutes(at('2026-12-11T15:00:00+07:00'), 240, WIB)).toEqual(
      at('2026-12-14T11:00:00+07:00'),
    );
    // Submitted on Saturday night: the clock starts on Monday morning.
    expect(addWorkingMinutes(at('2026-12-12T22:00:00+07:00'), 240, WIB)).toEqual(
      at('2026-12-14T12:00:00+07:00'),
    );
  });

  it('skips public holidays and collective leave days', () => {
    // Christmas (Friday 25th) and the cuti bersama before it (Thursday 24th).
    const festive = calendar('Asia/Jakarta', ['2026-12-24', '2026-12-25']);
    expect(addWorkingMinutes(at('2026-12-23T15:00:00+07:00'), 240, festive)).toEqual(
      at('2026-12-28T11:00:00+07:00'),
    );
    expect(
      workingMinutesBetween(at('2026-12-23T15:00:00+07:00'), at('2026-12-28T11:00:00+07:00'), festive),
    ).toBe(240);
  });

  it('counts in the unit’s own time zone: WIB, WITA and WIT', () => {
    // 07:00 UTC is 14:00 WIB, 15:00 WITA and 16:00 WIT (closing time in Jayapura).
    const start = at('2026-12-07T07:00:00Z');
    expect(addWorkingMinutes(start, 60, WIB)).toEqual(at('2026-12-07T08:00:00Z'));
    expect(addWorkingMinutes(start, 60, WITA)).toEqual(at('2026-12-07T08:00:00Z'));
    expect(addWorkingMinutes(start, 60, WIT)).toEqual(at('2026-12-08T09:00:00+09:00'));
    // Tuesday 00:00 UTC is 09:00 WIT but 07:00 WIB, before opening time.
    expect(workingMinutesBetween(start, at('2026-12-08T00:00:00Z'), WIT)).toBe(60);
    expect(workingMinutesBetween(start, at('2026-12-08T00:00:00Z'), WIB)).toBe(120);
  });

  it('follows a unit’s own working hours and days', () => {
    // Open Monday to Saturday, 07:30–16:00.
    const own: WorkingCalendar = { ...WIB, days: [1, 2, 3, 4, 5, 6], startMinute: 450, endMinute: 960 };
    expect(addWorkingMinutes(at('2026-12-11T15:00:00+07:00'), 240, own)).toEqual(
      at('2026-12-12T10:30:00+07:00'),
    );
  });

  it('counts working minutes between two instants', () => {
    expect(workingMinutesBetween(at('2026-12-11T15:00:00+07:00'), at('2026-12-14T09:00:00+07:00'), WIB)).toBe(
      120,
    );
    expect(workingMinutesBetween(at('2026-12-12T09:00:00+07:00'), at('2026-12-13T15:00:00+07:00'), WIB)).toBe(
      0,
    );
    expect(workingMinutesBetween(at('2026-12-14T09:00:00+07:00'), at('2026-12-11T09:00:00+07:00'), WIB)).toBe(
      0,
    );
  });

  it('is the inverse of adding, across days, weekends and holidays', () => {
    const festive = calendar('Asia/Makassar', ['2026-12-24', '2026-12-25', '2027-01-01']);
    let start = at('2026-12-01T00:17:00Z');
    for (let i = 0; i < 200; i++) {
      const minutes = (i * 37) % 1_500;
      const end = addWorkingMinutes(start, minutes, festive);
      expect(workingMinutesBetween(start, end, festive)).toBeCloseTo(minutes, 6);
      start = new Date(start.getTime() + 3 * 3_600_000 + 11 * 60_000);
    }
  });

  it('refuses a calendar without working time', () => {
    expect(() => addWorkingMinutes(new Date(), 60, { ...WIB, days: [] })).toThrow(RangeError);
    expect(() => addWorkingMinutes(new Date(), 60, { ...WIB, startMinute: 960, endMinute: 480 })).toThrow(
      RangeError,
    );
  });

  it('converts wall-clock times of a zone, also across a daylight saving change', () => {
    expect(instantAt('2026-12-07', 8 * 60, 'Asia/Jayapura')).toEqual(at('2026-12-06T23:00:00Z'));
    expect(instantAt('2026-03-29', 3 * 60 + 30, 'Europe/Berlin')).toEqual(at('2026-03-29T01:30:00Z'));
    expect(localTime(at('2026-12-06T23:00:00Z'), 'Asia/Jayapura')).toEqual({
      date: '2026-12-07',
      minute: 480,
      weekday: 1,
    });
    expect(isoWeekday('2026-12-13')).toBe(7);
    expect(minuteOf('07:30')).toBe(450);
    expect(minuteOf('24:00')).toBe(1440);
    expect(minuteOf('7:30')).toBeNull();
    expect(minuteOf('24:30')).toBeNull();
  });
});
