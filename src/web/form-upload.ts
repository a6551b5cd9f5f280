import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import multipart, { type Multipart, type MultipartFile, type MultipartValue } from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { AppContext } from '../context';
import { AppError, invalid } from '../domain/errors';
import { assertCsrf, CSRF_HEADER, requireActor } from '../http/auth';
import { multipartProblem, uploadFileLimit } from '../http/multipart';
import { type StagedUpload, stageUpload } from '../services/media';
import { parseForm } from './kit';

/**
 * Page forms that carry a file (`multipart/form-data`), for browsers without JavaScript.
 *
 * The fields before the file become `request.body` in a preValidation hook, so the route's body
 * schema and the CSRF check (`_csrf` is the first field of every form) run as for urlencoded
 * forms, before a byte of the file is read. The handler then stages the file with the API's upload
 * checks and reads the fields after it.
 */

type FormFields = Record<string, string | string[]>;

interface Pending {
  file: MultipartFile | null;
  rest: AsyncIterableIterator<Multipart>;
}

const pending = new WeakMap<FastifyRequest, Pending>();

function addField(fields: FormFields, name: string, value: string) {
  const before = fields[name];
  fields[name] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
}

/** Registers multipart parsing for the plugin's page forms, with the upload limits of the media API. */
export async function registerFormUploads(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(multipart, {
    limits: {
      files: 1,
      // The editor's fields: ten of its own, and up to 21 each of media, drop and alt_<id>.
      fields: 100,
      fieldNameSize: 100,
      // A post's body: 65,536 UTF-16 code units, at most 3 bytes each in UTF-8.
      fieldSize: 3 * 65_536,
      headerPairs: 50,
      fileSize: uploadFileLimit(ctx.config),
    },
    throwFileSizeLimit: true,
    preservePath: true,
  });
}

/** A field's text; a value cut off at the field size limit is refused, never saved shortened. */
function fieldText(part: MultipartValue): string {
  if (part.valueTruncated)
    throw invalid([{ field: part.fieldname, message: 'is too long', code: 'too_big' }]);
  return String(part.value);
}

/**
 * preValidation hook: a multipart body's fields up to its file become `request.body`. Nothing of
 * the body is read for a caller who is not signed in, and a session's CSRF token (the header, or
 * else the form's first field) is checked before the fields after it are read.
 */
export async function readFieldsBeforeFile(request: FastifyRequest): Promise<void> {
  if (!request.isMultipart()) return;
  const actor = requireActor(request);
  const { ctx } = request.server;
  const header = request.headers[CSRF_HEADER];
  let tokenPending = actor.via === 'session' && request.routeOptions.config.csrf !== false;
  if (tokenPending && header !== undefined) {
    assertCsrf(ctx, actor, header);
    tokenPending = false;
  }
  const rest = request.parts();
  const fields: FormFields = {};
  try {
    for (;;) {
      const next = await rest.next();
      if (tokenPending) {
        const first = next.done ? undefined : next.value;
        assertCsrf(
          ctx,
          actor,
          first?.type === 'field' && first.fieldname === '_csrf' ? first.value : undefined,
        );
        tokenPending = false;
      }
      if (next.done) {
        pending.set(request, { file: null, rest });
        break;
      }
      if (next.value.type === 'file') {
        pending.set(request, { file: next.value, rest });
        break;
      }
      addField(fields, next.value.fieldname, fieldText(next.value));
    }
  } catch (error) {
    throw multipartProblem(error) ?? error;
  }
  request.body = fields;
}

export interface FormWithUpload<T> {
  form: T;
  /** The file, checked and staged: the caller commits or discards it. */
  staged: StagedUpload | null;
  /** Why the file was refused (field `file`); the rest of the form was still read. */
  refusal: AppError | null;
}

/** Stages a file part; a refused file is read to its end (and dropped) so the fields after it still arrive. */
async function stagePart(
  ctx: AppContext,
  part: MultipartFile,
): Promise<{ staged: StagedUpload | null; refusal: AppError | null }> {
  // A browser sends a file input with nothing chosen as an empty part without a name.
  if (part.filename === '') {
    part.file.resume();
    await finished(part.file);
    return { staged: null, refusal: null };
  }
  // The upload checks destroy the stream they refuse; the part's own stream has to stay readable.
  const source = new PassThrough();
  part.file.pipe(source);
  try {
    const staged = await stageUpload(ctx, {
      stream: source,
      fileName: part.filename,
      contentType: part.mimetype,
    });
    return { staged, refusal: null };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    part.file.unpipe(source);
    source.destroy();
    part.file.resume();
    await finished(part.file);
    return { staged: null, refusal: error };
  }
}

/**
 * The whole form, checked with `schema` (unknown fields refused), and its file `file` if one was
 * chosen. A urlencoded body is already `request.body`. Call after authorizing the upload.
 */
export async function readFormWithUpload<T>(
  ctx: AppContext,
  request: FastifyRequest,
  schema: z.ZodType<T>,
): Promise<FormWithUpload<T>> {
  const parts = pending.get(request);
  if (!parts) return { form: request.body as T, staged: null, refusal: null };
  pending.delete(request);
  const fields: FormFields = { ...(request.body as FormFields) };
  let staged: StagedUpload | null = null;
  let refusal: AppError | null = null;
  try {
    if (parts.file) {
      if (parts.file.fieldname !== 'file') {
        parts.file.file.destroy();
        throw invalid([{ field: parts.file.fieldname, message: 'unknown field', code: 'unknown_field' }]);
      }
      ({ staged, refusal } = await stagePart(ctx, parts.file));
      for await (const part of parts.rest) {
        if (part.type === 'field') addField(fields, part.fieldname, fieldText(part));
      }
    }
    return { form: parseForm(schema, fields), staged, refusal };
  } catch (error) {
    await staged?.discard();
    const problem = multipartProblem(error);
    // A file too large for any upload: busboy says so after the rest of the form, already refused by the checks.
    if (refusal && problem?.code === 'media_too_large')
      return { form: parseForm(schema, fields), staged: null, refusal };
    throw problem ?? error;
  }
}
