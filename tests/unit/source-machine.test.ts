import { describe, expect, it } from 'vitest';
import { SOURCE_EVENTS, type SourceState, transitionSource } from '../../src/domain/source-machine';
import { SOURCE_STATUSES } from '../../src/domain/vocabulary';

const states: SourceState[] = SOURCE_STATUSES.flatMap((status) => [
  { status, paused: false },
  { status, paused: true },
]);

describe('source state machine', () => {
  it.each(states.flatMap((from) => SOURCE_EVENTS.map((event) => ({ from, event }))))(
    '$from.status (paused: $from.paused) + $event',
    ({ from, event }) => {
      const result = transitionSource(from, event);
      if (event === 'resume' && !from.paused) {
        expect(result).toMatchObject({ ok: false, code: 'invalid_transition' });
        if (!result.ok) expect(result.message).toBe('This source is not paused, so it cannot be resumed.');
        return;
      }
      const expected: SourceState = {
        credentials_refused: { status: 'needs_reauth' as const, paused: from.paused },
        reconnected: { status: 'active' as const, paused: from.paused },
        pause: { status: from.status, paused: true },
        resume: { status: from.status, paused: false },
      }[event];
      expect(result).toEqual({ ok: true, to: expected });
    },
  );

  it('keeps a pause whatever the platform says of the credentials, and the standing across a pause', () => {
    expect(transitionSource({ status: 'active', paused: true }, 'credentials_refused')).toEqual({
      ok: true,
      to: { status: 'needs_reauth', paused: true },
    });
    expect(transitionSource({ status: 'needs_reauth', paused: true }, 'resume')).toEqual({
      ok: true,
      to: { status: 'needs_reauth', paused: false },
    });
  });
});
