import { describe, expect, it } from 'vitest';
import { CHANNEL_EVENTS, type ChannelEvent, transitionChannel } from '../../src/domain/channel-machine';
import { CHANNEL_STATUSES, type ChannelStatus } from '../../src/domain/vocabulary';

// The expected table: every pair not listed here must be refused.
const ALLOWED: Record<string, ChannelStatus> = {
  'active verified': 'active',
  'active credentials_refused': 'needs_reauth',
  'active pause': 'paused',
  'needs_reauth verified': 'active',
  'needs_reauth credentials_refused': 'needs_reauth',
  'needs_reauth pause': 'paused',
  'paused verified': 'paused',
  'paused credentials_refused': 'paused',
  'paused pause': 'paused',
  'paused resume': 'active',
  // Archiving keeps the status; it sets archived_at.
  'active archive': 'active',
  'needs_reauth archive': 'needs_reauth',
  'paused archive': 'paused',
};

const pairs = CHANNEL_STATUSES.flatMap((from) =>
  CHANNEL_EVENTS.map((event) => ({ from, event: event as ChannelEvent })),
);

describe('channel state machine', () => {
  it.each(pairs)('$from + $event', ({ from, event }) => {
    const expected = ALLOWED[`${from} ${event}`];
    const result = transitionChannel(from, event);
    if (expected) expect(result).toEqual({ ok: true, to: expected });
    else {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.message).toMatch(/^This channel is /);
    }
  });

  it('never lets a check of the credentials lift a pause', () => {
    expect(transitionChannel('paused', 'verified')).toEqual({ ok: true, to: 'paused' });
  });
});
