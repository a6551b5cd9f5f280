import { describe, expect, it } from 'vitest';
import { localPath } from '../../src/web/kit';

const PUBLIC_URL = 'https://gaung.example.go.id';

describe('the page to go back to after signing in', () => {
  it('keeps a path on Gaung itself, with its query and fragment', () => {
    expect(localPath('/posts/1?tab=events#top', '/', PUBLIC_URL)).toBe('/posts/1?tab=events#top');
    expect(localPath('/inbox', '/', PUBLIC_URL)).toBe('/inbox');
  });

  it.each([
    ['another site', 'https://evil.example/'],
    ['a protocol-relative address', '//evil.example/'],
    ['a backslash', '/\\evil.example/'],
    ['a tab between the slashes', '/\t/evil.example/'],
    ['a newline between the slashes', '/\n/evil.example/'],
    ['a carriage return', '/\r/evil.example'],
    ['a backslash later on', '/posts\\..\\..\\evil'],
    ['a NUL', '/posts\u0000'],
    ['DEL', '/\u007f/evil.example'],
    ['a scheme', 'javascript:alert(1)'],
    ['nothing', undefined],
  ])('gives the fallback for %s', (_what, value) => {
    expect(localPath(value, '/', PUBLIC_URL)).toBe('/');
  });
});
