import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type SQL, sql } from 'drizzle-orm';
import { type DbOrTx, queryRows } from '../src/db/client';

/**
 * What the benchmarks share to measure and report: percentiles of timed runs, the server-side
 * execution time and plan of a query (EXPLAIN ANALYZE), and their section of docs/benchmarks.md.
 */

export const root = path.resolve(fileURLToPath(new URL('..', import.meta.url)));

/** The nearest-rank percentile `p` (0–100) of the values. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export const median = (values: number[]) => percentile(values, 50);

export interface Timing {
  p50: number;
  p99: number;
  mean: number;
}

export function timing(samples: number[]): Timing {
  return {
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
  };
}

/** Runs `run` `warmup` times unmeasured, then `runs` times measured (wall clock, ms). */
export async function measure(
  run: () => Promise<void>,
  options: { warmup: number; runs: number },
): Promise<Timing> {
  return (await measureInTurn({ run }, options)).run;
}

/**
 * Runs each of `runs` `warmup` times unmeasured, then `runs` times measured (wall clock, ms), taking
 * turns, one of each per round (the first of a round changing from round to round), so that what
 * the machine does meanwhile (another process, a garbage collection, a compilation) weighs alike on
 * every figure compared.
 */
export async function measureInTurn<K extends string>(
  runs: Record<K, () => Promise<void>>,
  { warmup, runs: rounds }: { warmup: number; runs: number },
): Promise<Record<K, Timing>> {
  const entries = Object.entries(runs) as [K, () => Promise<void>][];
  for (const [, run] of entries) for (let i = 0; i < warmup; i++) await run();
  const samples = new Map<K, number[]>(entries.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round++)
    for (let i = 0; i < entries.length; i++) {
      const [name, run] = entries[(round + i) % entries.length]!;
      const started = performance.now();
      await run();
      samples.get(name)!.push(performance.now() - started);
    }
  return Object.fromEntries(entries.map(([name]) => [name, timing(samples.get(name)!)])) as Record<K, Timing>;
}

/** The query's plan as EXPLAIN ANALYZE gives it in text, and the execution time it reports. */
export async function explainAnalyze(db: DbOrTx, query: SQL): Promise<{ plan: string; ms: number }> {
  const plan = (await queryRows<{ 'QUERY PLAN': string }>(db, sql`explain (analyze) ${query}`))
    .map((row) => row['QUERY PLAN'])
    .join('\n');
  const ms = /Execution Time: ([\d.]+) ms/.exec(plan);
  if (!ms) throw new Error(`no execution time in the plan:\n${plan}`);
  return { plan, ms: Number(ms[1]) };
}

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

/** The query's plan tree as EXPLAIN (ANALYZE, FORMAT JSON) gives it, and its execution time. */
export async function explainTree(db: DbOrTx, query: SQL): Promise<{ plan: PlanNode; ms: number }> {
  const [row] = await queryRows<{ 'QUERY PLAN': unknown }>(db, sql`explain (analyze, format json) ${query}`);
  const raw = row!['QUERY PLAN'];
  const [plan] = (typeof raw === 'string' ? JSON.parse(raw) : raw) as {
    Plan: PlanNode;
    'Execution Time': number;
  }[];
  return { plan: plan!.Plan, ms: plan!['Execution Time'] };
}

/** The sequential scans of a plan, each with the rows it read. */
export function seqScansOf(node: PlanNode): string[] {
  const own =
    node['Node Type'] === 'Seq Scan'
      ? [
          `${node['Relation Name']} (${((node['Actual Rows'] ?? 0) * (node['Actual Loops'] ?? 1)).toLocaleString('en-US')} rows)`,
        ]
      : [];
  return [...own, ...(node.Plans ?? []).flatMap(seqScansOf)];
}

/** Replaces (or appends) this benchmark's section of docs/benchmarks.md. */
export function writeSection(marker: string, section: string): void {
  const file = path.join(root, 'docs', 'benchmarks.md');
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = '# Benchmarks\n\nMeasured on the development machine; each section says how to reproduce it.\n';
  }
  const block = `<!-- bench:${marker} -->\n${section.trim()}\n<!-- /bench:${marker} -->`;
  const pattern = new RegExp(`<!-- bench:${marker} -->[\\s\\S]*?<!-- /bench:${marker} -->`);
  writeFileSync(
    file,
    pattern.test(current) ? current.replace(pattern, block) : `${current.trimEnd()}\n\n${block}\n`,
  );
}
