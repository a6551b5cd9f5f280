import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors';
import {
  allocateSlots,
  fairOrder,
  freeSlots,
  nextFreeSlot,
  type SlotChannel,
  type SlotRequest,
  validateCron,
  validateTimeZone,
} from '../../src/domain/slots';

const at = (iso: string) => new Date(iso);
const iso = (date: Date | null | undefined) => date?.toISOString() ?? null;
const channel = (overrides: Partial<SlotChannel>): SlotChannel => ({
  crons: ['0 9 * * *'],
  timeZone: 'Asia/Jakarta',
  dailyCap: null,
  minSpacingMinutes: 0,
  ...overrides,
});

// 2025-03-03 is a Monday. WIB = UTC+7, WITA = UTC+8, WIT = UTC+9; none observes daylight saving.
const MONDAY_MIDNIGHT_UTC = at('2025-03-03T00:00:00Z');

describe('validateCron', () => {
  it.each(['0 9 * * *', '0 9,15 * * 1-5', '*/30 8-16 * * MON-FRI', '@daily', '0 9 L * *'])(
    'accepts %s',
    (expr) => {
      expect(validateCron(expr)).toBeNull();
    },
  );

  it.each([
    ['', 'Enter a cron expression'],
    ['* * * *', 'five fields'],
    ['0 0 9 * * *', 'five fields'],
    ['61 9 * * *', 'Not a valid cron expression'],
    ['0 9 30 2 *', 'Not a valid cron expression'],
    ['H 9 * * *', 'Random values'],
    ['@minutely', 'Unknown shortcut'],
    ['pagi', 'five fields'],
  ])('refuses %j with a message', (expr, message) => {
    expect(validateCron(expr)).toContain(message);
  });

  it('accepts month and weekday names that contain an H', () => {
    expect(validateCron('0 9 * MAR THU')).toBeNull();
  });
});

describe('validateTimeZone', () => {
  it('accepts the Indonesian zones and refuses an unknown one', () => {
    for (const zone of ['Asia/Jakarta', 'Asia/Pontianak', 'Asia/Makassar', 'Asia/Jayapura']) {
      expect(validateTimeZone(zone)).toBeNull();
    }
    expect(validateTimeZone('Asia/Bandung')).toContain('Unknown time zone');
  });
});

