import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { PLATFORM_LIMITS } from '../../config/platform-limits';
import type { AppContext } from '../context';
import { type DbOrTx, queryRows } from '../db/client';
import { media, mediaRenditions, postMedia, posts, units } from '../db/schema';
import { AppError, notFound } from '../domain/errors';
import {
  ACCEPTED_LABELS,
  type AcceptedType,
  acceptedType,
  claimedKind,
  FIRST_ATTEMPT,
  fileNameProblem,
  type InspectedMediaFacts,
  MEDIA_RULES,
  type MediaFacts,
  type MediaIssue,
  type MediaPlan,
  MIME_OF_CONTAINER,
  megabytesLabel,
  nextAttempt,
  planMedia,
  type VideoContainer,
} from '../domain/media-rules';
import { type Actor, authorize } from '../domain/permissions';
import type { MediaKind, Platform, PostStatus } from '../domain/vocabulary';
import {
  copyWithoutMetadata,
  encodeImage,
  inspectImage,
  NoVideoStreamError,
  PixelLimitError,
  probeVideo,
  sniff,
  thumbnailOf,
  toolAvailable,
  transcodeToH264,
  type VideoFacts,
  videoFrame,
} from '../infra/media-tools';
import { BlobTooLargeError, type StagedBlob } from '../infra/storage';
import type { PublishMedia } from '../platforms/types';
import { transitionInTx } from './post-transitions';
import { postMediaList } from './posts';

/**
 * Media use cases: uploads (streamed, sniffed, inspected, deduplicated), per-platform renditions,
 * the media handed to adapters, signed public URLs, and garbage collection.
 *
 * Blobs are shared between rows (content addressing), so whoever creates or removes a reference
 * holds a transaction-scoped advisory lock on the hash: a blob is never deleted while a row that
 * needs it is being written.
 */

export type MediaRow = typeof media.$inferSelect;

export interface MediaView extends MediaFacts {
  id: string;
  unitId: string;
  altText: string;
  originalName: string | null;
  sha256: string;
  /** What inspection found: a video's codecs, frame rate and bit rate; an image's animation and transparency. */
  details: Record<string, unknown> | null;
  thumbnailUrl: string | null;
  contentUrl: string;
  createdAt: string;
}

export const ALT_TEXT_MAX = 1000;

