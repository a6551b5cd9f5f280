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
