import type { Tx } from '../db/client';
import {
  deliveries,
  deliveryEvents,
  metricsSnapshots,
  postEvents,
  postLevels,
  posts,
  sandboxPosts,
} from '../db/schema';
import { transitionDelivery } from '../domain/delivery-machine';
import { type PostEvent, transitionPost } from '../domain/post-machine';
import type { DeliveryStatus, MetricWindow, PostStatus } from '../domain/vocabulary';

/**
 * A few weeks of history for the demo organisation, so a newcomer's first look at /reports, the
 * calendar and the press room is not empty: posts of every office in every state (each path taken
 * through the post state machine and written as events), published deliveries on the sandbox
 * channels with their timeline entries, engagement snapshots marked `demo` (the reports say the
 * figures are demo data), and a few deliveries still to come.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEKS = 4;
const WINDOW_MS: Record<MetricWindow, number> = { '1h': HOUR, '24h': DAY, '7d': 7 * DAY };

const TEXTS = [
  'Pelayanan paspor simpatik dibuka pada hari Sabtu untuk warga yang bekerja di hari kerja.',
  'Sosialisasi izin tinggal bagi pelajar asing di kampus-kampus kota kami.',
  'Petugas memeriksa dokumen perjalanan penumpang di pelabuhan internasional.',
  'Antrean paspor kini bisa diambil lewat aplikasi: datang sesuai jam, tanpa menunggu lama.',
  'Operasi pengawasan orang asing bersama pemerintah daerah berjalan tertib.',
  'Layanan paspor keliling hadir di kecamatan terjauh minggu ini.',
  'Kunjungan pelajar SMA ke kantor kami: belajar tentang kedaulatan negara di perbatasan.',
  'Pengaduan masyarakat dijawab dalam satu hari kerja melalui kanal resmi.',
  'Bandara kami menyambut wisatawan mancanegara dengan pemeriksaan yang cepat dan ramah.',
  'Penghargaan pelayanan publik untuk kantor kami: terima kasih kepada seluruh warga.',
];

/** Each office's posts, as the paths they took through review; most were approved and published. */
const PATHS: { events: PostEvent[]; published?: boolean }[] = [
  { events: [] },
  { events: ['submit'] },
  { events: ['submit', 'request_changes'] },
  { events: ['submit', 'reject'] },
  { events: ['withdraw'] },
  { events: ['submit', 'approve', 'retract'], published: true },
  ...Array.from({ length: 8 }, () => ({ events: ['submit', 'approve'] as PostEvent[], published: true })),
];

export interface DemoOffice {
  id: string;
  path: string;
  name: string;
  authorId: string;
}

