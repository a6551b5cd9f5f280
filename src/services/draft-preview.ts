import { and, eq, inArray } from 'drizzle-orm';
import type { AppContext } from '../context';
import { media, units } from '../db/schema';
import { type Actor, authorize } from '../domain/permissions';
import type { TextCount, ValidationIssue } from '../domain/rendering';
import type { Platform } from '../domain/vocabulary';
import { listChannels } from './channels';
import { factsOf } from './media';
import { newPostResource } from './posts';
import { type PostContentSnapshot, renderTarget } from './reviews/targets';

/**
 * What a post being written would become on each channel its office may be republished to: the
 * same rendering and validation (src/domain/rendering.ts) as the API's preview of a saved post,
 * for text that is not saved yet — the editor's live counters.
 */

export interface DraftContent {
  body: string;
  sourceUrl: string | null;
  link: string | null;
  tags: string[];
  /** Media of the actor's unit, in order; others are ignored. */
  mediaIds: string[];
}

export interface ChannelPreview {
  channelId: string;
  channelName: string;
  platform: Platform;
  text: string;
  count: TextCount;
  over: boolean;
  issues: ValidationIssue[];
}

export async function previewDraft(
  ctx: AppContext,
  actor: Actor,
  draft: DraftContent,
): Promise<ChannelPreview[]> {
  authorize(actor, 'post.create', newPostResource(actor));
  const [channels, [unit], mediaRows] = await Promise.all([
    listChannels(ctx, actor, {}),
    ctx.db.select({ name: units.name }).from(units).where(eq(units.id, actor.unitId)),
    draft.mediaIds.length === 0
      ? Promise.resolve([])
      : ctx.db
          .select()
          .from(media)
          .where(and(inArray(media.id, draft.mediaIds), eq(media.unitId, actor.unitId))),
  ]);
  const byId = new Map(mediaRows.map((row) => [row.id, row]));
  const mediaIds = draft.mediaIds.filter((id) => byId.has(id));
  const content: PostContentSnapshot = {
    version: 0,
    unitName: unit?.name ?? '',
    body: draft.body,
    link: draft.link,
    sourceUrl: draft.sourceUrl,
    tags: draft.tags,
    preferredFrom: null,
    variants: {},
    mediaIds,
    media: mediaIds.map((id) => factsOf(byId.get(id)!)),
  };
  return Promise.all(
    channels.map(async (channel) => {
      const report = await renderTarget(ctx, content, { channel }, 'copy', null);
      const count = report.count!;
      return {
        channelId: channel.id,
        channelName: channel.name,
        platform: channel.platform,
        text: report.text,
        count,
        over: count.used > count.limit,
        issues: report.issues,
      };
    }),
  );
}
