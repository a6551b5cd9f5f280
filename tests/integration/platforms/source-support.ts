import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import {
  type PlatformAdapter,
  type PlatformContext,
  PlatformError,
  type SourceReadRequest,
} from '../../../src/platforms/types';
import type { FakeServer } from '../../fakes/harness';

/**
 * What the platform source tests (`*-source.test.ts`) share: the fakes started for the file, the
 * read a new source makes (the last day, 50 items), the classification a refused read carries, and
 * the bytes a medium's URL serves.
 */

export const DAY = 24 * 60 * 60_000;

interface StartableFake {
  server: FakeServer;
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
}

/** The fake, started before the file's tests and stopped after them, its faults cleared before each test. */
export function useFake<F extends StartableFake>(fake: F): F {
  beforeAll(async () => {
    await fake.start();
  });
  afterAll(async () => {
    await fake.stop();
  });
  beforeEach(() => fake.server.clearFaults());
  return fake;
}

/** Reads with the adapter's source reader as a new source does: no cursor, the last day, up to 50 items. */
export function sourceRead(adapter: PlatformAdapter) {
  const reader = adapter.source!;
  return (ctx: PlatformContext, request: Partial<SourceReadRequest> = {}) =>
    reader.readSource(ctx, { cursor: null, since: new Date(Date.now() - DAY), limit: 50, ...request });
}

/** The classification of a read that must fail with a PlatformError. */
export const failure = (call: Promise<unknown>) =>
  call.then(
    () => {
      throw new Error('the read succeeded');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(PlatformError);
      return (error as PlatformError).classification;
    },
  );

/** The bytes a medium's URL serves. */
export const bytesAt = async (url: string) => Buffer.from(await (await fetch(url)).arrayBuffer());
