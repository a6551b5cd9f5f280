import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config/env';

describe('configuration', () => {
  it('runs on the embedded defaults with nothing set', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.dataDir).toMatch(/\/data$/);
    expect(config.GAUNG_X_API_URL).toBe('https://api.x.com');
    expect(config.GAUNG_TELEGRAM_API_URL).toBe('https://api.telegram.org');
    expect(config.publicUrl).toBe('http://localhost:3000');
  });

  it('names every malformed variable', () => {
    expect(() => loadConfig({ DATABASE_URL: 'nonsense', PORT: 'abc', REDIS_URL: 'http://x' })).toThrow(
      ConfigError,
    );
    try {
      loadConfig({ DATABASE_URL: 'nonsense', PORT: 'abc', REDIS_URL: 'http://x' });
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('DATABASE_URL');
      expect(message).toContain('PORT');
      expect(message).toContain('REDIS_URL');
    }
  });

  it('refuses to start on a renamed variable, naming the new one', () => {
    expect(() => loadConfig({ GAUNG_FEED_POLL_SECONDS: '600' })).toThrow(
      /GAUNG_FEED_POLL_SECONDS is now called GAUNG_SOURCE_POLL_SECONDS/,
    );
    expect(loadConfig({ GAUNG_SOURCE_POLL_SECONDS: '600' }).GAUNG_SOURCE_POLL_SECONDS).toBe(600);
  });

  it('reads Sentinels and Cluster nodes, with a hash-tagged prefix by default in a Cluster', () => {
    const sentinel = loadConfig({
      REDIS_SENTINELS: '10.0.0.1:26379, redis-b:26380',
      REDIS_SENTINEL_NAME: 'gaung',
    });
    expect(sentinel.REDIS_SENTINELS).toEqual([
      { host: '10.0.0.1', port: 26379 },
      { host: 'redis-b', port: 26380 },
    ]);
    expect(sentinel.GAUNG_REDIS_PREFIX).toBe('gaung');
    const cluster = loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.2:6379' });
    expect(cluster.GAUNG_REDIS_PREFIX).toBe('{gaung}');
    expect(loadConfig({ GAUNG_REDIS_PREFIX: '{office}-a' }).GAUNG_REDIS_PREFIX).toBe('{office}-a');
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.2:6379', GAUNG_REDIS_PREFIX: 'gaung' })).toThrow(
      /GAUNG_REDIS_PREFIX: must hold a hash tag/,
    );
    expect(() => loadConfig({ REDIS_SENTINELS: '10.0.0.1' })).toThrow(/REDIS_SENTINELS/);
    expect(() => loadConfig({ GAUNG_REDIS_PREFIX: '{a}{b}' })).toThrow(/GAUNG_REDIS_PREFIX/);
    expect(() => loadConfig({ REDIS_URL: 'redis://x:6379', REDIS_CLUSTER_NODES: 'y:6379' })).toThrow(
      /set one of them/,
    );
  });

  it('refuses a secret key that is not 32 bytes', () => {
    expect(() => loadConfig({ GAUNG_SECRET_KEY: Buffer.alloc(16).toString('base64') })).toThrow(
      /GAUNG_SECRET_KEY/,
    );
  });

  it('treats empty values as unset and trims trailing slashes of base URLs', () => {
    const config = loadConfig({ DATABASE_URL: '', GAUNG_GRAPH_API_URL: 'http://127.0.0.1:9999/v23.0/' });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.GAUNG_GRAPH_API_URL).toBe('http://127.0.0.1:9999/v23.0');
  });
});
