import { isPlatform, type Platform, SOURCE_KINDS, type SourceKind } from '../domain/vocabulary';
import { blueskyAdapter } from './bluesky';
import { facebookAdapter } from './facebook';
import { rssSource } from './feeds';
import { instagramAdapter } from './instagram';
import { mastodonAdapter } from './mastodon';
import { createSandboxAdapter, type SandboxTimeline } from './sandbox';
import { telegramAdapter } from './telegram';
import { threadsAdapter } from './threads';
import { tiktokAdapter } from './tiktok';
import type { PlatformAdapter, SourceReader } from './types';
import { webhookAdapter } from './webhook';
import { xAdapter } from './x';
import { youtubeAdapter } from './youtube';

/** The adapters this process can publish with, one per platform. */
export interface PlatformRegistry {
  get(platform: Platform): PlatformAdapter | undefined;
  list(): PlatformAdapter[];
}

export function createPlatformRegistry(adapters: PlatformAdapter[]): PlatformRegistry {
  const byPlatform = new Map(adapters.map((adapter) => [adapter.platform, adapter]));
  return {
    get: (platform) => byPlatform.get(platform),
    list: () => [...byPlatform.values()],
  };
}

/** Every platform Gaung publishes to; the sandbox writes to Gaung's own timeline. */
export function builtInAdapters(sandboxTimeline: SandboxTimeline, publicUrl: string): PlatformAdapter[] {
  return [
    xAdapter,
    facebookAdapter,
    instagramAdapter,
    threadsAdapter,
    telegramAdapter,
    mastodonAdapter,
    blueskyAdapter,
    youtubeAdapter,
    tiktokAdapter,
    webhookAdapter,
    createSandboxAdapter(sandboxTimeline, publicUrl),
  ];
}

/**
 * How a source of this kind is read: a website's feed by the feed reader, an account on a platform
 * by its adapter's `source`. Undefined where no reader is built yet, so a new reader needs only its
 * adapter's `source` and its kind in SOURCE_KINDS.
 */
export function sourceReaderFor(registry: PlatformRegistry, kind: SourceKind): SourceReader | undefined {
  if (kind === 'rss') return rssSource;
  return isPlatform(kind) ? registry.get(kind)?.source : undefined;
}

/** The source kinds this process can read. */
export function readableSourceKinds(registry: PlatformRegistry): SourceKind[] {
  return SOURCE_KINDS.filter((kind) => sourceReaderFor(registry, kind) !== undefined);
}
