// `npm start`: builds dist/ when a source is newer than it, then runs Gaung from the bundle in this
// same process (one Node start instead of two, and signals reach Gaung itself).
import { buildIfStale } from './build.mjs';

await buildIfStale();
await import('../dist/server.js');
