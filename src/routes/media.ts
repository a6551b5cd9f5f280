import multipart from '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppContext } from '../context';
import { AppError, invalid } from '../domain/errors';
import { requireActor } from '../http/auth';
import { multipartProblem, uploadFileLimit } from '../http/multipart';
import { idParams } from '../schemas/common';
import {
  altTextBody,
  bytesResponse,
  mediaViewSchema,
  platformMediaParams,
  signatureQuery,
  uploadFields,
} from '../schemas/media';
import {
  checkMediaUrl,
  loadMedia,
  mediaView,
  prepareMediaForPlatform,
  type StagedUpload,
  stageUpload,
  updateAltText,
  uploadMedia,
} from '../services/media';

function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'invalid' | null {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return 'invalid';
  const [start, end] =
    match[1] === ''
      ? [Math.max(0, size - Number(match[2])), size - 1]
      : [Number(match[1]), match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1)];
  return start > end || start >= size ? 'invalid' : { start, end };
}

/** Streams a blob with its type, length, ETag and single-range support (video players and fetchers ask for ranges). */
async function sendBlob(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  blob: { sha256: string; mime: string; bytes: number },
  cacheControl: string,
) {
  const etag = `"${blob.sha256}"`;
  reply.header('etag', etag).header('cache-control', cacheControl).header('accept-ranges', 'bytes');
  if (request.headers['if-none-match'] === etag) return reply.code(304).send();
  const range = parseRange(request.headers.range, blob.bytes);
  if (range === 'invalid')
    return reply
      .code(416)
      .header('content-range', `bytes */${blob.bytes}`)
      .type('application/problem+json')
      .send({
        type: 'urn:gaung:problem:range_not_satisfiable',
        title: 'Range Not Satisfiable',
        status: 416,
        code: 'range_not_satisfiable',
      });
  reply.type(blob.mime);
  if (range) {
    reply
      .code(206)
      .header('content-range', `bytes ${range.start}-${range.end}/${blob.bytes}`)
      .header('content-length', range.end - range.start + 1);
    return reply.send(await ctx.storage.open(blob.sha256, range));
  }
  reply.header('content-length', blob.bytes);
  return reply.send(await ctx.storage.open(blob.sha256));
}

/** Uploads and their metadata, thumbnails and bytes, for signed-in users. */
export const mediaRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;
  const { config } = ctx;
  await app.register(multipart, {
    limits: {
      files: 1,
      fields: 2,
      parts: 3,
      fieldNameSize: 100,
      fieldSize: 16 * 1024,
      headerPairs: 50,
      fileSize: uploadFileLimit(config),
    },
    throwFileSizeLimit: true,
    // Keep the name as sent, so a name with a path is refused rather than silently trimmed.
    preservePath: true,
  });

  app.post(
    '/media',
    {
      schema: {
        tags: ['media'],
        summary: 'Upload one image or video (multipart/form-data: `file`, optional `altText`)',
        description: `Accepted: JPEG, PNG, WebP, GIF, MP4, MOV, judged from the bytes. The same file uploaded again by the unit returns the existing medium (200).`,
        consumes: ['multipart/form-data'],
        response: { 200: mediaViewSchema, 201: mediaViewSchema },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      let staged: StagedUpload | null = null;
      const fields: Record<string, string> = {};
      try {
        if (!request.isMultipart())
          throw new AppError('not_multipart', 415, 'Upload the file as multipart/form-data.', {
            errors: [{ field: 'body', message: 'not multipart/form-data', code: 'not_multipart' }],
          });
        for await (const part of request.parts()) {
          if (part.type === 'field') {
            fields[part.fieldname] = String(part.value);
            continue;
          }
          if (part.fieldname !== 'file') {
            part.file.destroy();
            throw invalid([
              {
                field: part.fieldname,
                message: 'unknown field; send the file as `file`',
                code: 'unknown_field',
              },
            ]);
          }
          staged = await stageUpload(ctx, {
            stream: part.file,
            fileName: part.filename,
            contentType: part.mimetype,
          });
        }
        const parsed = uploadFields.safeParse(fields);
        if (!parsed.success)
          throw invalid(
            parsed.error.issues.flatMap((issue) =>
              issue.code === 'unrecognized_keys'
                ? issue.keys.map((key) => ({ field: key, message: 'unknown field', code: 'unknown_field' }))
                : [{ field: issue.path.join('.') || 'body', message: issue.message, code: issue.code }],
            ),
          );
        if (!staged)
          throw invalid([
            { field: 'file', message: 'attach one image or video as `file`', code: 'required' },
          ]);
        const result = await uploadMedia(ctx, actor, staged, parsed.data.altText ?? '');
        return reply.code(result.created ? 201 : 200).send(result.media);
      } catch (error) {
        await (staged as StagedUpload | null)?.discard();
        // The rest of a refused body is not read: close the connection instead of draining it.
        reply.header('connection', 'close');
        throw multipartProblem(error) ?? error;
      }
    },
  );

  app.get(
    '/media/:id',
    { schema: { tags: ['media'], params: idParams, response: { 200: mediaViewSchema } } },
    async (request) => {
      return mediaView(await loadMedia(ctx, requireActor(request), request.params.id));
    },
  );

  app.patch(
    '/media/:id',
    {
      schema: {
        tags: ['media'],
        params: idParams,
        body: altTextBody,
        response: { 200: mediaViewSchema },
      },
    },
    async (request) => {
      return updateAltText(ctx, requireActor(request), request.params.id, request.body.altText);
    },
  );

  app.get(
    '/media/:id/thumbnail',
    { schema: { tags: ['media'], params: idParams, response: bytesResponse } },
    async (request, reply) => {
      const row = await loadMedia(ctx, requireActor(request), request.params.id);
      const bytes = row.thumbnailSha256 ? await ctx.storage.size(row.thumbnailSha256) : null;
      if (!row.thumbnailSha256 || bytes === null)
        throw new AppError(
          'thumbnail_unavailable',
          404,
          'This medium has no thumbnail (ffmpeg is not installed on the server).',
        );
      return sendBlob(
        ctx,
        request,
        reply,
        { sha256: row.thumbnailSha256, mime: 'image/webp', bytes },
        'private, max-age=86400',
      );
    },
  );

  app.get(
    '/media/:id/content',
    { schema: { tags: ['media'], params: idParams, response: bytesResponse } },
    async (request, reply) => {
      const row = await loadMedia(ctx, requireActor(request), request.params.id);
      return sendBlob(ctx, request, reply, row, 'private, max-age=86400');
    },
  );
};

/**
 * `/media-public/<id>/<platform>?exp=…&sig=…`: a medium as prepared for a platform, without a
 * session, for platforms that fetch media themselves (Instagram, Threads, Facebook).
 */
export const mediaPublicRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;
  app.get(
    '/media-public/:id/:platform',
    {
      schema: {
        hide: true,
        params: platformMediaParams,
        querystring: signatureQuery,
        response: bytesResponse,
      },
    },
    async (request, reply) => {
      const { id, platform } = request.params;
      checkMediaUrl(ctx, id, platform, request.query.exp, request.query.sig);
      const prepared = await prepareMediaForPlatform(ctx, id, platform);
      const remaining = Math.max(0, Number(request.query.exp) - Math.floor(ctx.now().getTime() / 1000));
      return sendBlob(ctx, request, reply, prepared, `public, max-age=${Math.min(remaining, 3600)}`);
    },
  );
};
