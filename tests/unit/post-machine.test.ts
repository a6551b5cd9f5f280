import { describe, expect, it } from 'vitest';
import {
  allowedPostEvents,
  POST_EVENTS,
  type PostEvent,
  transitionPost,
} from '../../src/domain/post-machine';
import { POST_STATUSES, type PostStatus } from '../../src/domain/vocabulary';

// The expected table, written out from DESIGN.md: every pair not listed here must be refused.
const EVENTS: PostEvent[] = [
  'submit',
  'withdraw',
  'request_changes',
  'reject',
  'approve',
  'pass',
  'forward',
  'edit',
  'retract',
  'add_targets',
];
const ALLOWED: Record<string, PostStatus> = {
  'draft submit': 'submitted',
  'draft withdraw': 'withdrawn',
  'draft edit': 'draft',
  'submitted request_changes': 'changes_requested',
  'submitted approve': 'approved',
  'submitted reject': 'rejected',
  'submitted withdraw': 'withdrawn',
  'submitted pass': 'submitted',
  'submitted forward': 'submitted',
  // Once any level approved, the other levels still approve, pass or forward for their own channels.
  'approved approve': 'approved',
  'approved pass': 'approved',
  'approved forward': 'approved',
  'submitted edit': 'submitted',
  'changes_requested submit': 'submitted',
  'changes_requested withdraw': 'withdrawn',
  'changes_requested edit': 'changes_requested',
  'approved retract': 'retracted',
  // More channels only for an approved post, which stays approved.
  'approved add_targets': 'approved',
};

const pairs = POST_STATUSES.flatMap((from) => EVENTS.map((event) => ({ from, event })));

describe('post state machine', () => {
  it('knows exactly the ten events of the design', () => {
    expect([...POST_EVENTS].sort()).toEqual([...EVENTS].sort());
  });

  it('is tested on all 70 (state, event) pairs', () => {
    expect(pairs).toHaveLength(70);
  });

  it.each(pairs)('$from + $event', ({ from, event }) => {
    const expected = ALLOWED[`${from} ${event}`];
    const result = transitionPost(from, event);
    if (expected) {
      expect(result).toEqual({ ok: true, to: expected });
    } else {
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.code).toBe('invalid_transition');
      expect(result.message).toMatch(/^This post is .+, so it cannot be .+\.$/);
    }
  });

  it('explains a refused decision on a draft in words an office worker understands', () => {
    const result = transitionPost('draft', 'approve');
    expect(result).toEqual({
      ok: false,
      code: 'invalid_transition',
      message: 'This post is still a draft, so it cannot be approved. Submit it for review first.',
    });
  });

  it('says an approved post can no longer be edited, and what to do instead', () => {
    const result = transitionPost('approved', 'edit');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain('Cancel its scheduled deliveries instead');
  });

  it('refuses sending an approved post back, and says to cancel its deliveries', () => {
    const result = transitionPost('approved', 'request_changes');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain('cancel those instead');
  });

  it('refuses more channels for a post under review, and says to approve it first', () => {
    expect(transitionPost('submitted', 'add_targets')).toEqual({
      ok: false,
      code: 'invalid_transition',
      message: 'This post is waiting for review, so it cannot be given more channels. Approve it first.',
    });
  });

  it('lists the buttons for each state', () => {
    expect(allowedPostEvents('draft')).toEqual(['submit', 'withdraw', 'edit']);
    expect(allowedPostEvents('submitted')).toEqual([
      'withdraw',
      'request_changes',
      'reject',
      'approve',
      'pass',
      'forward',
      'edit',
    ]);
    expect(allowedPostEvents('changes_requested')).toEqual(['submit', 'withdraw', 'edit']);
    expect(allowedPostEvents('approved')).toEqual(['approve', 'pass', 'forward', 'retract', 'add_targets']);
    expect(allowedPostEvents('retracted')).toEqual([]);
    expect(allowedPostEvents('rejected')).toEqual([]);
    expect(allowedPostEvents('withdrawn')).toEqual([]);
  });
});
