import { type CronExpression, CronExpressionParser } from 'cron-parser';
import { unprocessable } from './errors';
import { isTimeZone } from './org';

/**
 * Posting slots: a channel publishes at the occurrences of its cron expressions, evaluated in
 * the channel's time zone, at most `dailyCap` times per local calendar day and never closer than
 * `minSpacingMinutes` to another publication. When several approved posts want the next slots,
 * they are shared fairly across the units they came from, and no slot inside a blackout is used.
 */

export interface SlotChannel {
  crons: string[];
  timeZone: string;
  dailyCap: number | null;
  minSpacingMinutes: number;
}

export interface SlotRequest {
  id: string;
  unitId: string;
  /** Since when it waits for a slot: among units with equal shares, the longest wait goes first. */
  requestedAt: Date;
  /** No slot before this time (the post's preferred start). */
  notBefore?: Date | null;
  /** The slot it holds now, if any: of two equal requests, the one holding the earlier slot keeps it. */
  current?: Date | null;
}

/** A period whose slots are not to be used: a blackout (`to` null: until further notice). */
export interface BlockedPeriod {
  from: Date;
  to: Date | null;
}

export const DEFAULT_HORIZON_DAYS = 30;
/** A calendar asking for more free slots than this gets the first ones only. */
export const MAX_FREE_SLOTS = 1000;

const DAY_MS = 24 * 60 * 60 * 1000;
const MINUTE_MS = 60 * 1000;
const MACROS = new Set([
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@hourly',
  '@weekdays',
  '@weekends',
]);
const EXAMPLE = 'for example "0 9,15 * * 1-5" for 09:00 and 15:00 on weekdays';

/** A message an admin can act on when `expr` cannot be a posting slot, else null. */
export function validateCron(expr: string): string | null {
  const trimmed = expr.trim();
  if (trimmed === '') return `Enter a cron expression, ${EXAMPLE}`;
  if (trimmed.startsWith('@')) {
    if (!MACROS.has(trimmed.toLowerCase())) {
      return `Unknown shortcut "${trimmed}"; use ${[...MACROS].join(', ')} or five fields, ${EXAMPLE}`;
    }
  } else {
    const fields = trimmed.split(/\s+/);
    if (fields.length !== 5) {
      return `A posting slot has five fields (minute hour day-of-month month day-of-week), ${EXAMPLE}; this one has ${fields.length}`;
    }
    // cron-parser's H picks a random minute or hour: a slot has to stay where the admin put it.
    if (fields.some((field) => field.split(',').some((part) => /^H(?:$|[/(])/i.test(part)))) {
      return 'Random values (H) are not allowed in posting slots; give exact minutes and hours';
    }
  }
  try {
    CronExpressionParser.parse(trimmed, { currentDate: new Date(0), tz: 'UTC' }).next();
  } catch (error) {
    return `Not a valid cron expression: ${error instanceof Error ? error.message : String(error)}`;
  }
  return null;
}

/** A message when `timeZone` is not an IANA time zone this runtime knows, else null. */
export function validateTimeZone(timeZone: string): string | null {
  return isTimeZone(timeZone)
    ? null
    : `Unknown time zone "${timeZone}"; use an IANA name such as Asia/Jakarta, Asia/Makassar or Asia/Jayapura`;
}

const dayFormatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar day (YYYY-MM-DD) of an instant in a time zone. */
export function localDay(ms: number, timeZone: string): string {
  let formatter = dayFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    dayFormatters.set(timeZone, formatter);
  }
  return formatter.format(ms);
}

/** The merged, ascending occurrences of several cron expressions from `fromMs` (inclusive). */
class OccurrenceCursor {
  private readonly pending: { cron: string; expression: CronExpression; at: number }[];

  constructor(
    crons: string[],
    private readonly timeZone: string,
    fromMs: number,
  ) {
    this.pending = [...new Set(crons.map((cron) => cron.trim()))].map((cron) => {
      const expression = this.open(cron, fromMs);
      return { cron, expression, at: expression.next().getTime() };
    });
  }

  private open(cron: string, fromMs: number): CronExpression {
    // next() is strictly after currentDate; one millisecond earlier makes `fromMs` itself eligible.
    return CronExpressionParser.parse(cron, { currentDate: new Date(fromMs - 1), tz: this.timeZone });
  }

  peek(): number | null {
    let min: number | null = null;
    for (const { at } of this.pending) if (min === null || at < min) min = at;
    return min;
  }

  /** Moves past every occurrence before `ms`. */
  skipTo(ms: number): void {
    for (const entry of this.pending) {
      // A few steps are cheaper than reopening when the next wanted occurrence is close.
      for (let step = 0; step < 3 && entry.at < ms; step++) entry.at = entry.expression.next().getTime();
      if (entry.at < ms) {
        entry.expression = this.open(entry.cron, ms);
        entry.at = entry.expression.next().getTime();
      }
    }
  }
}

