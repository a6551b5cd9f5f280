import type { PostStatus } from './vocabulary';

/**
 * The life of a post, as one pure function. Services call `transitionPost` inside the transaction
 * that updates the row, so a refused transition changes nothing.
 */

export const POST_EVENTS = [
  'submit',
  'withdraw',
  'request_changes',
  'reject',
  'approve',
  'pass',
  'forward',
  'edit',
  'retract',
  /** More channels for an approved post; the status stays. */
  'add_targets',
] as const;
export type PostEvent = (typeof POST_EVENTS)[number];

export type TransitionResult<S> = { ok: true; to: S } | { ok: false; code: string; message: string };

const TRANSITIONS: Readonly<Record<PostStatus, Partial<Record<PostEvent, PostStatus>>>> = {
  draft: { submit: 'submitted', withdraw: 'withdrawn', edit: 'draft' },
  submitted: {
    request_changes: 'changes_requested',
    approve: 'approved',
    pass: 'submitted',
    forward: 'submitted',
    reject: 'rejected',
    withdraw: 'withdrawn',
    edit: 'submitted',
  },
  changes_requested: { submit: 'submitted', withdraw: 'withdrawn', edit: 'changes_requested' },
  // Approved once any level approved; the other levels still decide for their own channels.
  // Retracted once every delivery is retracted or cancelled (services/retraction decides when).
  approved: {
    approve: 'approved',
    pass: 'approved',
    forward: 'approved',
    retract: 'retracted',
    add_targets: 'approved',
  },
  rejected: {},
  withdrawn: {},
  retracted: {},
};

const STATUS_PHRASE: Record<PostStatus, string> = {
  draft: 'still a draft',
  submitted: 'waiting for review',
  changes_requested: 'waiting for changes from its office',
  approved: 'already approved',
  rejected: 'already rejected',
  withdrawn: 'withdrawn',
  retracted: 'retracted',
};

const EVENT_PHRASE: Record<PostEvent, string> = {
  submit: 'submitted for review',
  withdraw: 'withdrawn',
  request_changes: 'sent back for changes',
  reject: 'rejected',
  approve: 'approved',
  pass: 'passed on',
  forward: 'forwarded',
  edit: 'edited',
  retract: 'retracted',
  add_targets: 'given more channels',
};

/** What the person can do instead, where there is something useful to say. */
function hint(from: PostStatus, event: PostEvent): string {
  if (from === 'draft' && (event === 'approve' || event === 'reject' || event === 'request_changes')) {
    return ' Submit it for review first.';
  }
  if (event === 'add_targets' && (from === 'submitted' || from === 'draft' || from === 'changes_requested')) {
    return ' Approve it first.';
  }
  if (from === 'changes_requested' && (event === 'approve' || event === 'reject')) {
    return ' The office has to resubmit it first.';
  }
  if (from === 'approved' && (event === 'edit' || event === 'withdraw')) {
    return ' Cancel its scheduled deliveries instead.';
  }
  if (from === 'approved' && (event === 'request_changes' || event === 'reject')) {
    return ' A level has approved it and its deliveries exist; cancel those instead.';
  }
  return '';
}

export function transitionPost(from: PostStatus, event: PostEvent): TransitionResult<PostStatus> {
  const to = TRANSITIONS[from][event];
  if (to !== undefined) return { ok: true, to };
  return {
    ok: false,
    code: 'invalid_transition',
    message: `This post is ${STATUS_PHRASE[from]}, so it cannot be ${EVENT_PHRASE[event]}.${hint(from, event)}`,
  };
}

/** The events a post in this state accepts, in a stable order (the UI shows one button per event). */
export function allowedPostEvents(status: PostStatus): PostEvent[] {
  return POST_EVENTS.filter((event) => TRANSITIONS[status][event] !== undefined);
}
