import type { Platform } from '../domain/vocabulary';
import type { PlatformAdapter } from './types';

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
