/**
 * What V8's baseline WebAssembly compiler alone (`--liftoff-only`, which Gaung sets before PGlite
 * opens) costs and saves against V8's default (baseline first, hot functions re-compiled by the
 * optimising compiler in the background). Each variant runs in a process of its own, alternately:
 * it opens PGlite on an existing data directory (CPU and RSS once a first query answered), then
 * runs indexed page reads (the shape of Gaung's requests) and scan-and-aggregate queries over
 * 100,000 rows (the shape of a report), first cold, then again after a warm-up, and reads the RSS.
 * Writes its section of docs/benchmarks.md.
 *
 *   npm run bench:pglite-wasm       (BENCH_PGLITE_RUNS to change the runs per variant, default 2)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { median, root, writeSection } from './measure';

const RUNS = Number(process.env.BENCH_PGLITE_RUNS ?? 2);

/** One variant: `FLAGS` (possibly empty) set the way Gaung sets them, then the measurements as JSON. */
const PROBE = `
import v8 from 'node:v8';
if (process.env.FLAGS) v8.setFlagsFromString(process.env.FLAGS);
const { PGlite } = await import('@electric-sql/pglite');
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
const rss = () => process.memoryUsage().rss / 1048576;
const c0 = cpu();
const db = new PGlite(process.env.DATA_DIR, { postgresqlconf: ['shared_buffers = 16MB', 'max_connections = 5'] });
await db.waitReady;
await db.query('select 1');
const out = { openCpu: cpu() - c0, openRss: rss() };
if (process.env.SEED) {
  await db.exec(\`create table bench_posts (id serial primary key, unit int, status text, created timestamptz default now(), body text);
    insert into bench_posts (unit, status, body) select g % 160, (array['draft','submitted','approved'])[g % 3 + 1], md5(g::text) || repeat('x', 100) from generate_series(1, 100000) g;
    create index on bench_posts (unit, status, created); analyze bench_posts;\`);
  await db.close();
  process.exit(0);
}
const pages = async (n) => { for (let i = 0; i < n; i++) await db.query('select id, status, body from bench_posts where unit = $1 and status = $2 order by created desc limit 50', [i % 160, 'submitted']); };
const reports = async (n) => { for (let i = 0; i < n; i++) { await db.query('select unit, status, count(*), sum(length(body)), max(md5(body)) from bench_posts group by 1, 2 order by 3 desc'); await db.query('select id from bench_posts order by md5(body) limit 10'); } };
const timed = async (work, n) => { const c = cpu(); await work(n); return cpu() - c; };
out.pagesCold = await timed(pages, 500);
out.reportsCold = await timed(reports, 5);
await pages(1000);
await reports(10);
out.pagesWarm = await timed(pages, 500);
out.reportsWarm = await timed(reports, 5);
out.rssAfter = rss();
console.log(JSON.stringify(out));
await db.close();
`;

interface Probe {
  openCpu: number;
  openRss: number;
  pagesCold: number;
  reportsCold: number;
  pagesWarm: number;
  reportsWarm: number;
  rssAfter: number;
}

function run(file: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd: root, env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`probe exited with ${code}:\n${output}`)),
    );
  });
}

const VARIANTS = [
  { name: "V8's default (baseline, then optimised in the background)", flags: '' },
  { name: 'baseline compiler only (`--liftoff-only`, what Gaung runs)', flags: '--liftoff-only' },
];

async function main(): Promise<void> {
  const load = os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gaung-bench-pglite-'));
  // Next to the project so that the probe resolves @electric-sql/pglite from node_modules.
  const file = path.join(root, 'bench', `.pglite-wasm-${randomBytes(4).toString('hex')}.mjs`);
  writeFileSync(file, PROBE);
  try {
    await run(file, { DATA_DIR: dataDir, SEED: '1' });
    const results = new Map<string, Probe[]>(VARIANTS.map((v) => [v.flags, []]));
    for (let i = 0; i < RUNS; i++)
      for (const variant of VARIANTS) {
        const output = await run(file, { DATA_DIR: dataDir, FLAGS: variant.flags });
        const probe = JSON.parse(output.trim().split('\n').at(-1) as string) as Probe;
        results.get(variant.flags)?.push(probe);
        console.log(variant.flags || '(default)', JSON.stringify(probe));
      }
    const cell = (flags: string, key: keyof Probe, unit: string) =>
      `${median((results.get(flags) ?? []).map((p) => p[key])).toFixed(0)} ${unit}`;
    const loadAtEnd = os
      .loadavg()
      .map((n) => n.toFixed(2))
      .join(' / ');
    const rows = VARIANTS.map(
      (v) =>
        `| ${v.name} | ${cell(v.flags, 'openCpu', 'ms')} | ${cell(v.flags, 'openRss', 'MB')} | ${cell(v.flags, 'pagesCold', 'ms')} | ${cell(v.flags, 'pagesWarm', 'ms')} | ${cell(v.flags, 'reportsCold', 'ms')} | ${cell(v.flags, 'reportsWarm', 'ms')} | ${cell(v.flags, 'rssAfter', 'MB')} |`,
    ).join('\n');
    const section = `## PGlite: baseline WebAssembly compiler only

Command: \`npm run bench:pglite-wasm\` (bench/pglite-wasm.ts). Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, Node ${process.version}. Load average at the start: ${load}; at the end: ${loadAtEnd} (the machine is shared).

PGlite (Gaung's settings) on an existing data directory with 100,000 rows, each variant in a process
of its own, ${RUNS} runs each, alternately; medians. All figures are CPU time (user + system, every
thread of the process, so the optimising compiler's background work counts), which moves far less
than wall-clock time on a loaded machine. Page reads: 500 indexed reads of 50 rows (the shape of
Gaung's requests). Reports: 5 × two scan-and-aggregate queries over the 100,000 rows. Cold: right
after opening; warm: after 1,000 page reads and 10 reports more.

| variant | open: CPU | open: RSS | page reads, cold | page reads, warm | reports, cold | reports, warm | RSS after |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows}
`;
    writeSection('pglite-wasm', section);
    console.log(section);
  } finally {
    await rm(file, { force: true });
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
