import { blackoutsTable } from './blackouts';
import { channelsTable } from './channels';
import { deliveriesTable } from './deliveries';
import { mediaTable } from './media';
import { notificationsTable } from './notifications';
import { orgTable } from './org';
import { postsTable } from './posts';
import { reportsTable } from './reports';
import { reviewsTable } from './reviews';
import { sourcesTable } from './sources';
import type { AnyAccessTable } from './table';
import { workingCalendarTable } from './working-calendar';

/** Every access table; a new resource adds its table file here. */
export const ACCESS_TABLES: AnyAccessTable[] = [
  orgTable,
  postsTable,
  reviewsTable,
  channelsTable,
  deliveriesTable,
  reportsTable,
  mediaTable,
  notificationsTable,
  sourcesTable,
  blackoutsTable,
  workingCalendarTable,
];
