import type { Platform } from '../domain/vocabulary';
import { blueskyAdapter } from './bluesky';
import { facebookAdapter } from './facebook';
import { instagramAdapter } from './instagram';
import { mastodonAdapter } from './mastodon';
import { createSandboxAdapter, type SandboxTimeline } from './sandbox';
import { telegramAdapter } from './telegram';
import { telegramSource } from './telegram-source';
import { threadsAdapter } from './threads';
import { tiktokAdapter } from './tiktok';
import type { PlatformAdapter } from './types';
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
    // The channel read as a source arrives through the source bot's poller (telegram-source.ts).
    { ...telegramAdapter, source: telegramSource },
    mastodonAdapter,
    blueskyAdapter,
    youtubeAdapter,
    tiktokAdapter,
    webhookAdapter,
    createSandboxAdapter(sandboxTimeline, publicUrl),
  ];
}