describe('nextFreeSlot', () => {
  it.each([
    ['Asia/Jakarta', '2025-03-03T02:00:00.000Z'],
    ['Asia/Makassar', '2025-03-03T01:00:00.000Z'],
    // 09:00 WIT is exactly `after`, and the slot must be strictly later: the next day.
    ['Asia/Jayapura', '2025-03-04T00:00:00.000Z'],
  ])('evaluates 09:00 in %s', (timeZone, expected) => {
    expect(iso(nextFreeSlot(channel({ timeZone }), [], MONDAY_MIDNIGHT_UTC))).toBe(expected);
  });

  it('skips a taken slot', () => {
    const wib = channel({ crons: ['0 9,13,17 * * *'] });
    expect(iso(nextFreeSlot(wib, [at('2025-03-03T02:00:00Z')], MONDAY_MIDNIGHT_UTC))).toBe(
      '2025-03-03T06:00:00.000Z',
    );
  });

  it('merges several expressions and counts a shared time once', () => {
    const wib = channel({ crons: ['0 9 * * *', '0 9,15 * * 1-5'] });
    expect(iso(nextFreeSlot(wib, [], at('2025-03-03T02:00:00Z')))).toBe('2025-03-03T08:00:00.000Z');
    const week = freeSlots(wib, [], MONDAY_MIDNIGHT_UTC, at('2025-03-10T00:00:00Z')).map(iso);
    // Monday to Friday at 09:00 and 15:00, Saturday and Sunday at 09:00.
    expect(week).toHaveLength(12);
    expect(week.slice(8)).toEqual([
      '2025-03-07T02:00:00.000Z',
      '2025-03-07T08:00:00.000Z',
      '2025-03-08T02:00:00.000Z',
      '2025-03-09T02:00:00.000Z',
    ]);
  });

  it('counts the daily cap per local day in WIT, not per UTC day', () => {
    // 08:00, 12:00, 16:00, 20:00 WIT are 23:00 (previous UTC day), 03:00, 07:00, 11:00 UTC.
    const wit = channel({ crons: ['0 8,12,16,20 * * *'], timeZone: 'Asia/Jayapura', dailyCap: 2 });
    const taken = [at('2025-03-02T23:00:00Z'), at('2025-03-03T03:00:00Z')]; // both on 3 March WIT
    expect(iso(nextFreeSlot(wit, taken, at('2025-03-03T03:30:00Z')))).toBe('2025-03-03T23:00:00.000Z');

    // Taken on 3 March UTC but on 4 March WIT: 3 March WIT is still open.
    const capOne = { ...wit, dailyCap: 1 };
    expect(iso(nextFreeSlot(capOne, [at('2025-03-03T23:00:00Z')], MONDAY_MIDNIGHT_UTC))).toBe(
      '2025-03-03T03:00:00.000Z',
    );
  });

  it('keeps the minimum spacing from taken times before and after the slot', () => {
    // Every half hour from 09:00 to 17:30 WITA, at least 90 minutes apart.
    const wita = channel({ crons: ['*/30 9-17 * * *'], timeZone: 'Asia/Makassar', minSpacingMinutes: 90 });
    const tenWita = at('2025-03-03T02:00:00Z');
    expect(iso(nextFreeSlot(wita, [tenWita], MONDAY_MIDNIGHT_UTC))).toBe('2025-03-03T03:30:00.000Z'); // 11:30
    const halfPastTwelve = at('2025-03-03T04:30:00Z');
    expect(iso(nextFreeSlot(wita, [tenWita, halfPastTwelve], MONDAY_MIDNIGHT_UTC))).toBe(
      '2025-03-03T06:00:00.000Z', // 14:00
    );
  });

  it('keeps spacing across midnight', () => {
    const wib = channel({ crons: ['0 0,1,2 * * *'], minSpacingMinutes: 120 });
    // 23:30 WIB on Monday is 16:30 UTC; 00:00 and 01:00 on Tuesday are too close.
    expect(iso(nextFreeSlot(wib, [at('2025-03-03T16:30:00Z')], at('2025-03-03T12:00:00Z')))).toBe(
      '2025-03-03T19:00:00.000Z',
    );
  });

  it('gives nothing when the horizon is full, and finds the slot with a longer horizon', () => {
    const daily = channel({ dailyCap: 1 });
    const taken = Array.from({ length: 40 }, (_, day) => new Date(Date.UTC(2025, 2, 3 + day, 2)));
    expect(nextFreeSlot(daily, taken, MONDAY_MIDNIGHT_UTC, 30)).toBeNull();
    expect(iso(nextFreeSlot(daily, taken, MONDAY_MIDNIGHT_UTC, 60))).toBe('2025-04-12T02:00:00.000Z');
  });

  it('has nothing to offer a channel without slots', () => {
    expect(nextFreeSlot(channel({ crons: [] }), [], MONDAY_MIDNIGHT_UTC)).toBeNull();
  });

  it('refuses a channel with an invalid slot or time zone', () => {
    expect(() => nextFreeSlot(channel({ crons: ['0 25 * * *'] }), [], MONDAY_MIDNIGHT_UTC)).toThrow(AppError);
    try {
      nextFreeSlot(channel({ timeZone: 'Indonesia/Medan' }), [], MONDAY_MIDNIGHT_UTC);
      expect.unreachable();
    } catch (error) {
      expect((error as AppError).code).toBe('invalid_time_zone');
    }
  });
});

describe('freeSlots', () => {
  const wib = channel({ crons: ['0 9,12,15 * * *'], dailyCap: 2, minSpacingMinutes: 60 });

  it('lists slots in [from, to) that can be booked now', () => {
    const from = at('2025-03-03T02:00:00Z'); // 09:00 WIB Monday, included
    const to = at('2025-03-04T08:00:00Z'); // 15:00 WIB Tuesday, excluded
    expect(freeSlots(wib, [], from, to).map(iso)).toEqual([
      '2025-03-03T02:00:00.000Z',
      '2025-03-03T05:00:00.000Z',
      '2025-03-03T08:00:00.000Z',
      '2025-03-04T02:00:00.000Z',
      '2025-03-04T05:00:00.000Z',
    ]);
  });

  it('leaves out full days and slots too close to a taken time', () => {
    const from = MONDAY_MIDNIGHT_UTC;
    const to = at('2025-03-05T00:00:00Z');
    const taken = [at('2025-03-03T02:00:00Z'), at('2025-03-03T05:00:00Z'), at('2025-03-04T05:30:00Z')];
    expect(freeSlots(wib, taken, from, to).map(iso)).toEqual([
      '2025-03-04T02:00:00.000Z',
      '2025-03-04T08:00:00.000Z',
    ]);
  });
});

