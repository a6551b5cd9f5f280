import type { TransitionResult } from './post-machine';
import type { ChannelStatus } from './vocabulary';

/**
 * The life of a channel, as one pure function. Services call `transitionChannel` inside the
 * transaction that updates the row and record the step in the audit trail. Archiving is an event,
 * not a status: it sets `archived_at` and keeps the status the channel had.
 */

export const CHANNEL_EVENTS = [
  /** The platform accepted the credentials (verify, connect). */
  'verified',
  /** The platform refused the credentials (verify, publish, refresh). */
  'credentials_refused',
  'pause',
  /** An administrator lifts a pause; the channel is then verified again. */
  'resume',
  /** The channel is removed from use (`archived_at`); its history stays. */
  'archive',
] as const;
export type ChannelEvent = (typeof CHANNEL_EVENTS)[number];

const TRANSITIONS: Readonly<Record<ChannelStatus, Partial<Record<ChannelEvent, ChannelStatus>>>> = {
  active: { verified: 'active', credentials_refused: 'needs_reauth', pause: 'paused', archive: 'active' },
  needs_reauth: {
    verified: 'active',
    credentials_refused: 'needs_reauth',
    pause: 'paused',
    archive: 'needs_reauth',
  },
  // A paused channel stays paused whatever a check finds; only a person resumes it.
  paused: {
    verified: 'paused',
    credentials_refused: 'paused',
    pause: 'paused',
    resume: 'active',
    archive: 'paused',
  },
};

const EVENT_PHRASE: Record<ChannelEvent, string> = {
  verified: 'verified',
  credentials_refused: 'refused',
  pause: 'paused',
  resume: 'resumed',
  archive: 'archived',
};

export function transitionChannel(from: ChannelStatus, event: ChannelEvent): TransitionResult<ChannelStatus> {
  const to = TRANSITIONS[from][event];
  if (to !== undefined) return { ok: true, to };
  return {
    ok: false,
    code: 'invalid_transition',
    message: `This channel is ${from.replace('_', ' ')}, so it cannot be ${EVENT_PHRASE[event]}.`,
  };
}
