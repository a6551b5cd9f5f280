import type { FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import { z } from 'zod';
import type { AppContext } from '../context';
import { invalid } from '../domain/errors';
import type { PageEnv } from './env';
import { type Assets, pageEnv, renderPage, sendHtml } from './page';

/** What every page plugin is given: the context, the asset URLs and the way to answer with a page. */
export interface WebKit {
  ctx: AppContext;
  assets: Assets;
  env(request: FastifyRequest, reply: FastifyReply): Promise<PageEnv>;
  page(
    request: FastifyRequest,
    reply: FastifyReply,
    env: PageEnv,
    node: VNode,
    status?: number,
  ): FastifyReply;
}

export interface WebOptions {
  kit: WebKit;
}

export function createWebKit(ctx: AppContext, assets: Assets): WebKit {
  return {
    ctx,
    assets,
    env: (request, reply) => pageEnv(ctx, request, reply, assets),
    page: (request, reply, env, node, status = 200) =>
      sendHtml(request, reply, renderPage(env, node), status),
  };
}

const unsafeInUrl = (char: string) => char === '\\' || char.charCodeAt(0) < 0x20 || char === '\u007f';

/**
 * A path on Gaung's own site to go back to after signing in, resolved against the public URL as a
 * browser would; anything that lands elsewhere (`//host`, `/\\host`, `/<tab>/host`) gives the fallback.
 */
export function localPath(value: string | undefined, fallback: string, publicUrl: string): string {
  // Browsers drop tabs and newlines from URLs and read a backslash as a slash, so none is let through.
  if (!value?.startsWith('/') || [...value].some(unsafeInUrl)) return fallback;
  let resolved: URL;
  try {
    resolved = new URL(value, publicUrl);
  } catch {
    return fallback;
  }
  if (resolved.origin !== new URL(publicUrl).origin) return fallback;
  return `${resolved.pathname}${resolved.search}${resolved.hash}`;
}

/** Form fields as the browser sends them: one value, or several for repeated names. */
const formValue = z.union([z.string().max(70_000), z.array(z.string().max(70_000)).max(100)]);

/**
 * A form whose field names follow patterns (per-channel or per-medium fields such as `mode_<id>`):
 * a field matching no pattern is refused like an unknown field of a JSON body.
 */
export const patternForm = (pattern: RegExp) =>
  z.record(z.string().regex(pattern, 'unknown field'), formValue).describe('An HTML form (urlencoded)');

/** The one value of a field (the last, if the browser sent it twice). */
export function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.at(-1) : value;
}

export function many(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Blank form fields mean "not given". */
export const blank = (value: string | undefined) =>
  value === undefined || value.trim() === '' ? undefined : value.trim();

/** A zod parse of form input turned into Gaung's field errors (400), for forms that reuse the API's schemas. */
export function parseForm<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw invalid(
    parsed.error.issues.map((issue) => ({
      field: issue.path.map(String).join('.') || 'body',
      message: issue.message,
      code: issue.code,
    })),
  );
}
