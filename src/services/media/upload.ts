import type { Readable } from 'node:stream';
import { and, eq, inArray } from 'drizzle-orm';
import type { AppContext } from '../../context';
import type { Tx } from '../../db/client';
import { media } from '../../db/schema';
import { AppError } from '../../domain/errors';
import {
  ACCEPTED_LABELS,
  type AcceptedType,
  acceptedType,
  claimedKind,
  fileNameProblem,
  megabytesLabel,
} from '../../domain/media-rules';
import { type Actor, authorize } from '../../domain/permissions';
import {
  examineImage,
  NoVideoStreamError,
  PixelLimitError,
  probeVideo,
  sniff,
  thumbnailOf,
  toolAvailable,
  type VideoFacts,
  videoFrame,
} from '../../infra/media-tools';
import { BlobTooLargeError, type StagedBlob } from '../../infra/storage';
import { lockBlobs, storeOnce } from './blobs';
import { type MediaRow, type MediaView, mediaView } from './library';

/** Uploads: streamed into staging, sniffed, inspected, then recorded once per unit and stored once. */

const fileError = (code: string, status: number, message: string) =>
  new AppError(code, status, message, { errors: [{ field: 'file', message, code }] });

/** An upload in staging: inspected and accepted, not yet stored or recorded. */
export interface StagedUpload {
  blob: StagedBlob;
  thumbnail: StagedBlob | null;
  type: AcceptedType;
  width: number | null;
  height: number | null;
  durationMs: number | null;
  probe: Record<string, unknown> | null;
  originalName: string | null;
  discard(): Promise<void>;
}

export interface UploadSource {
  stream: Readable;
  fileName: string;
  /** The client's Content-Type for the part: only compared with the bytes, never trusted. */
  contentType: string | undefined;
}

function videoProbeRecord(facts: VideoFacts): Record<string, unknown> {
  return {
    videoCodec: facts.videoCodec,
    audioCodec: facts.audioCodec,
    frameRate: facts.frameRate,
    bitRate: facts.bitRate,
    rotation: facts.rotation,
    format: facts.formatName,
  };
}

/**
 * Streams an upload into staging and inspects it: the type comes from the bytes; the size limit of
 * that type cuts the stream off as soon as it is passed; images are checked for pixel count from
 * their header, then decoded once for the thumbnail (which catches truncated files); videos are
 * probed with ffprobe where installed. Anything refused leaves nothing in storage.
 */
export async function stageUpload(ctx: AppContext, source: UploadSource): Promise<StagedUpload> {
  const { config } = ctx;
  const nameProblem = fileNameProblem(source.fileName);
  if (nameProblem) throw fileError('invalid_file_name', 400, `The file name ${nameProblem}.`);

  const sniffed = await sniff(source.stream);
  if (sniffed.sampled === 0) {
    sniffed.stream.destroy();
    throw fileError('empty_file', 400, 'The file is empty.');
  }
  const type = acceptedType(sniffed.mime);
  if (!type) {
    sniffed.stream.destroy();
    throw fileError(
      'unsupported_media_type',
      415,
      `This file is not a ${ACCEPTED_LABELS} file (judged from its contents, not its name${sniffed.mime ? `; it looks like ${sniffed.mime}` : ''}).`,
    );
  }
  const claimed = claimedKind(source.fileName, source.contentType);
  if (claimed && claimed !== type.kind) {
    sniffed.stream.destroy();
    throw fileError(
      'media_type_mismatch',
      415,
      `The file is named or labelled as ${claimed === 'video' ? 'a video' : 'an image'}, but its contents are a ${type.label} ${type.kind}. Upload the file you meant, with its own name.`,
    );
  }

  const maxBytes =
    type.kind === 'image' ? config.GAUNG_MEDIA_MAX_IMAGE_BYTES : config.GAUNG_MEDIA_MAX_VIDEO_BYTES;
  let blob: StagedBlob;
  try {
    blob = await ctx.storage.stage(sniffed.stream, { maxBytes });
  } catch (error) {
    if (error instanceof BlobTooLargeError)
      throw fileError(
        'media_too_large',
        413,
        `${type.kind === 'image' ? 'Images' : 'Videos'} may be up to ${megabytesLabel(maxBytes)}; this one is larger.`,
      );
    throw error;
  }

  let thumbnail: StagedBlob | null = null;
  const discard = async () => {
    await blob.discard();
    await thumbnail?.discard();
  };
  try {
    const unreadable = (cause: unknown) =>
      new AppError(
        'media_unreadable',
        422,
        `This ${type.label} file is damaged or incomplete; export it again and retry.`,
        {
          errors: [{ field: 'file', message: 'damaged or incomplete file', code: 'media_unreadable' }],
          cause,
        },
      );
    const tooManyPixels = () =>
      fileError(
        'too_many_pixels',
        422,
        `The picture measures more than ${Math.floor(config.GAUNG_MEDIA_MAX_PIXELS / 1_000_000)} megapixels; scale it down before uploading.`,
      );
    let facts: Pick<StagedUpload, 'width' | 'height' | 'durationMs' | 'probe'>;
    let thumbnailBytes: Buffer | null = null;
    if (type.kind === 'image') {
      const examined = await examineImage(blob.path, config.GAUNG_MEDIA_MAX_PIXELS).catch(
        (error: unknown) => {
          throw error instanceof PixelLimitError ? tooManyPixels() : unreadable(error);
        },
      );
      const image = examined.facts;
      thumbnailBytes = examined.thumbnail;
      facts = {
        width: image.width,
        height: image.height,
        durationMs: null,
        probe:
          image.animated || image.hasAlpha || image.hasMetadata
            ? { animated: image.animated, hasAlpha: image.hasAlpha, metadata: image.hasMetadata }
            : null,
      };
    } else if (await toolAvailable(config.GAUNG_FFPROBE_PATH)) {
      const video = await probeVideo(config.GAUNG_FFPROBE_PATH, blob.path).catch((error: unknown) => {
        throw error instanceof NoVideoStreamError
          ? fileError('no_video_stream', 422, 'This file has no video picture in it.')
          : unreadable(error);
      });
      if (video.width && video.height && video.width * video.height > config.GAUNG_MEDIA_MAX_PIXELS)
        throw tooManyPixels();
      if (await toolAvailable(config.GAUNG_FFMPEG_PATH)) {
        thumbnailBytes = await videoFrame(config.GAUNG_FFMPEG_PATH, blob.path, video.durationMs)
          .then((frame) => thumbnailOf(frame, config.GAUNG_MEDIA_MAX_PIXELS))
          .catch((error: unknown) => {
            throw unreadable(error);
          });
      }
      facts = {
        width: video.width,
        height: video.height,
        durationMs: video.durationMs,
        probe: videoProbeRecord(video),
      };
    } else {
      ctx.log.warn('ffprobe is not installed: a video was accepted without checking its length and codecs');
      facts = { width: null, height: null, durationMs: null, probe: null };
    }
    if (thumbnailBytes) thumbnail = await ctx.storage.stage([thumbnailBytes]);
    return {
      blob,
      thumbnail,
      type,
      ...facts,
      originalName: source.fileName || null,
      discard,
    };
  } catch (error) {
    await discard();
    throw error;
  }
}

