import { type Actor, authorize } from '../domain/permissions';

/**
 * The BullMQ dashboard is for the admins of the root unit only; it is read-only (the queues are
 * transport, Postgres holds the truth).
 */
export function openQueueDashboard(actor: Actor): void {
  authorize(actor, 'queues.admin', { type: 'queues' }, 'Page');
}
