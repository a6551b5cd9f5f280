import path from 'node:path';

/** The official platform specifications the fakes validate against (provenance in specs/README.md). */
export const SPECS_DIR = path.join(import.meta.dirname, 'specs');

export const specPath = (...parts: string[]) => path.join(SPECS_DIR, ...parts);
