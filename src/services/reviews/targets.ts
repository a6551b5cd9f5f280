import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import { PLATFORM_LIMITS, YOUTUBE_UNVERIFIED_MAX_SECONDS } from '../../../config/platform-limits';
import type { AppContext } from '../../context';
import type { DbOrTx } from '../../db/client';
import { channels, media, postMedia, posts, units } from '../../db/schema';
import { notFound } from '../../domain/errors';
import type { MediaFacts } from '../../domain/media-rules';
import { type Actor, authorize, decide } from '../../domain/permissions';
import {
  type PlatformRulesInput,
  type RenderInput,
  renderText,
  type TextCount,
  type ValidationIssue,
  validateForPlatform,
} from '../../domain/rendering';
import type { DeliveryMode, Platform } from '../../domain/vocabulary';
import { exhaustedQuotas } from '../../infra/rate-limiter';
import type { PostOrigin } from '../../platforms/types';
import { type ChannelRow, quotaOverridesOf } from '../channels';
import { mediaIssuesForPlatform } from '../media';
import { type PostFacts, postFacts, postResource, postVariantMap } from '../posts';

/** Targets: what each channel would publish of a post, and everything it would object to. */

export interface TargetChannel {
  channel: ChannelRow;
  unitPath: string;
}

/** Live channels by id, with their unit's path; archived and unknown ones are simply absent. */
export async function loadTargetChannels(
  db: DbOrTx,
  ids: readonly string[],
): Promise<Map<string, TargetChannel>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ channel: channels, unitPath: units.path })
    .from(channels)
    .innerJoin(units, eq(units.id, channels.unitId))
    .where(and(inArray(channels.id, [...ids]), isNull(channels.archivedAt)));
  return new Map(rows.map((row) => [row.channel.id, row]));
}

/** What the post is made of, at one version: the input of rendering and validation. */
/** What a post says, as rendering needs it (a saved post's, or a draft's in the editor). */
export interface PostContentSnapshot {
  version: number;
  unitName: string;
  body: string;
  link: string | null;
  sourceUrl: string | null;
  /** The original as a source read it (a saved post's; a draft in the editor has none). */
  origin?: PostOrigin | null;
  tags: string[];
  preferredFrom: Date | null;
  variants: Partial<Record<Platform, string>>;
  mediaIds: string[];
  media: MediaFacts[];
}

export async function contentSnapshot(db: DbOrTx, facts: PostFacts): Promise<PostContentSnapshot> {
  const [row] = await db
    .select({
      version: posts.version,
      body: posts.body,
      link: posts.link,
      sourceUrl: posts.sourceUrl,
      origin: posts.origin,
      tags: posts.tags,
      preferredFrom: posts.preferredFrom,
    })
    .from(posts)
    .where(eq(posts.id, facts.id));
  if (!row) throw notFound('Post');
  const [variants, mediaRows] = await Promise.all([
    postVariantMap(db, facts.id),
    db
      .select({
        id: media.id,
        kind: media.kind,
        mime: media.mime,
        bytes: media.bytes,
        width: media.width,
        height: media.height,
        durationMs: media.durationMs,
      })
      .from(postMedia)
      .innerJoin(media, eq(media.id, postMedia.mediaId))
      .where(eq(postMedia.postId, facts.id))
      .orderBy(asc(postMedia.position)),
  ]);
  return {
    ...row,
    unitName: facts.unitName,
    variants,
    mediaIds: mediaRows.map((m) => m.id),
    media: mediaRows.map(({ id: _, ...m }) => m),
  };
}

/**
 * A channel's own rules: a Mastodon instance's character limit and URL length; a YouTube channel's
 * longest upload (15 minutes until it is verified) and its made-for-kids answer; a TikTok
 * creator's longest video and whether Gaung's TikTok app is unaudited.
 */
function channelRules(
  platform: Platform,
  settings: Record<string, unknown>,
): NonNullable<PlatformRulesInput['settings']> {
  const pick = (key: string) => (typeof settings[key] === 'number' ? (settings[key] as number) : undefined);
  const maxCharacters = pick('maxCharacters');
  const urlLength = pick('charactersReservedPerUrl');
  return {
    ...(maxCharacters !== undefined ? { maxCharacters } : {}),
    ...(urlLength !== undefined ? { urlLength } : {}),
    ...(platform === 'youtube'
      ? {
          ...(settings.longUploads === true ? {} : { maxVideoSeconds: YOUTUBE_UNVERIFIED_MAX_SECONDS }),
          ...(typeof settings.madeForKids === 'boolean' ? { madeForKids: settings.madeForKids } : {}),
        }
      : {}),
    // TikTok: the creator's longest video as last read from TikTok, and whether the app is unaudited.
    ...(platform === 'tiktok'
      ? {
          ...(pick('maxVideoSeconds') !== undefined ? { maxVideoSeconds: pick('maxVideoSeconds') } : {}),
          ...(settings.unaudited === true ? { unaudited: true } : {}),
        }
      : {}),
  };
}

