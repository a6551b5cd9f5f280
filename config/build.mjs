// Compiles Gaung's TypeScript, with the packages it uses, into ES modules under dist/, so a start
// loads plain JavaScript: no transpiler in the process, and a few files to read instead of the
// hundreds Node would otherwise resolve one by one in node_modules. Code loaded on first use
// (`import()`) goes into chunks of its own, read only when it is needed.
// `npm run build` builds; `npm start` (config/start.mjs) calls buildIfStale(), which builds only when a
// source is newer than dist/.
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const out = path.join(root, 'dist');
const entries = {
  server: 'src/server.ts',
  'feed-parse-worker': 'src/platforms/feed-parse-worker.ts',
  'report-xlsx-worker': 'src/services/report-xlsx-worker.ts',
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

/** Builds dist/ when a source is newer than it: the check is all most starts need. */
export async function buildIfStale() {
  if (stale()) await buildDist();
}

/**
 * A package imported with `import()` is loaded on first use, so bundling it saves nothing at start;
 * and a bundled CommonJS package imported that way would give only its `default` export (named
 * exports cannot be known before it runs), where Node gives them all. So these stay in node_modules;
 * drizzle-orm's PostgreSQL driver excepted: it is ES modules, and must share the bundled drizzle-orm.
 */
const packagesLoadedOnFirstUseStayOut = {
  name: 'packages-loaded-on-first-use-stay-out',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) =>
      args.kind === 'dynamic-import' && !args.path.startsWith('drizzle-orm/')
        ? { path: args.path, external: true }
        : undefined,
    );
  },
};

/**
 * Node reads the source maps of everything it loads (--enable-source-maps), and the packages'
 * mappings are most of them: the maps keep Gaung's own, so stack traces name src/ lines while a
 * package's frames name the bundle.
 */
async function keepOwnMappings(file) {
  const { decode, encode } = await import('@jridgewell/sourcemap-codec');
  const map = JSON.parse(readFileSync(path.join(root, file), 'utf8'));
  const own = map.sources.map((source) => !source.includes('node_modules/'));
  map.mappings = encode(decode(map.mappings).map((line) => line.filter((segment) => own[segment[1]])));
  writeFileSync(path.join(root, file), JSON.stringify(map));
}

export async function buildDist() {
  // Imported only when there is something to build.
  const { build } = await import('esbuild');
  const { metafile } = await build({
    absWorkingDir: root,
    entryPoints: entries,
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    splitting: true,
    chunkNames: '[name]-[hash]',
    // These stay in node_modules, loaded as they are: PGlite reads its WebAssembly and data files from
    // beside its module; BullMQ looks for files beside its own and loads a native addon (msgpackr), and
    // ioredis must be the very copy BullMQ uses (it tells connections apart by class); the queue
    // dashboard and the API docs serve files from their package directories; pino runs its transports
    // from files beside it; sharp and pg-native are native; twitter-api-v2, twitter-text,
    // fast-xml-parser and @atproto/api's facet detection load on first use (src/infra/lazy-require.ts).
    external: [
      '@electric-sql/pglite',
      'bullmq',
      'ioredis',
      'msgpackr',
      'msgpackr-extract',
      '@bull-board/*',
      '@fastify/swagger',
      '@fastify/swagger-ui',
      'pino',
      'sharp',
      'pg-native',
      'twitter-api-v2',
      'twitter-text',
      'fast-xml-parser',
      '@atproto/api',
      'esbuild',
    ],
    plugins: [packagesLoadedOnFirstUseStayOut],
    // Bundled CommonJS packages call require() for Node's own modules and optional ones.
    banner: {
      js: "import { createRequire as __gaungCreateRequire } from 'node:module'; const require = __gaungCreateRequire(import.meta.url);",
    },
    jsx: 'automatic',
    jsxImportSource: 'preact',
    // Stack traces name src/ files and lines (--enable-source-maps). The map leaves the sources out:
    // Node reads and keeps the whole map at start, and the sources were two thirds of it (~20 MB RSS).
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
    metafile: true,
  });
  for (const file of Object.keys(metafile.outputs)) if (file.endsWith('.map')) await keepOwnMappings(file);
  // Chunk names carry a hash of their content, so an earlier build's chunks would only pile up. They
  // go after the build (not before), so that a process started from dist/ meanwhile finds its files.
  const written = new Set(Object.keys(metafile.outputs).map((file) => path.resolve(root, file)));
  for (const name of readdirSync(out)) {
    const file = path.join(out, name);
    if (!written.has(file)) rmSync(file, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  await (process.argv.includes('--if-stale') ? buildIfStale() : buildDist());
