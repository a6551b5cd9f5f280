import { adminTable } from './admin';
import { channelsWebTable } from './channels';
import { officeTable } from './office';
import { publicTable } from './public';
import { publishingTable } from './publishing';
import { queuesTable } from './queues';
import { reviewTable } from './review';
import { stopTable } from './stop';
import type { WebTable } from './table';

/** Every web access table; a new page area adds its table here. Stopping all publishing stays last. */
export const WEB_ACCESS_TABLES: WebTable[] = [
  publicTable,
  officeTable,
  reviewTable,
  publishingTable,
  channelsWebTable,
  adminTable,
  queuesTable,
  stopTable,
];
