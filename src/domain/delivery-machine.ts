import type { TransitionResult } from './post-machine';
import type { DeliveryStatus } from './vocabulary';

/**
 * The life of a delivery (one post on one channel), as one pure function. The engine and the
 * operations routes call `transitionDelivery` inside the transaction that updates the row.
 * Beyond DESIGN.md's diagram, a human may also cancel a `failed` or `needs_attention` delivery, and
 * a blackout that ends with `hold` hands what fell due inside to a person (`scheduled → needs_attention`).
 * A retraction never goes back to `scheduled`: a publish retry would put the post back.
 */

export const DELIVERY_EVENTS = [
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
] as const;
export type DeliveryEvent = (typeof DELIVERY_EVENTS)[number];

/** Events a person triggers (through the API); the rest come from the publishing engine. */
export const HUMAN_DELIVERY_EVENTS: readonly DeliveryEvent[] = [
  'cancel',
  'retry',
  'confirm',
  'reschedule',
  'retract',
  'retry_retraction',
  'confirm_retracted',
];

const TRANSITIONS: Readonly<Record<DeliveryStatus, Partial<Record<DeliveryEvent, DeliveryStatus>>>> = {
  scheduled: {
    claim: 'publishing',
    cancel: 'cancelled',
    reschedule: 'scheduled',
    // A "next free slot" delivery beyond the queue horizon given another slot by the fair share.
    replan: 'scheduled',
    hold: 'needs_attention',
  },
  publishing: {
    published: 'published',
    // Transient error, rate limit, or rejected credentials (the channel is paused elsewhere): try later.
    retry_later: 'scheduled',
    rate_limited: 'scheduled',
    auth_failed: 'scheduled',
    failed: 'failed',
    outcome_unknown: 'unknown',
    lease_expired: 'unknown',
  },
  unknown: {
    reconciled_found: 'published',
    reconciled_missing: 'scheduled',
    reconcile_impossible: 'needs_attention',
    confirm: 'published',
  },
  failed: { retry: 'scheduled', confirm: 'published', cancel: 'cancelled' },
  needs_attention: { retry: 'scheduled', confirm: 'published', cancel: 'cancelled' },
  published: { retract: 'retracting' },
  cancelled: {},
  retracting: {
    // A retraction attempt keeps the status; the claim (a lease) and each outcome are recorded.
    claim_retraction: 'retracting',
    retract_later: 'retracting',
    retracted: 'retracted',
    retraction_failed: 'retraction_needs_attention',
  },
  retracted: {},
  retraction_needs_attention: { retry_retraction: 'retracting', confirm_retracted: 'retracted' },
};

const STATUS_PHRASE: Record<DeliveryStatus, string> = {
  scheduled: 'scheduled',
  publishing: 'being published right now',
  published: 'already published',
  failed: 'marked as failed',
  unknown: 'being checked with the platform',
  needs_attention: 'waiting for someone to check it',
  cancelled: 'cancelled',
  retracting: 'being retracted',
  retracted: 'already retracted',
  retraction_needs_attention: 'waiting for someone to remove it from the platform',
};

const EVENT_PHRASE: Record<DeliveryEvent, string> = {
  claim: 'start publishing',
  published: 'be recorded as published',
  retry_later: 'be retried later',
  rate_limited: 'wait for a rate limit',
  auth_failed: 'wait for the account to be reconnected',
  failed: 'be marked as failed',
  outcome_unknown: 'be marked as unsure',
  lease_expired: 'be marked as unsure',
  reconciled_found: 'be recorded as found on the platform',
  reconciled_missing: 'be rescheduled after a check',
  reconcile_impossible: 'be handed to a person',
  cancel: 'be cancelled',
  retry: 'be retried',
  confirm: 'be confirmed as published',
  reschedule: 'be moved to another time',
  replan: 'be given another slot',
  hold: 'be held for a person',
  retract: 'be retracted',
  claim_retraction: 'start a retraction attempt',
  retract_later: 'try the retraction again later',
  retracted: 'be recorded as retracted',
  retraction_failed: 'be handed to a person for removal',
  retry_retraction: 'retry its retraction',
  confirm_retracted: 'be confirmed as removed',
};

export function transitionDelivery(
  from: DeliveryStatus,
  event: DeliveryEvent,
): TransitionResult<DeliveryStatus> {
  const to = TRANSITIONS[from][event];
  if (to !== undefined) return { ok: true, to };
  return {
    ok: false,
    code: 'invalid_transition',
    message: `This delivery is ${STATUS_PHRASE[from]}, so it cannot ${EVENT_PHRASE[event]}.`,
  };
}

/** The events a delivery in this state accepts, in a stable order. */
export function allowedDeliveryEvents(status: DeliveryStatus): DeliveryEvent[] {
  return DELIVERY_EVENTS.filter((event) => TRANSITIONS[status][event] !== undefined);
}
