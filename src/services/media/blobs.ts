import { sql } from 'drizzle-orm';
import type { AppContext } from '../../context';
import { type DbOrTx, queryRows } from '../../db/client';
import { media, mediaRenditions } from '../../db/schema';
import type { StagedBlob } from '../../infra/storage';

/**
 * Blobs are shared between rows (content addressing), so whoever creates or removes a reference
 * holds a transaction-scoped advisory lock on the hash: a blob is never deleted while a row that
 * needs it is being written.
 */

/** Serialises writers and the collector on one blob; keys are the hash's first 64 bits. */
export async function lockBlobs(tx: DbOrTx, hashes: (string | null)[]): Promise<void> {
  const unique = [...new Set(hashes.filter((h): h is string => h !== null))].sort();
  if (unique.length === 0) return;
  // One statement; its columns are evaluated left to right, so the locks are taken in hash order.
  const locks = unique.map(
    (hash) =>
      sql`pg_advisory_xact_lock(${BigInt.asIntN(64, BigInt(`0x${hash.slice(0, 16)}`)).toString()}::bigint)`,
  );
  await tx.execute(sql`select ${sql.join(locks, sql`, `)}`);
}

/** Deletes a blob that no row refers to any more; true when it did. Call under `lockBlobs`. */
export async function deleteIfUnused(ctx: AppContext, tx: DbOrTx, hash: string): Promise<boolean> {
  const [use] = await queryRows(
    tx,
    sql`select 1 from ${media} where ${media.sha256} = ${hash} or ${media.thumbnailSha256} = ${hash}
        union all select 1 from ${mediaRenditions} where ${mediaRenditions.sha256} = ${hash}
        limit 1`,
  );
  if (use) return false;
  await ctx.storage.delete(hash);
  return true;
}

/** Commits a staged blob unless the store already has those bytes. Call under `lockBlobs`. */
export async function storeOnce(ctx: AppContext, staged: StagedBlob): Promise<void> {
  if (await ctx.storage.exists(staged.sha256)) await staged.discard();
  else await staged.commit();
}
