import { conflict } from './errors';
import { lineage } from './org';
import type { LevelDecision } from './vocabulary';

/**
 * Review levels: every unit with reviewers on the way from an office up to the national unit. A
 * level decides for its own channels (approve or pass) once, and may forward the post to the level
 * directly above it once; request-changes and reject are post-wide and not a level's business here.
 */

export type LevelAction = 'approve' | 'pass' | 'forward';

/** What a level already did with a post; null when the post never reached it. */
export interface LevelState {
  decision: LevelDecision | null;
  forwardedAt: Date | null;
}

/** The unit one level up from `unitPath` (its parent), or null for the national unit. */
export function levelAbove(unitPath: string): string | null {
  const ids = lineage(unitPath);
  return ids.length >= 2 ? ids[ids.length - 2]! : null;
}

/** Refuses (409) what the level may no longer do: decide twice, forward twice, forward from the top. */
export function checkLevelAction(state: LevelState | null, action: LevelAction, levelUnitPath: string): void {
  if (action === 'forward') {
    if (levelAbove(levelUnitPath) === null)
      throw conflict('no_level_above', 'The national level has no level above it to forward to');
    if (state?.forwardedAt)
      throw conflict('already_forwarded', 'Your level has already forwarded this post to the level above');
    return;
  }
  if (state?.decision)
    throw conflict(
      'level_decided',
      state.decision === 'approved'
        ? 'Your level has already approved this post; add channels to it instead'
        : 'Your level has already passed on this post',
      { decision: state.decision },
    );
}
