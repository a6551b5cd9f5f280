import { asc, inArray } from 'drizzle-orm';
import type { AppContext } from '../context';
import { metricsSnapshots } from '../db/schema';
import { AppError, conflict, unprocessable } from '../domain/errors';
import type { Actor } from '../domain/permissions';
import { decide } from '../domain/permissions';
import type { Platform, SnapshotWindow } from '../domain/vocabulary';
import { takeFixedWindow } from '../infra/rate-limiter';
import { PlatformError } from '../platforms/types';
import { loadChannel } from './channels';
import { type DeliveryFacts, deliveryFacts, deliveryResource } from './deliveries';
import { takeMetricsSnapshot } from './maintenance';

/**
 * A delivery's engagement snapshots (1 h, 24 h, 7 d and the latest taken on demand), and "refresh
 * now": one more reading from the platform, counted against a per-platform budget of on-demand reads
 * so a room full of people pressing the button cannot use up the app's quota.
 */

export interface SnapshotView {
  window: SnapshotWindow;
  takenAt: string;
  impressions: number | null;
  likes: number | null;
  reposts: number | null;
  replies: number | null;
  quotes: number | null;
  clicks: number | null;
}

/** On-demand reads per platform (all channels together) per minute. */
export const REFRESHES_PER_MINUTE = 30;
const WINDOW_ORDER: Record<SnapshotWindow, number> = { '1h': 0, '24h': 1, '7d': 2, now: 3 };

export class MetricsRefreshThrottled extends AppError {
  readonly retryAfter: number;
  constructor(retryAfter: number, platform: Platform) {
    super('rate_limited', 429, `Too many metrics reads from ${platform} just now; try again later`, {
      extra: { retryAfter },
    });
    this.retryAfter = retryAfter;
  }
}

export async function snapshotsOf(
  ctx: AppContext,
  deliveryIds: string[],
): Promise<Map<string, SnapshotView[]>> {
  const out = new Map<string, SnapshotView[]>();
  if (deliveryIds.length === 0) return out;
  const rows = await ctx.db
    .select()
    .from(metricsSnapshots)
    .where(inArray(metricsSnapshots.deliveryId, deliveryIds))
    .orderBy(asc(metricsSnapshots.takenAt));
  for (const row of rows) {
    const list = out.get(row.deliveryId) ?? [];
    list.push({
      window: row.window,
      takenAt: row.takenAt.toISOString(),
      impressions: row.impressions,
      likes: row.likes,
      reposts: row.reposts,
      replies: row.replies,
      quotes: row.quotes,
      clicks: row.clicks,
    });
    out.set(row.deliveryId, list);
  }
  for (const list of out.values()) list.sort((a, b) => WINDOW_ORDER[a.window] - WINDOW_ORDER[b.window]);
  return out;
}

/** Reads the delivery's figures from its platform now; the snapshots afterwards. */
export async function refreshDeliveryMetrics(
  ctx: AppContext,
  actor: Actor,
  id: string,
): Promise<{ deliveryId: string; snapshots: SnapshotView[] }> {
  const facts: DeliveryFacts = await deliveryFacts(ctx.db, id);
  if (decide(actor, 'delivery.read', deliveryResource(facts)) !== 'allow')
    throw new AppError('not_found', 404, 'Delivery not found');
  if (facts.status !== 'published') throw conflict('not_published', 'Only a published delivery has figures');
  const { channel } = await loadChannel(ctx.db, facts.channelId);
  const platform = channel.platform;
  if (!ctx.platforms.get(platform)?.fetchMetrics)
    throw unprocessable('metrics_unavailable', `${platform} gives no figures for a post`, { platform });
  const budget = await takeFixedWindow(ctx, `metrics-refresh:${platform}`, REFRESHES_PER_MINUTE, 60_000);
  if (!budget.ok) throw new MetricsRefreshThrottled(Math.ceil(budget.retryAfterMs / 1000), platform);
  let outcome: string;
  try {
    outcome = await takeMetricsSnapshot(ctx, id, 'now');
  } catch (error) {
    if (error instanceof PlatformError && error.classification.kind === 'rate_limited') {
      const seconds = Math.ceil((error.classification.until.getTime() - ctx.now().getTime()) / 1000);
      throw new MetricsRefreshThrottled(Math.max(1, seconds), platform);
    }
    if (error instanceof PlatformError)
      throw new AppError('platform_unavailable', 502, `${platform} did not answer: ${error.message}`);
    throw error;
  }
  if (outcome !== 'stored') throw conflict('metrics_not_read', outcome);
  return { deliveryId: id, snapshots: (await snapshotsOf(ctx, [id])).get(id) ?? [] };
}
