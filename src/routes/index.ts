import type { FastifyInstance } from 'fastify';
import { opsRoutes } from './ops';
import authPlugin from './plugins/auth';

/** Every route plugin, in one place. API resources live under /api/v1. */
export async function registerRoutes(app: FastifyInstance): Promise<void> {
  await app.register(authPlugin);
  await app.register(opsRoutes);
  await app.register(
    async (api) => {
      void api;
    },
    { prefix: '/api/v1' },
  );
}
