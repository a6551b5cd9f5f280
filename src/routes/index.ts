import type { FastifyInstance } from 'fastify';
import { webRoutes } from '../web/index';
import { auditRoutes } from './audit';
import { authRoutes } from './auth';
import { channelRoutes } from './channels';
import { deliveryRoutes } from './deliveries';
import { feedRoutes } from './feeds';
import { mediaPublicRoutes, mediaRoutes } from './media';
import { notificationRoutes } from './notifications';
import { opsRoutes } from './ops';
import authPlugin from './plugins/auth';
import { postRoutes } from './posts';
import { queueDashboardRoutes } from './queue-dashboard';
import { reportRoutes } from './reports';
import { reviewRoutes } from './reviews';
import { tokenRoutes } from './tokens';
import { unitRoutes } from './units';
import { userRoutes } from './users';

/**
 * Every route plugin, in one place. API resources live under /api/v1. `opsOnly`: liveness,
 * readiness and metrics alone, for worker processes.
 */
export async function registerRoutes(
  app: FastifyInstance,
  options: { opsOnly?: boolean } = {},
): Promise<void> {
  if (options.opsOnly) {
    await app.register(opsRoutes);
    return;
  }
  await app.register(authPlugin);
  await app.register(opsRoutes);
  await app.register(mediaPublicRoutes);
  await app.register(queueDashboardRoutes);
  // The web app and the press room, outside /api/v1.
  await app.register(webRoutes);
  await app.register(
    async (api) => {
      await api.register(postRoutes);
      await api.register(reviewRoutes);
      await api.register(notificationRoutes);
      await api.register(authRoutes);
      await api.register(unitRoutes);
      await api.register(userRoutes);
      await api.register(tokenRoutes);
      await api.register(auditRoutes);
      await api.register(channelRoutes);
      await api.register(mediaRoutes);
      await api.register(feedRoutes);
      await api.register(deliveryRoutes);
      await api.register(reportRoutes);
    },
    { prefix: '/api/v1' },
  );
}