describe('fair allocation across units', () => {
  const wib = channel({ crons: ['0 9,12,15,18 * * *'] });
  // The first twelve slots: 09:00, 12:00, 15:00, 18:00 WIB on 3, 4 and 5 March.
  const slot = (n: number) => {
    const day = Math.floor((n - 1) / 4);
    const hour = [2, 5, 8, 11][(n - 1) % 4] ?? 0;
    return new Date(Date.UTC(2025, 2, 3 + day, hour)).toISOString();
  };
  const requests = (unitId: string, count: number, firstIso: string): SlotRequest[] =>
    Array.from({ length: count }, (_, i) => ({
      id: `${unitId}-${i + 1}`,
      unitId,
      requestedAt: new Date(Date.parse(firstIso) + i * 60_000),
    }));

  it('gives a quiet office slots 2 and 4, not 11 and 12, when a busy office has 10 pending', () => {
    const busy = requests('kanim-medan', 10, '2025-03-01T01:00:00Z');
    const quiet = requests('kanim-ambon', 2, '2025-03-02T01:00:00Z');
    const allocation = allocateSlots(wib, [...quiet, ...busy].reverse(), [], MONDAY_MIDNIGHT_UTC);
    expect(allocation.size).toBe(12);
    expect(iso(allocation.get('kanim-ambon-1'))).toBe(slot(2));
    expect(iso(allocation.get('kanim-ambon-2'))).toBe(slot(4));
    expect(busy.map((request) => iso(allocation.get(request.id)))).toEqual(
      [1, 3, 5, 6, 7, 8, 9, 10, 11, 12].map(slot),
    );
  });

  it('shares scarce slots: with one day of horizon each office gets two', () => {
    const busy = requests('kanim-medan', 10, '2025-03-01T01:00:00Z');
    const quiet = requests('kanim-ambon', 2, '2025-03-02T01:00:00Z');
    const allocation = allocateSlots(wib, [...busy, ...quiet], [], MONDAY_MIDNIGHT_UTC, { horizonDays: 1 });
    expect([...allocation.entries()].map(([id, date]) => [id, iso(date)])).toEqual([
      ['kanim-medan-1', slot(1)],
      ['kanim-ambon-1', slot(2)],
      ['kanim-medan-2', slot(3)],
      ['kanim-ambon-2', slot(4)],
    ]);
    expect(allocation.has('kanim-medan-3')).toBe(false);
  });

  it('lets units take turns, the longest-waiting unit first, oldest request first within a unit', () => {
    const order = fairOrder([
      ...requests('kanim-medan', 3, '2025-03-01T02:00:00Z'),
      ...requests('kanim-jayapura', 3, '2025-03-01T03:00:00Z'),
      ...requests('kanim-makassar', 1, '2025-03-01T01:00:00Z'),
    ]).map((request) => request.id);
    expect(order).toEqual([
      'kanim-makassar-1',
      'kanim-medan-1',
      'kanim-jayapura-1',
      'kanim-medan-2',
      'kanim-jayapura-2',
      'kanim-medan-3',
      'kanim-jayapura-3',
    ]);
  });

  it('breaks ties between requests of the same moment by id', () => {
    const moment = at('2025-03-01T00:00:00Z');
    const order = fairOrder([
      { id: 'b', unitId: 'u', requestedAt: moment },
      { id: 'a', unitId: 'u', requestedAt: moment },
    ]).map((request) => request.id);
    expect(order).toEqual(['a', 'b']);
  });

  it('honours taken times, the daily cap and the spacing while allocating', () => {
    const capped = channel({ crons: ['0 9,10,12,15 * * *'], dailyCap: 2, minSpacingMinutes: 90 });
    const taken = [at('2025-03-03T02:00:00Z')]; // 09:00 WIB Monday
    const allocation = allocateSlots(
      capped,
      requests('kanim-medan', 3, '2025-03-01T00:00:00Z'),
      taken,
      MONDAY_MIDNIGHT_UTC,
    );
    expect([...allocation.values()].map(iso)).toEqual([
      '2025-03-03T05:00:00.000Z', // 12:00 Monday (10:00 is too close to 09:00); Monday is now full
      '2025-03-04T02:00:00.000Z', // 09:00 Tuesday
      '2025-03-04T05:00:00.000Z', // 12:00 Tuesday
    ]);
  });

  it('allocates nothing to nobody', () => {
    expect(allocateSlots(wib, [], [], MONDAY_MIDNIGHT_UTC).size).toBe(0);
  });
});

