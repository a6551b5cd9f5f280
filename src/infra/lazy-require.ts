import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A CommonJS package loaded on its first use instead of at start, for code that cannot await
 * (`import()` serves the rest). Each of these costs tens of milliseconds and megabytes at start
 * that an idle process, or one that never posts to X or reads a feed, does not need.
 */
export function lazyRequire<T>(name: string): () => T {
  let loaded: T | undefined;
  const load = () => {
    loaded ??= require(name) as T;
    return loaded;
  };
  loaders.push(load);
  return load;
}

const loaders: (() => unknown)[] = [];

/**
 * Loads every lazily required package now. A worker does this before it takes any job: a synchronous
 * load in the middle of publishing would hold up its heartbeat, and a worker whose heartbeat stops
 * looks gone to the others, who then take its claims over. One package per turn of the event loop,
 * so that the API of an all-in-one process keeps answering meanwhile.
 */
export async function preloadLazyModules(): Promise<void> {
  for (const load of loaders) {
    load();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
