import { and, asc, eq, inArray } from 'drizzle-orm';
import type { AppContext } from '../context';
import { media, units } from '../db/schema';
import type { Actor } from '../domain/permissions';
import {
  type MediaFacts,
  renderText,
  type TextCount,
  type ValidationIssue,
  validateForPlatform,
} from '../domain/rendering';
import type { Platform } from '../domain/vocabulary';
import { listChannels } from '../services/channels';
import { mediaIssuesForPlatform } from '../services/media';

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

/** A channel's numeric text settings (a Mastodon instance's own limit and URL length). */
function textSettings(settings: Record<string, unknown>): { maxCharacters?: number; urlLength?: number } {
  const out: { maxCharacters?: number; urlLength?: number } = {};
  if (typeof settings.maxCharacters === 'number') out.maxCharacters = settings.maxCharacters;
  if (typeof settings.urlLength === 'number') out.urlLength = settings.urlLength;
  return out;
}

export async function previewDraft(
  ctx: AppContext,
  actor: Actor,
  draft: DraftContent,
): Promise<ChannelPreview[]> {
  const [channels, [unit], mediaRows] = await Promise.all([
    listChannels(ctx, actor, {}),
    ctx.db.select({ name: units.name }).from(units).where(eq(units.id, actor.unitId)),
    draft.mediaIds.length === 0
      ? Promise.resolve([])
      : ctx.db
          .select()
          .from(media)
          .where(and(inArray(media.id, draft.mediaIds), eq(media.unitId, actor.unitId)))
          .orderBy(asc(media.createdAt)),
  ]);
  const byId = new Map(mediaRows.map((row) => [row.id, row]));
  const ownMedia = draft.mediaIds.filter((id) => byId.has(id));
  const facts: MediaFacts[] = ownMedia.map((id) => {
    const row = byId.get(id)!;
    return {
      kind: row.kind,
      mime: row.mime,
      bytes: row.bytes,
      width: row.width,
      height: row.height,
      durationMs: row.durationMs,
    };
  });
  return Promise.all(
    channels.map(async (channel) => {
      const text = renderText({
        body: draft.body,
        creditTemplate: channel.creditTemplate,
        unitName: unit?.name ?? '',
        sourceUrl: draft.sourceUrl,
        link: draft.link,
        tags: draft.tags,
      });
      const { count, issues } = validateForPlatform({
        platform: channel.platform,
        text,
        media: facts,
        mode: 'copy',
        sourceUrl: draft.sourceUrl,
        link: draft.link,
        settings: textSettings(channel.settings),
      });
      if (ownMedia.length > 0)
        issues.push(...(await mediaIssuesForPlatform(ctx, ownMedia, channel.platform)));
      return {
        channelId: channel.id,
        channelName: channel.name,
        platform: channel.platform,
        text,
        count,
        over: count.used > count.limit,
        issues,
      };
    }),
  );
}