describe('fair share with history, blackouts and preferred starts', () => {
  const wib = channel({ crons: ['0 9,12,15,18 * * *'] });
  const request = (id: string, unitId: string, minutes: number, extra: Partial<SlotRequest> = {}) => ({
    id,
    unitId,
    requestedAt: new Date(MONDAY_MIDNIGHT_UTC.getTime() - minutes * 60_000),
    ...extra,
  });

  it('gives the next slot to the office that has had the fewest of the channel’s slots, not the longest wait', () => {
    const allocation = allocateSlots(
      wib,
      [request('busy-1', 'busy', 600), request('busy-2', 'busy', 590), request('quiet-1', 'quiet', 10)],
      [],
      MONDAY_MIDNIGHT_UTC,
      { usage: new Map([['busy', 5]]) },
    );
    expect(iso(allocation.get('quiet-1'))).toBe('2025-03-03T02:00:00.000Z');
    expect(iso(allocation.get('busy-1'))).toBe('2025-03-03T05:00:00.000Z');
    expect(iso(allocation.get('busy-2'))).toBe('2025-03-03T08:00:00.000Z');
  });

  it('among equals, keeps the earlier slot with the request that holds it', () => {
    const order = fairOrder([
      request('new', 'a', 0),
      request('holder', 'b', 0, { current: at('2025-03-03T02:00:00Z') }),
    ]).map((r) => r.id);
    expect(order).toEqual(['holder', 'new']);
  });

  it('uses no slot inside a blackout, and none at all after one without an end', () => {
    const blocked = [{ from: at('2025-03-03T01:00:00Z'), to: at('2025-03-03T06:00:00Z') }];
    const allocation = allocateSlots(
      wib,
      [request('a', 'a', 1), request('b', 'b', 0)],
      [],
      MONDAY_MIDNIGHT_UTC,
      {
        blocked,
      },
    );
    // 09:00 and 12:00 WIB (02:00, 05:00 UTC) fall inside; 15:00 and 18:00 are next.
    expect([iso(allocation.get('a')), iso(allocation.get('b'))]).toEqual([
      '2025-03-03T08:00:00.000Z',
      '2025-03-03T11:00:00.000Z',
    ]);
    expect(
      freeSlots(wib, [], MONDAY_MIDNIGHT_UTC, at('2025-03-04T00:00:00Z'), 10, [
        { from: at('2025-03-03T06:00:00Z'), to: null },
      ]).map(iso),
    ).toEqual(['2025-03-03T02:00:00.000Z', '2025-03-03T05:00:00.000Z']);
    expect(
      nextFreeSlot(wib, [], MONDAY_MIDNIGHT_UTC, 30, [{ from: MONDAY_MIDNIGHT_UTC, to: null }]),
    ).toBeNull();
  });

  it('leaves a slot free rather than give it to a post that may not start yet', () => {
    const allocation = allocateSlots(
      wib,
      [request('later', 'a', 5, { notBefore: at('2025-03-03T07:00:00Z') })],
      [],
      MONDAY_MIDNIGHT_UTC,
    );
    expect(iso(allocation.get('later'))).toBe('2025-03-03T08:00:00.000Z');
    const both = allocateSlots(
      wib,
      [request('later', 'a', 5, { notBefore: at('2025-03-03T07:00:00Z') }), request('now', 'b', 0)],
      [],
      MONDAY_MIDNIGHT_UTC,
    );
    expect([iso(both.get('now')), iso(both.get('later'))]).toEqual([
      '2025-03-03T02:00:00.000Z',
      '2025-03-03T08:00:00.000Z',
    ]);
  });
});
