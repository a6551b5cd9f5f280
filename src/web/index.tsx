import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { projectRoot } from '../../config/paths';
import { AppError } from '../domain/errors';
import { sendProblemOf, toProblem } from '../http/problem';
import { adminRoutes } from './admin/index';
import { authPages } from './auth';
import { blackoutPages } from './blackouts';
import { calendarRoutes } from './calendar';
import { channelPages } from './channels';
import { deliveryPages } from './deliveries';
import { ErrorPage } from './error-page';
import { createWebKit, type WebKit } from './kit';
import { officeRoutes } from './posts';
import { pressRoutes } from './press';
import { reportPages } from './reports/index';
import { retractionPages } from './retraction';
import { reviewPages } from './review/index';
import { reviewSettingsPages } from './review/settings';
import { sandboxRoutes } from './sandbox';
import { sourcePages } from './sources';
import { transparencyRoutes } from './transparency';
import { workingTimePages } from './working-time';

/**
 * The web app at `/`: server-rendered pages for offices (phones) and humas (desks), the admin pages
 * and the public press room. Pages call the same services with the same permission checks as the
 * API; forms carry the session's CSRF token; a little plain JS under /assets/ enhances them.
 */

const ASSET_DIR = path.join(projectRoot, 'src', 'web', 'assets');
const ASSET_TYPES = {
  'gaung.css': 'text/css; charset=utf-8',
  'gaung.js': 'text/javascript; charset=utf-8',
} as const;
type AssetName = keyof typeof ASSET_TYPES;
const ASSET_NAMES = Object.keys(ASSET_TYPES) as AssetName[];

interface Asset {
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

function loadAssets(): Record<AssetName, Asset> {
  const entries = ASSET_NAMES.map((name) => {
    const body = readFileSync(path.join(ASSET_DIR, name));
    return [
      name,
      {
        body,
        gzip: gzipSync(body),
        etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`,
      },
    ];
  });
  return Object.fromEntries(entries) as Record<AssetName, Asset>;
}

/** JSON endpoints of the web app answer problems as JSON, like the API. */
const isJsonRoute = (request: FastifyRequest) => request.url.startsWith('/ui/');

async function handleError(kit: WebKit, error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const problem = toProblem(error);
  const { status } = problem;
  if (status >= 500) request.log.error({ err: error }, 'page failed');
  if (isJsonRoute(request)) return sendProblemOf(reply, problem);
  if (status === 401) {
    const next = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : '';
    return reply.redirect(`/login${next}`, 303);
  }
  const env = await kit.env(request, reply);
  return kit.page(
    request,
    reply,
    env,
    <ErrorPage status={status} error={error instanceof AppError ? error : null} />,
    status,
  );
}

export const webRoutes: FastifyPluginAsyncZod = async (app) => {
  const assets = loadAssets();
  const kit = createWebKit(app.ctx, {
    css: `/assets/gaung.css?v=${assets['gaung.css'].etag.slice(1, 9)}`,
    js: `/assets/gaung.js?v=${assets['gaung.js'].etag.slice(1, 9)}`,
  });

  app.setErrorHandler((error: FastifyError, request, reply) => handleError(kit, error, request, reply));

  app.get(
    '/assets/:name',
    {
      config: { beforePasswordChange: true },
      schema: {
        hide: true,
        params: z.strictObject({ name: z.enum(ASSET_NAMES) }),
        querystring: z.strictObject({ v: z.string().max(20).optional() }),
      },
    },
    async (request, reply) => {
      const asset = assets[request.params.name];
      reply
        .type(ASSET_TYPES[request.params.name])
        .header('etag', asset.etag)
        .header('vary', 'accept-encoding')
        // Versioned URLs never change; an unversioned one is revalidated.
        .header(
          'cache-control',
          request.query.v ? 'public, max-age=31536000, immutable' : 'public, max-age=0',
        );
      if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) {
        reply.header('content-encoding', 'gzip');
        return reply.send(asset.gzip);
      }
      return reply.send(asset.body);
    },
  );

  await app.register(authPages, { kit });
  await app.register(officeRoutes, { kit });
  await app.register(sourcePages, { kit });
  await app.register(reviewPages, { kit });
  await app.register(reviewSettingsPages, { kit });
  await app.register(retractionPages, { kit });
  await app.register(calendarRoutes, { kit });
  await app.register(deliveryPages, { kit });
  await app.register(channelPages, { kit });
  await app.register(adminRoutes, { kit });
  await app.register(blackoutPages, { kit });
  await app.register(workingTimePages, { kit });
  await app.register(reportPages, { kit });
  await app.register(pressRoutes, { kit });
  await app.register(transparencyRoutes, { kit });
  await app.register(sandboxRoutes, { kit });
};
