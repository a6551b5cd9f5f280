import { describe, it, type TestFunction } from 'vitest';
import { toolAvailable } from '../../src/infra/media-tools';

/**
 * Tests and benchmarks that make or read videos need ffmpeg and ffprobe on PATH (what Gaung itself
 * runs by default). Where they are missing the tests are skipped with one message, as the browser
 * tests are without chromium; with CI=true they are required and fail with that message.
 */

const CI = process.env.CI === 'true' || process.env.CI === '1';

export const FFMPEG_MISSING =
  'ffmpeg and ffprobe are not on PATH; install them with `apt-get install -y ffmpeg`';

export const ffmpegInstalled = (await Promise.all([toolAvailable('ffmpeg'), toolAvailable('ffprobe')])).every(
  Boolean,
);

let warned = false;
function skipReason(): string {
  if (!warned)
    console.warn(`skipping the tests that need ffmpeg: ${FFMPEG_MISSING} (CI=true makes them required)`);
  warned = true;
  return 'skipped: needs ffmpeg';
}

function required(): void {
  if (!ffmpegInstalled) throw new Error(`CI=true: ${FFMPEG_MISSING}`);
}

/** `it`, or — without ffmpeg outside CI — a skipped test saying why. */
export function itWithFfmpeg(name: string, body: TestFunction, timeout?: number): void {
  if (ffmpegInstalled) it(name, body, timeout);
  else if (CI)
    it(
      name,
      (context) => {
        required();
        return body(context);
      },
      timeout,
    );
  else it.skip(`${name} — ${skipReason()}`, body, timeout);
}

/** `describe`, or — without ffmpeg outside CI — a skipped block saying why. */
export function describeWithFfmpeg(name: string, body: () => void): void {
  if (ffmpegInstalled) describe(name, body);
  else if (CI)
    describe(name, () => {
      it('has ffmpeg and ffprobe', required);
      body();
    });
  else describe.skip(`${name} — ${skipReason()}`, body);
}