/** Walks a channel's free slots in order, knowing which times are taken. */
class SlotFinder {
  private readonly taken: number[];
  private readonly perDay = new Map<string, number>();
  private readonly cursor: OccurrenceCursor;
  private readonly spacingMs: number;
  private readonly blocked: { from: number; to: number }[];

  constructor(
    private readonly channel: SlotChannel,
    taken: Date[],
    fromMs: number,
    private readonly endMs: number,
    blocked: readonly BlockedPeriod[] = [],
  ) {
    this.blocked = blocked.map((period) => ({
      from: period.from.getTime(),
      to: period.to?.getTime() ?? Infinity,
    }));
    for (const cron of channel.crons) {
      const problem = validateCron(cron);
      if (problem) throw unprocessable('invalid_slot', `Posting slot "${cron}": ${problem}`);
    }
    const zoneProblem = validateTimeZone(channel.timeZone);
    if (zoneProblem) throw unprocessable('invalid_time_zone', zoneProblem);
    this.taken = taken.map((date) => date.getTime()).sort((a, b) => a - b);
    for (const ms of this.taken) this.countDay(ms);
    this.spacingMs = Math.max(0, channel.minSpacingMinutes) * MINUTE_MS;
    this.cursor = new OccurrenceCursor(channel.crons, channel.timeZone, fromMs);
  }

  private countDay(ms: number): void {
    const day = localDay(ms, this.channel.timeZone);
    this.perDay.set(day, (this.perDay.get(day) ?? 0) + 1);
  }

  /** Index of the first taken time ≥ ms. */
  private lowerBound(ms: number): number {
    let lo = 0;
    let hi = this.taken.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.taken[mid] ?? 0) < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The latest taken time too close to `ms` (or equal to it), or null. */
  private latestConflict(ms: number): number | null {
    const end = this.spacingMs === 0 ? ms + 1 : ms + this.spacingMs;
    const index = this.lowerBound(end) - 1;
    const candidate = this.taken[index];
    if (candidate === undefined) return null;
    const conflicts = this.spacingMs === 0 ? candidate === ms : candidate > ms - this.spacingMs;
    return conflicts ? candidate : null;
  }

  /** The first free slot at or after the cursor, without taking it. */
  peekFree(): number | null {
    for (;;) {
      const at = this.cursor.peek();
      if (at === null || at > this.endMs) return null;
      const blackout = this.blocked.find((period) => period.from <= at && at < period.to);
      if (blackout) {
        if (blackout.to === Infinity) return null;
        this.cursor.skipTo(blackout.to);
        continue;
      }
      const cap = this.channel.dailyCap;
      if (cap !== null && (this.perDay.get(localDay(at, this.channel.timeZone)) ?? 0) >= cap) {
        this.cursor.skipTo(this.nextLocalMidnight(at));
        continue;
      }
      const conflict = this.latestConflict(at);
      if (conflict !== null) {
        this.cursor.skipTo(Math.max(at + 1, conflict + this.spacingMs));
        continue;
      }
      return at;
    }
  }

  skipPast(ms: number): void {
    this.cursor.skipTo(ms + 1);
  }

  take(ms: number): void {
    this.taken.splice(this.lowerBound(ms), 0, ms);
    this.countDay(ms);
  }

  private nextLocalMidnight(ms: number): number {
    return CronExpressionParser.parse('0 0 * * *', { currentDate: new Date(ms), tz: this.channel.timeZone })
      .next()
      .getTime();
  }
}

/**
 * The first occurrence strictly after `after` that is not taken, keeps the minimum spacing from
 * every taken time, and falls on a local day that has not reached the daily cap; null when
 * there is none within `horizonDays`.
 */
export function nextFreeSlot(
  channel: SlotChannel,
  taken: Date[],
  after: Date,
  horizonDays = DEFAULT_HORIZON_DAYS,
  blocked: readonly BlockedPeriod[] = [],
): Date | null {
  const finder = new SlotFinder(
    channel,
    taken,
    after.getTime() + 1,
    after.getTime() + horizonDays * DAY_MS,
    blocked,
  );
  const at = finder.peekFree();
  return at === null ? null : new Date(at);
}

/** The fair-share window: an office's use of a channel's slots counts over this many days. */
export const DEFAULT_FAIR_SHARE_DAYS = 7;

/**
 * Picks, request by request, who gets the next slot: the unit that has had the fewest of the
 * channel's slots (its `usage` over the fair-share window, plus what it has been given so far);
 * ties go to the unit whose next request has waited longest, then to the request already holding
 * the earlier slot, then by id. Within a unit, the longest-waiting request first.
 */
