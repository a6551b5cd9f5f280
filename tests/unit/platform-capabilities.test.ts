import { describe, expect, it } from 'vitest';
import { PLATFORM_LIMITS } from '../../config/platform-limits';
import { PLATFORMS } from '../../src/domain/vocabulary';
import { builtInAdapters } from '../../src/platforms/index';

const adapters = builtInAdapters(
  { insert: async () => ({ id: 'x', created: true }), find: async () => null, remove: async () => {} },
  'http://127.0.0.1:3000',
);

describe('the built-in adapters', () => {
  it('cover every platform once', () => {
    expect(adapters.map((a) => a.platform).sort()).toEqual([...PLATFORMS].sort());
  });

  it.each(adapters.map((a) => [a.platform, a] as const))(
    '%s: the review rules allow exactly the modes the adapter publishes',
    (platform, adapter) => {
      const limits = PLATFORM_LIMITS[platform];
      expect(adapter.capabilities.repost, 'repost').toBe(limits.repost);
      expect(adapter.capabilities.quote, 'quote').toBe(limits.quote);
      expect(typeof adapter.repost === 'function', 'repost()').toBe(adapter.capabilities.repost);
      expect(typeof adapter.quote === 'function', 'quote()').toBe(adapter.capabilities.quote);
      expect(typeof adapter.fetchMetrics === 'function', 'fetchMetrics()').toBe(adapter.capabilities.metrics);
    },
  );
});