/** An accepted upload to record, with the alt text its medium gets. */
export interface UploadToRecord {
  upload: StagedUpload;
  altText: string;
}

/**
 * Records staged uploads for the actor's unit and stores their bytes, in the caller's transaction
 * (the blobs' locks are held until it ends): one insert for all of them. A file the unit has already,
 * or that comes twice in the list, gets the existing medium (`created: false`), unchanged; other
 * units share the bytes. Returns the media in the order given. The caller discards the uploads.
 */
export async function recordUploads(
  ctx: AppContext,
  tx: Tx,
  actor: { userId: string; unitId: string },
  uploads: readonly UploadToRecord[],
): Promise<{ media: MediaRow; created: boolean }[]> {
  if (uploads.length === 0) return [];
  await lockBlobs(
    tx,
    uploads.flatMap(({ upload }) => [upload.blob.sha256, upload.thumbnail?.sha256 ?? null]),
  );
  const firsts = new Map<string, UploadToRecord>();
  for (const one of uploads) if (!firsts.has(one.upload.blob.sha256)) firsts.set(one.upload.blob.sha256, one);
  const now = ctx.now();
  const made = await tx
    .insert(media)
    .values(
      [...firsts.values()].map(({ upload, altText }) => ({
        unitId: actor.unitId,
        uploadedBy: actor.userId,
        sha256: upload.blob.sha256,
        kind: upload.type.kind,
        mime: upload.type.mime,
        bytes: upload.blob.bytes,
        width: upload.width,
        height: upload.height,
        durationMs: upload.durationMs,
        probe: upload.probe,
        altText,
        originalName: upload.originalName,
        thumbnailSha256: upload.thumbnail?.sha256 ?? null,
        createdAt: now,
      })),
    )
    .onConflictDoNothing({ target: [media.unitId, media.sha256] })
    .returning();
  const created = new Set(made.map((row) => row.sha256));
  const rows = new Map(made.map((row) => [row.sha256, row]));
  const known = [...firsts.keys()].filter((sha256) => !created.has(sha256));
  // Under the blobs' locks, a medium another writer recorded first is committed and seen here.
  const existing =
    known.length === 0
      ? []
      : await tx
          .select()
          .from(media)
          .where(and(eq(media.unitId, actor.unitId), inArray(media.sha256, known)));
  for (const row of existing) rows.set(row.sha256, row);
  for (const [sha256, { upload }] of firsts) {
    const row = rows.get(sha256)!;
    await storeOnce(ctx, upload.blob);
    if (upload.thumbnail && (created.has(sha256) || row.thumbnailSha256 === upload.thumbnail.sha256))
      await storeOnce(ctx, upload.thumbnail);
  }
  return uploads.map((one) => {
    const sha256 = one.upload.blob.sha256;
    return { media: rows.get(sha256)!, created: created.has(sha256) && firsts.get(sha256) === one };
  });
}

/**
 * A person's upload, recorded for their own unit. The same file uploaded again by the unit returns
 * the existing medium (`created: false`) unchanged.
 */
export async function uploadMedia(
  ctx: AppContext,
  actor: Actor,
  upload: StagedUpload,
  altText: string,
): Promise<{ media: MediaView; created: boolean }> {
  try {
    authorize(actor, 'media.create', { type: 'media', unitPath: actor.unitPath }, 'Media');
    const [recorded] = await ctx.db.transaction((tx) => recordUploads(ctx, tx, actor, [{ upload, altText }]));
    return { media: mediaView(recorded!.media), created: recorded!.created };
  } finally {
    await upload.discard();
  }
}
