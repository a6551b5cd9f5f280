import type { AppContext } from '../../src/context';
import { deliveries, metricsSnapshots, postEvents, postMedia, posts } from '../../src/db/schema';
import type { MetricWindow, PostStatus } from '../../src/domain/vocabulary';
import type { TestUnit, TestUser } from './org';

/**
 * Report history written straight to the database: a post with its review timeline, published
 * deliveries and their engagement snapshots — what the workflow and the metrics worker leave behind.
 */

const MINUTE = 60_000;
const WINDOW_MS: Record<MetricWindow, number> = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 };

export interface HistoryDelivery {
  channelId: string;
  publishedAt: Date;
  status?: 'published' | 'failed';
  snapshots?: Partial<
    Record<MetricWindow, { impressions?: number | null; likes?: number; reposts?: number }>
  >;
}

export async function insertReportedPost(
  ctx: AppContext,
  input: {
    unit: TestUnit;
    author: TestUser;
    body?: string;
    submittedAt: Date;
    /** Minutes after submission and the decision taken then. */
    decision?: { after: number; to: Extract<PostStatus, 'approved' | 'rejected' | 'changes_requested'> };
    deliveries?: HistoryDelivery[];
    mediaId?: string;
  },
): Promise<{ postId: string; deliveryIds: string[] }> {
  const decidedAt = input.decision
    ? new Date(input.submittedAt.getTime() + input.decision.after * MINUTE)
    : null;
  const [post] = await ctx.db
    .insert(posts)
    .values({
      unitId: input.unit.id,
      authorId: input.author.id,
      status: input.decision?.to ?? 'submitted',
      body: input.body ?? `Kabar ${input.unit.name}`,
      submittedAt: input.submittedAt,
      decidedAt,
    })
    .returning({ id: posts.id });
  const postId = post!.id;
  if (input.mediaId) await ctx.db.insert(postMedia).values({ postId, mediaId: input.mediaId, position: 0 });
  await ctx.db.insert(postEvents).values([
    {
      postId,
      kind: 'transition',
      fromStatus: 'draft' as const,
      toStatus: 'submitted' as const,
      createdAt: input.submittedAt,
    },
    ...(input.decision && decidedAt
      ? [
          {
            postId,
            kind: 'transition' as const,
            fromStatus: 'submitted' as const,
            toStatus: input.decision.to,
            createdAt: decidedAt,
          },
        ]
      : []),
  ]);
  const deliveryIds: string[] = [];
  for (const target of input.deliveries ?? []) {
    const status = target.status ?? 'published';
    const [row] = await ctx.db
      .insert(deliveries)
      .values({
        postId,
        channelId: target.channelId,
        mode: 'copy',
        status,
        dueAt: target.publishedAt,
        renderedText: input.body ?? `Kabar ${input.unit.name}`,
        publishedAt: status === 'published' ? target.publishedAt : null,
        remoteId: status === 'published' ? `remote-${crypto.randomUUID()}` : null,
        remoteUrl: status === 'published' ? `https://example.org/p/${crypto.randomUUID()}` : null,
        updatedAt: target.publishedAt,
      })
      .returning({ id: deliveries.id });
    deliveryIds.push(row!.id);
    const snapshots = Object.entries(target.snapshots ?? {}) as [
      MetricWindow,
      NonNullable<HistoryDelivery['snapshots']>[MetricWindow],
    ][];
    if (snapshots.length)
      await ctx.db.insert(metricsSnapshots).values(
        snapshots.map(([window, figures]) => ({
          deliveryId: row!.id,
          window,
          takenAt: new Date(target.publishedAt.getTime() + WINDOW_MS[window]),
          impressions: figures?.impressions ?? null,
          likes: figures?.likes ?? null,
          reposts: figures?.reposts ?? null,
        })),
      );
  }
  return { postId, deliveryIds };
}
