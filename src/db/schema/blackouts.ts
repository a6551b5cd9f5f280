import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { BLACKOUT_ON_END, type BlackoutOnEnd } from '../../domain/vocabulary';
import { createdAt, id, oneOf, tstz } from './columns';
import { units, users } from './org';

/**
 * A period in which the channels of a unit's subtree (or only the listed ones) publish nothing:
 * national mourning, an election quiet period, an emergency stop (no end until lifted).
 */
export const blackouts = pgTable(
  'blackouts',
  {
    id: id(),
    unitId: uuid('unit_id')
      .notNull()
      .references(() => units.id, { onDelete: 'restrict' }),
    startsAt: tstz('starts_at').notNull(),
    /** Null: until someone lifts it. */
    endsAt: tstz('ends_at'),
    reason: text('reason').notNull(),
    /** Only these channels of the subtree; null: all of them. */
    channelIds: uuid('channel_ids').array(),
    onEnd: text('on_end').$type<BlackoutOnEnd>().notNull(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    /** When the deliveries that fell due inside were rescheduled or held (once, after the end). */
    settledAt: tstz('settled_at'),
    createdAt: createdAt(),
  },
  (t) => [
    oneOf('blackouts_on_end_check', t.onEnd, BLACKOUT_ON_END),
    check('blackouts_period_check', sql`${t.endsAt} is null or ${t.endsAt} > ${t.startsAt}`),
    // The claim's check and the banner: blackouts not yet settled.
    index('blackouts_open_idx').on(t.startsAt).where(sql`${t.settledAt} is null`),
  ],
);
