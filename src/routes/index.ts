import type { FastifyPluginAsync } from 'fastify';
import { auditRoutes } from './audit';
import { authRoutes } from './auth';
import { blackoutRoutes } from './blackouts';
import { channelRoutes } from './channels';
import { deliveryRoutes } from './deliveries';
import { mediaPublicRoutes, mediaRoutes } from './media';
import { notificationRoutes } from './notifications';
import { opsRoutes } from './ops';
import { postRoutes } from './posts';
import { queueDashboardRoutes } from './queue-dashboard';
import { reportRoutes } from './reports';
import { reviewRoutes } from './reviews';
import { sourceRoutes } from './sources';
import { telegramHookRoutes } from './telegram-hooks';
import { tokenRoutes } from './tokens';
import { unitRoutes } from './units';
import { userRoutes } from './users';
import { workingCalendarRoutes } from './working-calendar';

/**
 * The JSON API and the routes beside it (media for platforms, Telegram's webhook deliveries, the
 * queue dashboard); `buildApp` registers these and the web app as siblings.
 */
export const apiRoutes: FastifyPluginAsync = async (app) => {
  await app.register(mediaPublicRoutes);
  await app.register(telegramHookRoutes);
  await app.register(queueDashboardRoutes);
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
      await api.register(sourceRoutes);
      await api.register(deliveryRoutes);
      await api.register(reportRoutes);
      await api.register(blackoutRoutes);
      await api.register(workingCalendarRoutes);
    },
    { prefix: '/api/v1' },
  );
};

export { opsRoutes };
