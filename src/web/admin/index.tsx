import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { WebOptions } from '../kit';
import { auditPages } from './audit';
import { tokenPages } from './tokens';
import { unitPages } from './units';
import { userPages } from './users';

/** Admin pages: the unit tree, people, API tokens and the audit trail. */
export const adminRoutes: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  await app.register(unitPages, { kit });
  await app.register(userPages, { kit });
  await app.register(tokenPages, { kit });
  await app.register(auditPages, { kit });
};
