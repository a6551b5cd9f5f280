import type { UnitKind } from './vocabulary';

/** Pure rules of the organisation tree and of the names people give to units and users. */

/** The national default; regions of Indonesia use Asia/Jakarta (WIB), Asia/Makassar (WITA), Asia/Jayapura (WIT). */
export const DEFAULT_TIME_ZONE = 'Asia/Jakarta';

/** An IANA zone that this runtime's Intl knows (so slot times can be computed in it). */
export function isTimeZone(zone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Which kinds of unit each kind may hang under: the national unit is the one root. */
export const PARENT_KINDS: Record<UnitKind, readonly UnitKind[]> = {
  national: [],
  regional: ['national'],
  office: ['regional', 'national'],
};

export const SLUG_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * Slugs a unit may not take: the press room's own paths beside `/press/<slug>` (the pattern already
 * refuses the dotted ones; they are listed so the rule survives a looser pattern).
 */
export const RESERVED_SLUGS: readonly string[] = ['feed.xml', 'feed.json', 'media'];

export const isUsableSlug = (slug: string) => SLUG_PATTERN.test(slug) && !RESERVED_SLUGS.includes(slug);

/**
 * Names of units and people: letters (any script), digits, spaces and the punctuation real names
 * use ("Dr. Siti Nur'aini, S.H.", "Kantor Imigrasi Kelas I TPI Ngurah Rai"). Markup and statement
 * separators are refused outright rather than stored and escaped forever after.
 */
export const NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{M}\p{N} .,'’()&/-]*$/u;

/** Moving a unit under `newParentPath` would make it its own ancestor. */
export const wouldCycle = (unitPath: string, newParentPath: string) => newParentPath.startsWith(unitPath);

/** The ids on the way from the root down to the unit itself, read from its path. */
export const lineage = (unitPath: string) => unitPath.split('/').filter(Boolean);