export function mediaView(row: MediaRow): MediaView {
  return {
    id: row.id,
    unitId: row.unitId,
    kind: row.kind,
    mime: row.mime,
    bytes: row.bytes,
    width: row.width,
    height: row.height,
    durationMs: row.durationMs,
    altText: row.altText,
    originalName: row.originalName,
    sha256: row.sha256,
    details: row.probe ?? null,
    thumbnailUrl: row.thumbnailSha256 ? `/api/v1/media/${row.id}/thumbnail` : null,
    contentUrl: `/api/v1/media/${row.id}/content`,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Serialises writers and the collector on one blob; keys are the hash's first 64 bits. */
async function lockBlobs(tx: DbOrTx, hashes: (string | null)[]): Promise<void> {
  const unique = [...new Set(hashes.filter((h): h is string => h !== null))].sort();
  for (const hash of unique) {
    const key = BigInt.asIntN(64, BigInt(`0x${hash.slice(0, 16)}`)).toString();
    await tx.execute(sql`select pg_advisory_xact_lock(${key}::bigint)`);
  }
}

/** Deletes a blob that no row refers to any more; true when it did. Call under `lockBlobs`. */
async function deleteIfUnused(ctx: AppContext, tx: DbOrTx, hash: string): Promise<boolean> {
  const [use] = await queryRows(
    tx,
    sql`select 1 from ${media} where ${media.sha256} = ${hash} or ${media.thumbnailSha256} = ${hash}
        union all select 1 from ${mediaRenditions} where ${mediaRenditions.sha256} = ${hash}
        limit 1`,
  );
  if (use) return false;
  await ctx.storage.delete(hash);
  return true;
}

/** Commits a staged blob unless the store already has those bytes. Call under `lockBlobs`. */
async function storeOnce(ctx: AppContext, staged: StagedBlob): Promise<void> {
  if (await ctx.storage.exists(staged.sha256)) await staged.discard();
  else await staged.commit();
}

const fileError = (code: string, status: number, message: string) =>
  new AppError(code, status, message, { errors: [{ field: 'file', message, code }] });

// ---------------------------------------------------------------------------------------------
// Uploads

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
      const image = await inspectImage(blob.path, config.GAUNG_MEDIA_MAX_PIXELS).catch((error: unknown) => {
        throw error instanceof PixelLimitError ? tooManyPixels() : unreadable(error);
      });
      thumbnailBytes = await thumbnailOf(blob.path, config.GAUNG_MEDIA_MAX_PIXELS).catch((error: unknown) => {
        throw unreadable(error);
      });
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
    if (thumbnailBytes) thumbnail = await ctx.storage.stage(Readable.from([thumbnailBytes]));
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

/**
 * Records a staged upload for the actor's unit and stores its bytes. The same file uploaded again
 * by the unit returns the existing medium (`created: false`) unchanged; other units share the bytes.
 */
export async function commitUpload(
  ctx: AppContext,
  actor: { userId: string; unitId: string },
  upload: StagedUpload,
  altText: string,
): Promise<{ media: MediaView; created: boolean }> {
  try {
    return await ctx.db.transaction(async (tx) => {
      await lockBlobs(tx, [upload.blob.sha256, upload.thumbnail?.sha256 ?? null]);
      const [existing] = await tx
        .select()
        .from(media)
        .where(and(eq(media.unitId, actor.unitId), eq(media.sha256, upload.blob.sha256)));
      const [row] = existing
        ? [existing]
        : await tx
            .insert(media)
            .values({
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
              createdAt: ctx.now(),
            })
            .returning();
      await storeOnce(ctx, upload.blob);
      if (upload.thumbnail && (!existing || existing.thumbnailSha256 === upload.thumbnail.sha256))
        await storeOnce(ctx, upload.thumbnail);
      return { media: mediaView(row!), created: !existing };
    });
  } finally {
    await upload.discard();
  }
}

/** A person's upload, recorded for their own unit. */
export async function uploadMedia(
  ctx: AppContext,
  actor: Actor,
  upload: StagedUpload,
  altText: string,
): Promise<{ media: MediaView; created: boolean }> {
  try {
    authorize(actor, 'media.create', { type: 'media', unitPath: actor.unitPath }, 'Media');
  } catch (error) {
    await upload.discard();
    throw error;
  }
  return commitUpload(ctx, actor, upload, altText);
}

// ---------------------------------------------------------------------------------------------
// Reading and editing

/** A medium, when the actor may do `action` on it (by default, read it); 404 or 403 otherwise. */
export async function loadMedia(
  ctx: AppContext,
  actor: Actor,
  id: string,
  action: 'media.read' | 'media.update' = 'media.read',
): Promise<MediaRow> {
  const [row] = await ctx.db
    .select({ media, unitPath: units.path })
    .from(media)
    .innerJoin(units, eq(units.id, media.unitId))
    .where(eq(media.id, id));
  if (!row) throw notFound('Media');
  authorize(actor, action, { type: 'media', unitPath: row.unitPath }, 'Media');
  return row.media;
}

/** The editor's thumbnails of media of the actor's unit, in the order given; others are left out. */
export async function unitMediaThumbnails(
  ctx: AppContext,
  actor: Actor,
  ids: string[],
): Promise<Map<string, { kind: MediaKind; thumbnailUrl: string | null }>> {
  if (ids.length === 0) return new Map();
  const rows = await ctx.db
    .select({ id: media.id, kind: media.kind, thumbnail: media.thumbnailSha256 })
    .from(media)
    .where(and(inArray(media.id, ids), eq(media.unitId, actor.unitId)));
  return new Map(
    rows.map((row) => [
      row.id,
      { kind: row.kind, thumbnailUrl: row.thumbnail ? `/api/v1/media/${row.id}/thumbnail` : null },
    ]),
  );
}

/** Posts whose alt text follows the medium's own and whose content may still change: drafts and posts in review. */
const FOLLOWING_STATUSES: PostStatus[] = ['draft', 'submitted', 'changes_requested'];

/**
 * Changes a medium's alt text. Each post in review that shows it (without alt text of its own) is
 * edited with it: its version moves, so a decision taken on what was seen before is refused as
 * stale, and its timeline says so. Approved posts keep the text they were approved with.
 */
export async function updateAltText(
  ctx: AppContext,
  actor: Actor,
  id: string,
  altText: string,
): Promise<MediaView> {
  await loadMedia(ctx, actor, id, 'media.update');
  return ctx.db.transaction(async (tx) => {
    const [before] = await tx
      .select({ altText: media.altText })
      .from(media)
      .where(eq(media.id, id))
      .for('update');
    const [row] = await tx.update(media).set({ altText }).where(eq(media.id, id)).returning();
    if (!row || !before) throw notFound('Media');
    if (before.altText === altText) return mediaView(row);
    const following = await tx
      .select({
        id: posts.id,
        unitId: posts.unitId,
        unitPath: units.path,
        status: posts.status,
        version: posts.version,
      })
      .from(postMedia)
      .innerJoin(posts, eq(posts.id, postMedia.postId))
      .innerJoin(units, eq(units.id, posts.unitId))
      .where(
        and(eq(postMedia.mediaId, id), isNull(postMedia.altText), inArray(posts.status, FOLLOWING_STATUSES)),
      );
    const now = ctx.now();
    for (const post of following) {
      await transitionInTx(tx, actor, post, 'edit', post.version, now, {
        kind: 'edit',
        comment: altText,
        data: { fields: ['media'], mediaId: id },
      });
    }
    return mediaView(row);
  });
}

// ---------------------------------------------------------------------------------------------
// Per-platform preparation

/** A medium as a platform will receive it. `changes` says what was done to the original. */
export interface PreparedMedia {
  mediaId: string;
  platform: Platform;
  sha256: string;
  mime: string;
  bytes: number;
  width: number | null;
  height: number | null;
  changes: string[];
}

export function factsOf(row: MediaRow): InspectedMediaFacts {
  const probe = row.probe ?? {};
  const text = (key: string) => (typeof probe[key] === 'string' ? (probe[key] as string) : null);
  return {
    kind: row.kind,
    mime: row.mime,
    bytes: row.bytes,
    width: row.width,
    height: row.height,
    durationMs: row.durationMs,
    animated: probe.animated === true,
    hasAlpha: probe.hasAlpha === true,
    hasMetadata: probe.metadata === true,
    videoCodec: text('videoCodec'),
    audioCodec: text('audioCodec'),
  };
}

const preparedOf = (row: typeof mediaRenditions.$inferSelect): PreparedMedia => ({
  mediaId: row.mediaId,
  platform: row.platform,
  sha256: row.sha256,
  mime: row.mime,
  bytes: row.bytes,
  width: row.width,
  height: row.height,
  changes: row.changes,
});

interface Rendition {
  staged: StagedBlob | null;
  sha256: string;
  mime: string;
  bytes: number;
  width: number | null;
  height: number | null;
  changes: string[];
}

async function renderImage(
  ctx: AppContext,
  row: MediaRow,
  platform: Platform,
  plan: Extract<MediaPlan, { outcome: 'image' }>,
): Promise<Rendition> {
  const { image } = plan;
  const source = await ctx.storage.localFile(row.sha256);
  try {
    let attempt = FIRST_ATTEMPT;
    let tries = 1;
    for (;;) {
      const out = await encodeImage(source.path, image, attempt, ctx.config.GAUNG_MEDIA_MAX_PIXELS);
      if (image.maxBytes === null || out.data.length <= image.maxBytes) {
        const changes = [...plan.changes];
        if (image.maxBytes !== null && (row.bytes > image.maxBytes || tries > 1)) {
          const how = [
            image.format === 'jpeg' || image.format === 'webp' ? `at quality ${attempt.quality}` : null,
            attempt.scale < 1 ? `resized to ${out.width}×${out.height}` : null,
          ].filter(Boolean);
          changes.push(
            `re-encoded ${how.join(', ')} to fit ${megabytesLabel(image.maxBytes)} (${MEDIA_RULES[platform].why.bytes ?? 'platform limit'})`,
          );
        }
        const staged = await ctx.storage.stage(Readable.from([out.data]));
        return {
          staged,
          sha256: staged.sha256,
          mime: `image/${image.format}`,
          bytes: staged.bytes,
          width: out.width,
          height: out.height,
          changes,
        };
      }
      const next = nextAttempt(attempt, image.format, out.data.length, image.maxBytes);
      if (!next)
        throw new AppError(
          'media_unacceptable',
          422,
          `This image cannot be made small enough for ${platform}.`,
          {
            extra: { mediaId: row.id, platform },
          },
        );
      attempt = next;
      tries += 1;
    }
  } finally {
    await source.release();
  }
}

/**
 * Runs `encode` from the original into a staging file and stages the result; the file is removed
 * however the encoding ends (killed at its time limit included).
 */
async function encodeVideo(
  ctx: AppContext,
  row: MediaRow,
  encode: (input: string, output: string) => Promise<void>,
): Promise<StagedBlob> {
  const source = await ctx.storage.localFile(row.sha256);
  const output = path.join(ctx.storage.stagingDir, `${crypto.randomUUID()}.mp4`);
  try {
    await encode(source.path, output);
    return await ctx.storage.stage(createReadStream(output));
  } finally {
    await rm(output, { force: true });
    await source.release();
  }
}

/** The video's streams copied into `container` without its metadata (rewrap or strip). */
async function copyVideo(
  ctx: AppContext,
  row: MediaRow,
  container: VideoContainer,
  changes: string[],
): Promise<Rendition> {
  const staged = await encodeVideo(ctx, row, (input, output) =>
    copyWithoutMetadata(ctx.config.GAUNG_FFMPEG_PATH, input, output, container),
  );
  return {
    staged,
    sha256: staged.sha256,
    mime: MIME_OF_CONTAINER[container],
    bytes: staged.bytes,
    width: row.width,
    height: row.height,
    changes,
  };
}

async function transcodeVideo(
  ctx: AppContext,
  row: MediaRow,
  platform: Platform,
  plan: Extract<MediaPlan, { outcome: 'transcode' }>,
): Promise<Rendition> {
  const { video } = plan;
  const staged = await encodeVideo(ctx, row, (input, output) =>
    transcodeToH264(ctx.config.GAUNG_FFMPEG_PATH, input, output, video, row.durationMs),
  );
  if (video.maxBytes !== null && staged.bytes > video.maxBytes) {
    await staged.discard();
    const issue: MediaIssue = {
      code: 'video_too_large',
      severity: 'error',
      message: `Re-encoded as H.264, this video is ${megabytesLabel(staged.bytes)}; ${PLATFORM_LIMITS[platform].label} takes videos of up to ${megabytesLabel(video.maxBytes)}. Shorten it or export it as H.264.`,
    };
    throw new AppError('media_unacceptable', 422, issue.message, {
      extra: { mediaId: row.id, platform, issues: [issue] },
    });
  }
  return {
    staged,
    sha256: staged.sha256,
    mime: 'video/mp4',
    bytes: staged.bytes,
    width: video.width,
    height: video.height,
    changes: plan.changes,
  };
}

/** Makes what the plan says; a medium kept as it is needs no new bytes. */
async function render(
  ctx: AppContext,
  row: MediaRow,
  platform: Platform,
  plan: Exclude<MediaPlan, { outcome: 'refuse' }>,
): Promise<Rendition> {
  switch (plan.outcome) {
    case 'image':
      return renderImage(ctx, row, platform, plan);
    case 'rewrap':
      return copyVideo(ctx, row, 'mp4', plan.changes);
    case 'strip':
      return copyVideo(ctx, row, plan.container, plan.changes);
    case 'transcode':
      return transcodeVideo(ctx, row, platform, plan);
    case 'keep':
      return {
        staged: null,
        sha256: row.sha256,
        mime: row.mime,
        bytes: row.bytes,
        width: row.width,
        height: row.height,
        changes: [],
      };
  }
}

/** A short hash of a plan: a rendition made by another plan (the rules have changed) is made again. */
const planHash = (plan: MediaPlan) =>
  createHash('sha256').update(JSON.stringify(plan)).digest('hex').slice(0, 16);

const renditionOf = (db: DbOrTx, mediaId: string, platform: Platform) =>
  db
    .select()
    .from(mediaRenditions)
    .where(and(eq(mediaRenditions.mediaId, mediaId), eq(mediaRenditions.platform, platform)));

/**
 * The medium as `platform` will receive it, made once per (medium, platform) and plan: kept as is,
 * re-encoded with sharp, rewrapped as MP4, re-encoded as H.264 or copied without its metadata. A
 * cached rendition made by another plan is replaced, and its bytes deleted when nothing else uses
 * them. Throws `media_unacceptable` (422, with `issues`) when the medium cannot be made acceptable.
 */
export async function prepareMediaForPlatform(
  ctx: AppContext,
  mediaId: string,
  platform: Platform,
): Promise<PreparedMedia> {
  const [row] = await ctx.db.select().from(media).where(eq(media.id, mediaId));
  if (!row) throw notFound('Media');
  const ffmpeg = await toolAvailable(ctx.config.GAUNG_FFMPEG_PATH);
  const plan = planMedia(factsOf(row), platform, { ffmpeg });
  if (plan.outcome === 'refuse')
    throw new AppError('media_unacceptable', 422, plan.issues.map((issue) => issue.message).join(' '), {
      extra: { mediaId, platform, issues: plan.issues },
    });
  const hash = planHash(plan);
  const [cached] = await renditionOf(ctx.db, mediaId, platform);
  if (cached?.planHash === hash) return preparedOf(cached);

  const rendition = await render(ctx, row, platform, plan);

  try {
    return await ctx.db.transaction(async (tx) => {
      const [previous] = await renditionOf(tx, mediaId, platform).for('update');
      // Another process prepared it first; theirs stands.
      if (previous?.planHash === hash) return preparedOf(previous);
      await lockBlobs(tx, [rendition.sha256, previous?.sha256 ?? null]);
      const values = {
        mediaId,
        platform,
        sha256: rendition.sha256,
        mime: rendition.mime,
        bytes: rendition.bytes,
        width: rendition.width,
        height: rendition.height,
        changes: rendition.changes,
        planHash: hash,
        createdAt: ctx.now(),
      };
      const [stored] = await tx
        .insert(mediaRenditions)
        .values(values)
        .onConflictDoUpdate({
          target: [mediaRenditions.mediaId, mediaRenditions.platform],
          set: values,
          setWhere: sql`${mediaRenditions.planHash} <> excluded.plan_hash`,
        })
        .returning();
      if (!stored) {
        // Inserted by another process meanwhile, by the same plan.
        const [theirs] = await renditionOf(tx, mediaId, platform);
        return preparedOf(theirs!);
      }
      if (rendition.staged) await storeOnce(ctx, rendition.staged);
      if (previous && previous.sha256 !== stored.sha256) await deleteIfUnused(ctx, tx, previous.sha256);
      return preparedOf(stored);
    });
  } finally {
    await rendition.staged?.discard();
  }
}

/**
 * What the preview shows per medium for a platform: refusals (errors) and what preparation will do
 * (warnings). Decided from the stored facts, without touching the bytes.
 */
export async function mediaIssuesForPlatform(
  ctx: AppContext,
  mediaIds: string[],
  platform: Platform,
): Promise<MediaIssue[]> {
  if (mediaIds.length === 0) return [];
  const rows = await ctx.db.select().from(media).where(inArray(media.id, mediaIds));
  const byId = new Map(rows.map((row) => [row.id, row]));
  const ffmpeg = await toolAvailable(ctx.config.GAUNG_FFMPEG_PATH);
  return mediaIds.flatMap((id, index) => {
    const field = `media[${index}]`;
    const row = byId.get(id);
    if (!row)
      return [
        {
          code: 'media_missing',
          severity: 'error' as const,
          message: 'This medium no longer exists.',
          field,
          mediaId: id,
        },
      ];
    const plan = planMedia(factsOf(row), platform, { ffmpeg });
    const issues = plan.outcome === 'refuse' ? plan.issues : plan.warnings;
    return issues.map((issue) => ({ ...issue, field, mediaId: id }));
  });
}

// ---------------------------------------------------------------------------------------------
// Signed public URLs

const signedPart = (mediaId: string, platform: string, exp: number) => `${mediaId}:${platform}:${exp}`;

/** `${GAUNG_PUBLIC_URL}/media-public/<id>/<platform>?exp=…&sig=…`, valid for GAUNG_MEDIA_URL_TTL_SECONDS. */
export function signedMediaUrl(ctx: AppContext, mediaId: string, platform: Platform): string {
  const exp = Math.floor(ctx.now().getTime() / 1000) + ctx.config.GAUNG_MEDIA_URL_TTL_SECONDS;
  const sig = ctx.keys.sign('media-url', signedPart(mediaId, platform, exp));
  return `${ctx.config.publicUrl}/media-public/${mediaId}/${platform}?exp=${exp}&sig=${sig}`;
}

/** Throws 403 unless `exp` and `sig` were made by `signedMediaUrl` and have not expired. */
export function checkMediaUrl(
  ctx: AppContext,
  mediaId: string,
  platform: Platform,
  exp: string | undefined,
  sig: string | undefined,
): void {
  if (!exp || !sig || !/^\d{1,12}$/.test(exp))
    throw new AppError('media_url_unsigned', 403, 'This media link is not signed.');
  if (!ctx.keys.verify('media-url', signedPart(mediaId, platform, Number(exp)), sig))
    throw new AppError('media_url_invalid', 403, 'This media link is not valid.');
  if (Number(exp) * 1000 < ctx.now().getTime())
    throw new AppError('media_url_expired', 403, 'This media link has expired.');
}

// ---------------------------------------------------------------------------------------------
// What adapters receive

/**
 * The post's media prepared for `platform`, in order; the alt text given on the post overrides the
 * medium's own. Throws `media_unacceptable` for a medium the platform cannot take.
 */
export async function loadPublishMedia(
  ctx: AppContext,
  postId: string,
  platform: Platform,
): Promise<PublishMedia[]> {
  const result: PublishMedia[] = [];
  // One at a time: image re-encoding is CPU-bound.
  for (const item of await postMediaList(ctx.db, postId)) {
    const prepared = await prepareMediaForPlatform(ctx, item.id, platform);
    result.push({
      id: item.id,
      kind: item.kind,
      mime: prepared.mime,
      bytes: prepared.bytes,
      width: prepared.width,
      height: prepared.height,
      durationMs: item.durationMs,
      altText: item.altText,
      sha256: prepared.sha256,
      open: () => ctx.storage.open(prepared.sha256),
      publicUrl: () => signedMediaUrl(ctx, item.id, platform),
    });
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Garbage collection

export interface MediaGarbageCounts {
  media: number;
  renditions: number;
  blobs: number;
  staging: number;
}

const GC_BATCH = 500;
const STAGING_MAX_AGE_MS = 24 * 3600 * 1000;

/**
 * Deletes media that no post refers to once GAUNG_MEDIA_GC_GRACE_HOURS have passed since upload,
 * with their renditions, then the blobs no row refers to any more, and staging files left by
 * crashes. The maintenance queue calls it; a batch per call keeps transactions short.
 */
export async function collectGarbageMedia(ctx: AppContext): Promise<MediaGarbageCounts> {
  const cutoff = new Date(ctx.now().getTime() - ctx.config.GAUNG_MEDIA_GC_GRACE_HOURS * 3600 * 1000);
  const unreferenced = sql`${media.createdAt} < ${cutoff} and not exists (select 1 from ${postMedia} where ${postMedia.mediaId} = ${media.id})`;
  const { gone, renditionHashes } = await ctx.db.transaction(async (tx) => {
    const ids = (
      await tx
        .select({ id: media.id })
        .from(media)
        .where(unreferenced)
        .orderBy(asc(media.createdAt))
        .limit(GC_BATCH)
    ).map((row) => row.id);
    if (ids.length === 0) return { gone: [], renditionHashes: [] };
    const renditions = await tx
      .delete(mediaRenditions)
      .where(inArray(mediaRenditions.mediaId, ids))
      .returning({ sha256: mediaRenditions.sha256 });
    // Re-checked here: a post may have taken one of them since the select.
    const deleted = await tx
      .delete(media)
      .where(and(inArray(media.id, ids), unreferenced))
      .returning({ sha256: media.sha256, thumbnailSha256: media.thumbnailSha256 });
    return { gone: deleted, renditionHashes: renditions.map((r) => r.sha256) };
  });

  const candidates = new Set<string>(renditionHashes);
  for (const row of gone) {
    candidates.add(row.sha256);
    if (row.thumbnailSha256) candidates.add(row.thumbnailSha256);
  }
  let blobs = 0;
  for (const hash of candidates) {
    const removed = await ctx.db.transaction(async (tx) => {
      await lockBlobs(tx, [hash]);
      return deleteIfUnused(ctx, tx, hash);
    });
    if (removed) blobs += 1;
  }
  const staging = await ctx.storage.sweepStaging(STAGING_MAX_AGE_MS, ctx.now());
  return { media: gone.length, renditions: renditionHashes.length, blobs, staging };
}
