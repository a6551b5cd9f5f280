import type { TransitionResult } from './post-machine';
import type { SourceStatus } from './vocabulary';

/**
 * The life of a source, as one pure function. A source has two sides: its standing with the platform
 * (`active`, or `needs_reauth` once its credentials were refused) and whether a person paused it
 * (`paused_at`); a pause keeps the standing, and new credentials keep the pause. Services call
 * `transitionSource` inside the transaction that updates the row and record the step in the audit trail.
 */

export interface SourceState {
  status: SourceStatus;
  paused: boolean;
}

export const SOURCE_EVENTS = [
  /** The platform refused the source's credentials (a read, a refresh). */
  'credentials_refused',
  /** New credentials were given and the platform accepted them. */
  'reconnected',
  'pause',
  /** A person lifts the pause; the source is read again at once. */
  'resume',
] as const;
export type SourceEvent = (typeof SOURCE_EVENTS)[number];

const EVENT_PHRASE: Record<SourceEvent, string> = {
  credentials_refused: 'refused',
  reconnected: 'reconnected',
  pause: 'paused',
  resume: 'resumed',
};

export function transitionSource(from: SourceState, event: SourceEvent): TransitionResult<SourceState> {
  switch (event) {
    case 'credentials_refused':
      return { ok: true, to: { ...from, status: 'needs_reauth' } };
    case 'reconnected':
      return { ok: true, to: { ...from, status: 'active' } };
    case 'pause':
      return { ok: true, to: { ...from, paused: true } };
    case 'resume':
      if (from.paused) return { ok: true, to: { ...from, paused: false } };
  }
  return {
    ok: false,
    code: 'invalid_transition',
    message: `This source is ${from.paused ? 'paused' : 'not paused'}, so it cannot be ${EVENT_PHRASE[event]}.`,
  };
}
