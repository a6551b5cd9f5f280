// Compiles Gaung's TypeScript into one ES module per entry under dist/, so a start loads plain
// JavaScript: no transpiler in the process and one file to read instead of hundreds.
// `npm start` runs this first with --if-stale, which builds only when a source is newer than dist/.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const out = path.join(root, 'dist');
const entries = {
  server: 'src/server.ts',
  'feed-parse-worker': 'src/platforms/feed-parse-worker.ts',
};
const inputs = ['src', 'workers', 'config', 'package.json', 'package-lock.json', 'tsconfig.json'];

/** The newest modification time under the inputs; directories count, so a deleted file counts too. */
function newest(target) {
  const stat = statSync(target, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const name of readdirSync(target)) latest = Math.max(latest, newest(path.join(target, name)));
  return latest;
}

function stale() {
  const built = Math.min(
    ...Object.keys(entries).map(
      (name) => statSync(path.join(out, `${name}.js`), { throwIfNoEntry: false })?.mtimeMs ?? 0,
    ),
  );
  return inputs.some((input) => newest(path.join(root, input)) > built);
}

if (process.argv.includes('--if-stale') && !stale()) process.exit(0);

// Imported only when there is something to build: the check above is all most starts need.
const { build } = await import('esbuild');
await build({
  absWorkingDir: root,
  entryPoints: entries,
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Packages stay in node_modules, loaded as they are; only Gaung's own code is compiled.
  packages: 'external',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  // Stack traces name src/ files and lines (--enable-source-maps). The map leaves the sources out:
  // Node reads and keeps the whole map at start, and the sources were two thirds of it (~20 MB RSS).
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
});
