import { eq, inArray, sql } from 'drizzle-orm';
import type { AppContext } from '../../src/context';
import type { DbOrTx } from '../../src/db/client';
import { channels, deliveries, posts } from '../../src/db/schema';
import type { DeliveryMode, DeliveryStatus } from '../../src/domain/vocabulary';
import type { KeyRing } from '../../src/infra/crypto';

/** Approved posts with one delivery each, written straight to the database (the review flow is tested elsewhere). */
export async function insertDeliveries(
  db: DbOrTx,
  input: {
    unitId: string;
    authorId: string;
    /** One delivery per entry: its channel and due time. */
    targets: { channelId: string; dueAt: Date; mode?: DeliveryMode }[];
    sourceUrl?: string;
  },
): Promise<string[]> {
  const ids: string[] = [];
  const CHUNK = 1_000;
  for (let start = 0; start < input.targets.length; start += CHUNK) {
    const slice = input.targets.slice(start, start + CHUNK);
    const postRows = await db
      .insert(posts)
      .values(
        slice.map((_, index) => ({
          unitId: input.unitId,
          authorId: input.authorId,
          status: 'approved' as const,
          body: `Kabar kantor nomor ${start + index}`,
          sourceUrl: input.sourceUrl ?? null,
          submittedAt: new Date(),
          decidedAt: new Date(),
        })),
      )
      .returning({ id: posts.id });
    const rows = await db
      .insert(deliveries)
      .values(
        slice.map((target, index) => ({
          postId: postRows[index]!.id,
          channelId: target.channelId,
          mode: target.mode ?? 'copy',
          dueAt: target.dueAt,
          renderedText: `Kabar kantor nomor ${start + index} 📍 Kantor`,
        })),
      )
      .returning({ id: deliveries.id });
    ids.push(...rows.map((row) => row.id));
  }
  return ids;
}

export async function setChannelCredentials(
  db: DbOrTx,
  keys: KeyRing,
  channelId: string,
  credentials: Record<string, unknown>,
): Promise<void> {
  await db
    .update(channels)
    .set({
      credentials: keys.encrypt(credentials, channelId),
      credentialsVersion: sql`${channels.credentialsVersion} + 1`,
    })
    .where(eq(channels.id, channelId));
}

export async function statusCounts(
  ctx: AppContext,
  ids?: string[],
): Promise<Partial<Record<DeliveryStatus, number>>> {
  const rows = await ctx.db
    .select({ status: deliveries.status, n: sql<number>`count(*)::int` })
    .from(deliveries)
    .where(ids ? inArray(deliveries.id, ids) : undefined)
    .groupBy(deliveries.status);
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
}

/** Polls until `check` returns true or the time is up; returns whether it did. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 200,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return check();
}
