import { randomBytes } from 'node:crypto';
import type { App } from '../../src/app';
import type { AppContext } from '../../src/context';
import { channels, media, postingSlots } from '../../src/db/schema';
import type { Platform } from '../../src/domain/vocabulary';
import type { TestUnit, TestUser } from './org';

/** A channel row written straight to the database (channel routes are tested elsewhere). */
export async function insertChannel(
  ctx: AppContext,
  unit: TestUnit,
  platform: Platform,
  options: {
    name?: string;
    settings?: Record<string, unknown>;
    slots?: string[];
    timeZone?: string;
    dailyCap?: number | null;
    minSpacingMinutes?: number;
    creditTemplate?: string;
  } = {},
): Promise<string> {
  const [row] = await ctx.db
    .insert(channels)
    .values({
      unitId: unit.id,
      platform,
      name: options.name ?? `${platform} ${unit.name}`,
      settings: options.settings ?? {},
      timeZone: options.timeZone ?? 'Asia/Jakarta',
      dailyCap: options.dailyCap ?? null,
      minSpacingMinutes: options.minSpacingMinutes ?? 0,
      ...(options.creditTemplate ? { creditTemplate: options.creditTemplate } : {}),
    })
    .returning({ id: channels.id });
  if (options.slots?.length)
    await ctx.db.insert(postingSlots).values(options.slots.map((cron) => ({ channelId: row!.id, cron })));
  return row!.id;
}

/** A media row of a unit, as the media service would have stored it after an upload. */
export async function insertMedia(ctx: AppContext, unit: TestUnit): Promise<string> {
  const [row] = await ctx.db
    .insert(media)
    .values({
      unitId: unit.id,
      sha256: randomBytes(32).toString('hex'),
      kind: 'image',
      mime: 'image/jpeg',
      bytes: 120_000,
      width: 1080,
      height: 1080,
      altText: 'Foto kegiatan',
    })
    .returning({ id: media.id });
  return row!.id;
}

export interface CreatedPost {
  id: string;
  version: number;
  status: string;
}

/** Creates a post through the API and, unless `submit` is false, submits it. */
export async function createPostVia(
  app: App,
  author: TestUser,
  content: Record<string, unknown>,
  options: { submit?: boolean } = {},
): Promise<CreatedPost> {
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/posts',
    headers: author.headers,
    payload: content,
  });
  if (created.statusCode !== 201) throw new Error(`create failed: ${created.statusCode} ${created.body}`);
  const post = created.json() as CreatedPost;
  if (options.submit === false) return post;
  const submitted = await app.inject({
    method: 'POST',
    url: `/api/v1/posts/${post.id}/submit`,
    headers: author.headers,
    payload: { version: post.version },
  });
  if (submitted.statusCode !== 200)
    throw new Error(`submit failed: ${submitted.statusCode} ${submitted.body}`);
  return submitted.json() as CreatedPost;
}