class FairPicker {
  private readonly queues = new Map<string, SlotRequest[]>();
  private readonly given = new Map<string, number>();

  constructor(
    requests: readonly SlotRequest[],
    private readonly usage: ReadonlyMap<string, number>,
  ) {
    for (const request of [...requests].sort(byWaiting)) {
      const queue = this.queues.get(request.unitId);
      if (queue) queue.push(request);
      else this.queues.set(request.unitId, [request]);
    }
  }

  get size(): number {
    let size = 0;
    for (const queue of this.queues.values()) size += queue.length;
    return size;
  }

  /** The request that gets a slot at `at` (null: none may start that early), removed from the queues. */
  take(at: number): SlotRequest | null {
    let best: { unitId: string; index: number; request: SlotRequest; used: number } | null = null;
    for (const [unitId, queue] of this.queues) {
      const index = queue.findIndex((request) => (request.notBefore?.getTime() ?? -Infinity) <= at);
      const request = queue[index];
      if (!request) continue;
      const used = (this.usage.get(unitId) ?? 0) + (this.given.get(unitId) ?? 0);
      if (!best || used < best.used || (used === best.used && byWaiting(request, best.request) < 0))
        best = { unitId, index, request, used };
    }
    if (!best) return null;
    const queue = this.queues.get(best.unitId)!;
    queue.splice(best.index, 1);
    if (queue.length === 0) this.queues.delete(best.unitId);
    this.given.set(best.unitId, (this.given.get(best.unitId) ?? 0) + 1);
    return best.request;
  }

  /** The earliest time any remaining request may start. */
  earliestStart(): number {
    let min = Infinity;
    for (const queue of this.queues.values())
      for (const request of queue) min = Math.min(min, request.notBefore?.getTime() ?? -Infinity);
    return min;
  }
}

function byWaiting(a: SlotRequest, b: SlotRequest): number {
  return (
    a.requestedAt.getTime() - b.requestedAt.getTime() ||
    (a.current?.getTime() ?? Infinity) - (b.current?.getTime() ?? Infinity) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/**
 * The order in which competing requests receive slots when every slot suits every request: the
 * unit with the fewest slots so far goes next (see `FairPicker`), so units take turns, the one
 * waiting longest first.
 */
export function fairOrder(
  requests: SlotRequest[],
  usage: ReadonlyMap<string, number> = new Map(),
): SlotRequest[] {
  const picker = new FairPicker(requests, usage);
  const order: SlotRequest[] = [];
  for (let request = picker.take(Infinity); request; request = picker.take(Infinity)) order.push(request);
  return order;
}

export interface AllocationOptions {
  /** Slots each unit has had on the channel over the fair-share window. */
  usage?: ReadonlyMap<string, number>;
  /** Periods whose slots are neither offered nor given (blackouts). */
  blocked?: readonly BlockedPeriod[];
  horizonDays?: number;
}

/**
 * Gives the next free slots after `after` to competing requests, fairly across their units (see
 * `FairPicker`); a slot before every remaining request's `notBefore` stays free. A request that
 * finds no slot within the horizon is absent from the result.
 */
export function allocateSlots(
  channel: SlotChannel,
  requests: SlotRequest[],
  taken: Date[],
  after: Date,
  options: AllocationOptions = {},
): Map<string, Date> {
  const allocation = new Map<string, Date>();
  if (requests.length === 0) return allocation;
  const horizonDays = options.horizonDays ?? DEFAULT_HORIZON_DAYS;
  const finder = new SlotFinder(
    channel,
    taken,
    after.getTime() + 1,
    after.getTime() + horizonDays * DAY_MS,
    options.blocked,
  );
  const picker = new FairPicker(requests, options.usage ?? new Map());
  while (picker.size > 0) {
    const at = finder.peekFree();
    if (at === null) break;
    const request = picker.take(at);
    if (!request) {
      finder.skipPast(Math.max(at, picker.earliestStart() - 1));
      continue;
    }
    finder.take(at);
    allocation.set(request.id, new Date(at));
  }
  return allocation;
}

/**
 * Slots in [from, to) that could be booked now, each judged against the taken times alone
 * (booking one may rule out a neighbour through spacing or the daily cap).
 */
export function freeSlots(
  channel: SlotChannel,
  taken: Date[],
  from: Date,
  to: Date,
  limit = MAX_FREE_SLOTS,
  blocked: readonly BlockedPeriod[] = [],
): Date[] {
  const slots: Date[] = [];
  const finder = new SlotFinder(channel, taken, from.getTime(), to.getTime() - 1, blocked);
  while (slots.length < limit) {
    const at = finder.peekFree();
    if (at === null) break;
    slots.push(new Date(at));
    finder.skipPast(at);
  }
  return slots;
}
