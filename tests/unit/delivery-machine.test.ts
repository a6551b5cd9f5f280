import { describe, expect, it } from 'vitest';
import {
  allowedDeliveryEvents,
  DELIVERY_EVENTS,
  type DeliveryEvent,
  HUMAN_DELIVERY_EVENTS,
  transitionDelivery,
} from '../../src/domain/delivery-machine';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../../src/domain/vocabulary';

// The expected table, written out from DESIGN.md (plus: a human may cancel failed / needs_attention,
// and a blackout ending with `hold` hands a scheduled delivery to a person).
const EVENTS: DeliveryEvent[] = [
  'claim',
  'published',
  'retry_later',
  'rate_limited',
  'auth_failed',
  'failed',
  'outcome_unknown',
  'lease_expired',
  'reconciled_found',
  'reconciled_missing',
  'reconcile_impossible',
  'cancel',
  'retry',
  'confirm',
  'reschedule',
  'replan',
  'hold',
  'retract',
  'claim_retraction',
  'retract_later',
  'retracted',
  'retraction_failed',
  'retry_retraction',
  'confirm_retracted',
];
const ALLOWED: Record<string, DeliveryStatus> = {
  'scheduled claim': 'publishing',
  'scheduled cancel': 'cancelled',
  'scheduled reschedule': 'scheduled',
  'scheduled replan': 'scheduled',
  'publishing published': 'published',
  'publishing retry_later': 'scheduled',
  'publishing rate_limited': 'scheduled',
  'publishing auth_failed': 'scheduled',
  'publishing failed': 'failed',
  'publishing outcome_unknown': 'unknown',
  'publishing lease_expired': 'unknown',
  'unknown reconciled_found': 'published',
  'unknown reconciled_missing': 'scheduled',
  'unknown reconcile_impossible': 'needs_attention',
  'unknown confirm': 'published',
  'failed cancel': 'cancelled',
  'failed retry': 'scheduled',
  'failed confirm': 'published',
  'needs_attention cancel': 'cancelled',
  'needs_attention retry': 'scheduled',
  'needs_attention confirm': 'published',
  'scheduled hold': 'needs_attention',
  'published retract': 'retracting',
  'retracting claim_retraction': 'retracting',
  'retracting retract_later': 'retracting',
  'retracting retracted': 'retracted',
  'retracting retraction_failed': 'retraction_needs_attention',
  'retraction_needs_attention retry_retraction': 'retracting',
  'retraction_needs_attention confirm_retracted': 'retracted',
};

const pairs = DELIVERY_STATUSES.flatMap((from) => EVENTS.map((event) => ({ from, event })));

describe('delivery state machine', () => {
  it('knows exactly the twenty-four events of the design', () => {
    expect([...DELIVERY_EVENTS].sort()).toEqual([...EVENTS].sort());
  });

  it('is tested on all 240 (state, event) pairs', () => {
    expect(pairs).toHaveLength(240);
  });

  it.each(pairs)('$from + $event', ({ from, event }) => {
    const expected = ALLOWED[`${from} ${event}`];
    const result = transitionDelivery(from, event);
    if (expected) {
      expect(result).toEqual({ ok: true, to: expected });
    } else {
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.code).toBe('invalid_transition');
      expect(result.message).toMatch(/^This delivery is .+, so it cannot .+\.$/);
    }
  });

  it('leaves published only by a retraction, and never leaves cancelled or retracted', () => {
    expect(allowedDeliveryEvents('published')).toEqual(['retract']);
    expect(allowedDeliveryEvents('cancelled')).toEqual([]);
    expect(allowedDeliveryEvents('retracted')).toEqual([]);
  });

  it('never publishes a retraction again: a publish retry is refused while the post is being removed', () => {
    for (const from of ['retracting', 'retraction_needs_attention', 'retracted'] as const) {
      expect(transitionDelivery(from, 'retry').ok).toBe(false);
      expect(transitionDelivery(from, 'claim').ok).toBe(false);
      expect(transitionDelivery(from, 'confirm').ok).toBe(false);
    }
  });

  it('refuses a second publication of a published delivery with a clear message', () => {
    expect(transitionDelivery('published', 'retry')).toEqual({
      ok: false,
      code: 'invalid_transition',
      message: 'This delivery is already published, so it cannot be retried.',
    });
  });

  it('offers people only their own actions', () => {
    const human = (status: DeliveryStatus) =>
      allowedDeliveryEvents(status).filter((event) => HUMAN_DELIVERY_EVENTS.includes(event));
    expect(human('scheduled')).toEqual(['cancel', 'reschedule']);
    expect(human('publishing')).toEqual([]);
    expect(human('unknown')).toEqual(['confirm']);
    expect(human('failed')).toEqual(['cancel', 'retry', 'confirm']);
    expect(human('needs_attention')).toEqual(['cancel', 'retry', 'confirm']);
    expect(human('published')).toEqual(['retract']);
    expect(human('retracting')).toEqual([]);
    expect(human('retraction_needs_attention')).toEqual(['retry_retraction', 'confirm_retracted']);
  });
});