/** A deterministic sequence, so every demo looks the same. */
function sequence(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

/** The statuses a post passes through, checked by the post state machine. */
function walk(events: PostEvent[]): PostStatus[] {
  const statuses: PostStatus[] = ['draft'];
  for (const event of events) {
    const result = transitionPost(statuses.at(-1)!, event);
    if (!result.ok) throw new Error(`demo history: ${result.message}`);
    statuses.push(result.to);
  }
  return statuses;
}

function deliveryPath(events: Parameters<typeof transitionDelivery>[1][]): DeliveryStatus[] {
  const statuses: DeliveryStatus[] = ['scheduled'];
  for (const event of events) {
    const result = transitionDelivery(statuses.at(-1)!, event);
    if (!result.ok) throw new Error(`demo history: ${result.message}`);
    statuses.push(result.to);
  }
  return statuses;
}

export async function seedDemoHistory(
  tx: Tx,
  input: {
    now: Date;
    offices: DemoOffice[];
    nationalId: string;
    reviewerId: string;
    channelIds: string[];
    publicUrl: string;
  },
): Promise<void> {
  const random = sequence(20_310_303);
  const start = input.now.getTime() - WEEKS * 7 * DAY;
  let text = 0;
  for (const office of input.offices) {
    for (const path of PATHS) {
      const statuses = walk(path.events);
      const status = statuses.at(-1)!;
      // Office hours in the weeks before now, leaving a week for the 7-day snapshot of most posts.
      const created = new Date(
        start + Math.floor(random() * (WEEKS * 7 - 2)) * DAY + (8 + random() * 8) * HOUR,
      );
      const steps = statuses.map((_, i) => new Date(created.getTime() + i * (1 + random() * 5) * HOUR));
      const body = TEXTS[text++ % TEXTS.length]!;
      const decided =
        path.events.includes('approve') ||
        path.events.includes('reject') ||
        path.events.includes('request_changes');
      const decidedAt = decided ? steps[2]! : null;
      const retracted = status === 'retracted';
      const [post] = await tx
        .insert(posts)
        .values({
          unitId: office.id,
          authorId: office.authorId,
          status,
          version: statuses.length,
          body,
          tags: ['demo'],
          submittedAt: path.events[0] === 'submit' ? steps[1]! : null,
          decidedAt,
          decidedBy: decided ? input.reviewerId : null,
          retractionReason: retracted ? 'Jadwal layanan yang diumumkan keliru (contoh demo)' : null,
          retractedAt: retracted ? steps.at(-1)! : null,
          createdAt: created,
          updatedAt: steps.at(-1)!,
        })
        .returning({ id: posts.id });
      const postId = post!.id;
      if (path.events.length)
        await tx.insert(postEvents).values(
          path.events.map((event, i) => ({
            postId,
            actorId: event === 'submit' || event === 'withdraw' ? office.authorId : input.reviewerId,
            kind: 'transition' as const,
            fromStatus: statuses[i]!,
            toStatus: statuses[i + 1]!,
            createdAt: steps[i + 1]!,
          })),
        );
      if (path.events.includes('submit'))
        await tx.insert(postLevels).values({
          postId,
          unitId: input.nationalId,
          originUnitId: office.id,
          arrival: 'direct',
          arrivedAt: steps[1]!,
          decision: path.events.includes('approve') ? 'approved' : null,
          decidedAt: path.events.includes('approve') ? decidedAt : null,
          decidedBy: path.events.includes('approve') ? input.reviewerId : null,
          closedAt: status === 'submitted' ? null : decidedAt,
        });
      if (!path.published) continue;

      for (const [index, channelId] of input.channelIds.entries()) {
        if (index > 0 && random() < 0.4) continue;
        const publishedAt = new Date(decidedAt!.getTime() + (1 + index * 3 + random() * 4) * HOUR);
        const route = deliveryPath(
          retracted
            ? ['claim', 'published', 'retract', 'claim_retraction', 'retracted']
            : ['claim', 'published'],
        );
        const deliveryId = crypto.randomUUID();
        const [entry] = await tx
          .insert(sandboxPosts)
          .values({ channelId, idempotencyKey: deliveryId, text: body, createdAt: publishedAt })
          .returning({ id: sandboxPosts.id });
        await tx.insert(deliveries).values({
          id: deliveryId,
          postId,
          channelId,
          mode: 'copy',
          status: route.at(-1)!,
          dueAt: publishedAt,
          renderedText: body,
          remoteId: entry!.id,
          remoteUrl: `${input.publicUrl.replace(/\/+$/, '')}/sandbox/${channelId}#${entry!.id}`,
          remoteIds: [entry!.id],
          publishedAt,
          retractionRequestedAt: retracted ? steps.at(-1)! : null,
          retractionReason: retracted ? 'Jadwal layanan yang diumumkan keliru (contoh demo)' : null,
          retractedAt: retracted ? steps.at(-1)! : null,
          version: route.length,
          createdBy: input.reviewerId,
          createdAt: decidedAt!,
          updatedAt: retracted ? steps.at(-1)! : publishedAt,
        });
        await tx.insert(deliveryEvents).values(
          route.slice(1).map((to, i) => ({
            deliveryId,
            fromStatus: route[i]!,
            toStatus: to,
            reason: 'demo history',
            createdAt: i < 2 ? publishedAt : steps.at(-1)!,
          })),
        );
        const reach = 200 + Math.floor(random() * 4000);
        const windows = (Object.keys(WINDOW_MS) as MetricWindow[]).filter(
          (window) => publishedAt.getTime() + WINDOW_MS[window] <= input.now.getTime(),
        );
        if (windows.length)
          await tx.insert(metricsSnapshots).values(
            windows.map((window, i) => {
              const grown = (i + 1) * (i + 1);
              return {
                deliveryId,
                window,
                takenAt: new Date(publishedAt.getTime() + WINDOW_MS[window]),
                impressions: reach * grown,
                likes: Math.floor((reach * grown) / 25),
                reposts: Math.floor((reach * grown) / 180),
                replies: Math.floor((reach * grown) / 400),
                raw: { demo: true },
              };
            }),
          );
      }
    }
  }
}
