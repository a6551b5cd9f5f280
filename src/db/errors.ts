/**
 * The constraint a unique violation (SQLSTATE 23505) hit, or null for any other error. drizzle wraps
 * the driver's error; both PGlite and node-postgres report `code` and `constraint` on it.
 */
export function uniqueViolation(error: unknown): string | null {
  for (let e: unknown = error; e instanceof Error || (typeof e === 'object' && e !== null); ) {
    const { code, constraint, cause } = e as { code?: unknown; constraint?: unknown; cause?: unknown };
    if (code === '23505') return typeof constraint === 'string' ? constraint : '';
    if (cause === e) break;
    e = cause;
  }
  return null;
}
