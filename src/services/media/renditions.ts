import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { PLATFORM_LIMITS } from '../../../config/platform-limits';
import type { AppContext } from '../../context';
import type { DbOrTx } from '../../db/client';
import { media, mediaRenditions } from '../../db/schema';
import { AppError, notFound } from '../../domain/errors';
import {
  FIRST_ATTEMPT,
  type InspectedMediaFacts,
  MEDIA_RULES,
  type MediaIssue,
  type MediaPlan,
  MIME_OF_CONTAINER,
  megabytesLabel,
  nextAttempt,
  planMedia,
  type VideoContainer,
} from '../../domain/media-rules';
import type { Platform } from '../../domain/vocabulary';
import { copyWithoutMetadata, encodeImage, toolAvailable, transcodeToH264 } from '../../infra/media-tools';
import type { StagedBlob } from '../../infra/storage';
import { deleteIfUnused, lockBlobs, storeOnce } from './blobs';
import { type MediaRow, mediaFactsOf } from './library';

/** Per-platform renditions: what preparation does to a medium for a platform, made once and cached. */

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
    ...mediaFactsOf(row),
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

/** What rendering made, with the new bytes in staging (none when the original is kept). */
interface Rendition extends Omit<PreparedMedia, 'mediaId' | 'platform'> {
  staged: StagedBlob | null;
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
        const staged = await ctx.storage.stage([out.data]);
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
