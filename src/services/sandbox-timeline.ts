import { and, desc, eq } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { sandboxPosts } from '../db/schema';
import type { SandboxTimeline } from '../platforms/sandbox';

/**
 * The sandbox platform's timeline in the `sandbox_posts` table. The unique (channel, idempotency
 * key) index makes a second insert of the same delivery a no-op that answers the first post.
 */
export function createSandboxTimeline(db: DbOrTx): SandboxTimeline {
  const find = async (channelId: string, idempotencyKey: string) => {
    const [row] = await db
      .select({ id: sandboxPosts.id })
      .from(sandboxPosts)
      .where(and(eq(sandboxPosts.channelId, channelId), eq(sandboxPosts.idempotencyKey, idempotencyKey)));
    return row ?? null;
  };
  return {
    find,
    async remove(channelId, id) {
      // A confirmed-by-URL delivery may carry something other than a row id: nothing to remove then.
      if (!/^[0-9a-f-]{36}$/i.test(id)) return;
      await db
        .delete(sandboxPosts)
        .where(and(eq(sandboxPosts.channelId, channelId), eq(sandboxPosts.id, id)));
    },
    async insert(post) {
      const [row] = await db
        .insert(sandboxPosts)
        .values(post)
        .onConflictDoNothing({ target: [sandboxPosts.channelId, sandboxPosts.idempotencyKey] })
        .returning({ id: sandboxPosts.id });
      if (row) return { id: row.id, created: true };
      const existing = await find(post.channelId, post.idempotencyKey);
      if (!existing) throw new Error(`sandbox post ${post.idempotencyKey} conflicted but cannot be read`);
      return { id: existing.id, created: false };
    },
  };
}

export type SandboxPost = typeof sandboxPosts.$inferSelect;

/** A sandbox channel's timeline, newest first: what its demo "account" published. */
export async function listSandboxPosts(db: DbOrTx, channelId: string, limit = 50): Promise<SandboxPost[]> {
  return db
    .select()
    .from(sandboxPosts)
    .where(eq(sandboxPosts.channelId, channelId))
    .orderBy(desc(sandboxPosts.createdAt), desc(sandboxPosts.id))
    .limit(limit);
}
