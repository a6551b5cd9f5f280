import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Gaung's own directory, whether it runs from its sources (tsx, the tests) or from the bundle that
 * `npm start` builds into dist/: files that ship beside the code (migrations, web assets) are found
 * from here, never from the location of the module that asks.
 */
export const projectRoot = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));

function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

/** True when this code runs from the bundle in dist/ rather than from its TypeScript sources. */
export const runsFromBundle = !fileURLToPath(import.meta.url).endsWith('.ts');