export interface TargetReport {
  channelId: string;
  channelName: string | null;
  platform: Platform | null;
  mode: DeliveryMode;
  text: string;
  count: TextCount | null;
  issues: ValidationIssue[];
}

export const blocking = (issues: readonly ValidationIssue[]) =>
  issues.some((issue) => issue.severity === 'error');

/** The text a channel would publish and everything it would object to (errors block approval). */
export async function renderTarget(
  ctx: AppContext,
  content: PostContentSnapshot,
  target: {
    channel: Pick<ChannelRow, 'id' | 'name' | 'platform' | 'creditTemplate' | 'settings' | 'status'>;
  },
  mode: DeliveryMode,
  textOverride: string | null,
): Promise<TargetReport> {
  const { channel } = target;
  const platform = channel.platform;
  const input: RenderInput = {
    body: content.body,
    variant: content.variants[platform] ?? null,
    textOverride,
    creditTemplate: channel.creditTemplate,
    unitName: content.unitName,
    sourceUrl: content.sourceUrl,
    link: content.link,
    tags: content.tags,
  };
  const text = renderText(input);
  const { count, issues } = validateForPlatform({
    platform,
    text,
    media: content.media,
    mode,
    sourceUrl: content.sourceUrl,
    originPlatform: content.origin?.platform ?? null,
    link: content.link,
    settings: channelRules(platform, channel.settings),
    tags: content.tags,
  });
  // A repost publishes the original as it is: our media never goes out.
  if (mode !== 'repost' && content.mediaIds.length > 0)
    issues.push(...(await mediaIssuesForPlatform(ctx, content.mediaIds, platform)));
  for (const quota of await exhaustedQuotas(
    ctx,
    { platform, channelId: channel.id },
    quotaOverridesOf(ctx.config),
  ))
    issues.push({
      code: 'quota_exhausted',
      severity: 'warning',
      message: `${PLATFORM_LIMITS[platform].label}'s ${quota.quota ?? 'publish'} quota for today is used up; the post waits until ${quota.resetAt!.toISOString()} (midnight in ${ctx.config.GAUNG_YOUTUBE_QUOTA_TIME_ZONE}).`,
    });
  if (channel.status !== 'active')
    issues.push({
      code: `channel_${channel.status}`,
      severity: 'warning',
      message:
        channel.status === 'paused'
          ? 'This channel is paused; the post waits until it is resumed.'
          : 'This channel must be reconnected; the post waits until it is.',
    });
  return { channelId: channel.id, channelName: channel.name, platform, mode, text, count, issues };
}

/** A channel's rendering of a post, and whether the actor may publish the post there. */
export interface TargetPreview extends TargetReport {
  targetable: boolean;
}

/**
 * What each channel would publish of the post and what it would object to: the actor must read the
 * post and every channel (404 otherwise); those they may not publish to are marked untargetable.
 */
export async function previewPost(
  ctx: AppContext,
  actor: Actor,
  postId: string,
  channelIds: readonly string[],
  mode: DeliveryMode,
): Promise<TargetPreview[]> {
  const facts = await postFacts(ctx.db, postId);
  authorize(actor, 'post.read', postResource(facts), 'Post');
  const ids = [...new Set(channelIds)];
  const found = await loadTargetChannels(ctx.db, ids);
  const targets = ids.map((id) => {
    const target = found.get(id);
    if (!target) throw notFound('Channel');
    authorize(actor, 'channel.read', { type: 'channel', unitPath: target.unitPath }, 'Channel');
    return target;
  });
  const reports = await previewTargets(ctx, facts, targets, mode);
  return reports.map((report, index) => ({
    ...report,
    targetable:
      decide(actor, 'channel.target', { type: 'channel', unitPath: targets[index]!.unitPath }) === 'allow',
  }));
}

/** The renderings of a post on channels the caller has authorised. */
export async function previewTargets(
  ctx: AppContext,
  facts: PostFacts,
  targets: readonly TargetChannel[],
  mode: DeliveryMode,
): Promise<TargetReport[]> {
  const content = await contentSnapshot(ctx.db, facts);
  return Promise.all(targets.map((target) => renderTarget(ctx, content, target, mode, null)));
}
