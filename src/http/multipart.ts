import type { Config } from '../../config/env';
import { AppError } from '../domain/errors';

/** The largest file any upload may be: a hard stop; the stricter per-type limit cuts images off earlier (see stageUpload). */
export const uploadFileLimit = (config: Config) =>
  Math.max(config.GAUNG_MEDIA_MAX_IMAGE_BYTES, config.GAUNG_MEDIA_MAX_VIDEO_BYTES) + 1;

/** Multipart's own errors, as Gaung's problem codes with the field they concern. */
export function multipartProblem(error: unknown): AppError | null {
  const code = (error as { code?: string }).code;
  const problem = (status: number, problemCode: string, field: string, message: string) =>
    new AppError(problemCode, status, message, { errors: [{ field, message, code: problemCode }] });
  switch (code) {
    case 'FST_FILES_LIMIT':
      return problem(400, 'too_many_files', 'file', 'Send one file per upload.');
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return problem(
        400,
        'too_many_fields',
        'body',
        'The form has more fields than an upload needs (file, altText).',
      );
    case 'FST_REQ_FILE_TOO_LARGE':
      return problem(413, 'media_too_large', 'file', 'The file is larger than any upload Gaung accepts.');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return problem(415, 'not_multipart', 'body', 'Upload the file as multipart/form-data.');
    case 'FST_PROTO_VIOLATION':
      return problem(400, 'validation_failed', 'body', 'Field name not allowed.');
    case 'FST_MP_PREMATURE_CLOSE':
      return problem(400, 'upload_incomplete', 'file', 'The upload ended before the whole file arrived.');
  }
  return null;
}
