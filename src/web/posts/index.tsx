/** The office's side: its posts, the editor with live per-channel counters, a post's page, notifications. */

export { DeliveryItem, PostBody, PostDeliveries } from './post-page';
export { officeRoutes } from './routes';
