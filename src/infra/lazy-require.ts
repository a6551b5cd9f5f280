import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A CommonJS package loaded on its first use instead of at start, for code that cannot await
 * (`import()` serves the rest). Each of these costs tens of milliseconds and megabytes at start
 * that an idle process, or one that never posts to X or reads a feed, does not need.
 */
export function lazyRequire<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= require(name) as T;
    return loaded;
  };
}
