import type { PostStatus, Role } from './vocabulary';

/**
 * Who may do what. Every route asks `decide` and nothing else decides. A resource the actor may
 * not even see answers `not_found` (the API says 404, so ids of other units leak nothing); one
 * the actor sees but may not change answers `forbidden` (403).
 *
 * Units form a tree addressed by materialized paths (`/root/child/…/`): `a` contains `b` when
 * `b.startsWith(a)`. Roles are ordered contributor < reviewer < admin; a higher role may do
 * everything a lower one may.
 */

export interface Actor {
  userId: string;
  role: Role;
  unitId: string;
  unitPath: string;
}

export type Resource =
  /** A unit; for `unit.create` the parent the new (or moved) unit goes under; for `user.list` the listed subtree. */
  | { type: 'unit'; unitPath: string }
  /** A user as it is, or as it would be after a create or update (`userId` absent before creation). */
  | { type: 'user'; userId?: string; unitPath: string; role: Role }
  /** `submitted`: the post was submitted at least once (a draft withdrawn unsubmitted never was). */
  | { type: 'post'; unitPath: string; authorId: string; status: PostStatus; submitted: boolean }
  | { type: 'channel'; unitPath: string }
  | { type: 'media'; unitPath: string }
  /** An office's own account read for ingest. */
  | { type: 'source'; unitPath: string }
  | { type: 'delivery'; channelUnitPath: string; postUnitPath: string }
  | { type: 'token'; ownerId: string }
  | { type: 'notification'; userId: string }
  /** The subtree whose audit trail is read. */
  | { type: 'audit'; unitPath: string }
  | { type: 'report'; unitPath: string }
  /** A blackout of a unit's subtree (for `blackout.manage` on creation: the unit it would cover). */
  | { type: 'blackout'; unitPath: string }
  /** The organisation's list of public holidays and collective leave days. */
  | { type: 'holidays' }
  | { type: 'queues' };

export type Action =
  | 'unit.read'
  | 'unit.create'
  | 'unit.update'
  | 'user.list'
  | 'user.read'
  /** Put a user with this role into this unit: a new user, or an existing one moved or given another role. */
  | 'user.create'
  /** Change an existing user's role, unit or access (checked on the user as they are). */
  | 'user.update'
  /** Name and locale: the user themselves or an admin over them. */
  | 'user.profile'
  /**
   * Set someone else's password: an admin over them of a higher rank, either by role or by a unit
   * above theirs. Admins of the same unit never manage each other's credentials (one could sign in
   * as the other); a national admin's password is reset with `npm run admin:reset-password`.
   */
  | 'user.credentials'
  | 'post.read'
  | 'post.create'
  | 'post.update'
  | 'post.submit'
  | 'post.withdraw'
  | 'post.comment'
  | 'post.review'
  /** Withdraw a published post from the platforms (the deliveries on channels the actor controls). */
  | 'post.retract'
  | 'channel.read'
  | 'channel.manage'
  | 'channel.target'
  | 'media.read'
  | 'media.create'
  | 'media.update'
  | 'source.read'
  /** Add, change, poll or remove a source: its posts are the unit's own, so only the unit's people may. */
  | 'source.manage'
  /** Pause, resume or remove a source: its unit's people, and the admins above it. */
  | 'source.control'
  | 'delivery.read'
  | 'delivery.manage'
  | 'token.manage'
  | 'notification.read'
  | 'audit.read'
  | 'report.read'
  | 'blackout.read'
  | 'blackout.manage'
  | 'holiday.read'
  /** Add or remove days off: they count for every unit's waiting times, so the national admins keep the list. */
  | 'holiday.manage'
  | 'queues.admin';

export type Decision = 'allow' | 'forbidden' | 'not_found';

const RANK: Record<Role, number> = { contributor: 0, reviewer: 1, admin: 2 };

export const atLeast = (actor: Pick<Actor, 'role'>, role: Role) => RANK[actor.role] >= RANK[role];

/** `outer` contains `inner` (a unit contains itself). */
export const contains = (outer: string, inner: string) => inner.startsWith(outer);

/** The units whose content an actor sees: contributors their own unit, everyone else their subtree. */
export function seesUnit(actor: Actor, unitPath: string): boolean {
  return atLeast(actor, 'reviewer') ? contains(actor.unitPath, unitPath) : actor.unitPath === unitPath;
}

/** The units an actor sees as units: those whose content they see, and the ones above them (names appear on every page). */
export const seesUnitItself = (actor: Actor, unitPath: string) =>
  seesUnit(actor, unitPath) || contains(unitPath, actor.unitPath);

/** Admins manage their own unit and everything below it. */
const manages = (actor: Actor, unitPath: string) =>
  atLeast(actor, 'admin') && contains(actor.unitPath, unitPath);

const allowIf = (ok: boolean): Decision => (ok ? 'allow' : 'forbidden');
const hide = (visible: boolean, then: () => Decision): Decision => (visible ? then() : 'not_found');
const showIf = (visible: boolean): Decision => (visible ? 'allow' : 'not_found');

export function decide(actor: Actor, action: Action, resource: Resource): Decision {
  switch (resource.type) {
    case 'unit': {
      const visible = seesUnitItself(actor, resource.unitPath);
      switch (action) {
        case 'unit.read':
          return showIf(visible);
        case 'unit.create':
        case 'unit.update':
        case 'user.list':
          return hide(visible, () => allowIf(manages(actor, resource.unitPath)));
      }
      break;
    }
    case 'user': {
      const self = resource.userId === actor.userId;
      switch (action) {
        case 'user.read':
          return showIf(self || manages(actor, resource.unitPath));
        case 'user.profile':
          return showIf(self || manages(actor, resource.unitPath));
        case 'user.create':
          // A user that does not exist yet hides nothing; its unit does.
          return hide(seesUnitItself(actor, resource.unitPath), () =>
            allowIf(manages(actor, resource.unitPath) && RANK[resource.role] <= RANK[actor.role]),
          );
        case 'user.update':
          // An admin changes role, unit and access of others in the subtree, never beyond their own role.
          return hide(self || manages(actor, resource.unitPath), () =>
            allowIf(!self && RANK[resource.role] <= RANK[actor.role]),
          );
        case 'user.credentials':
          return hide(self || manages(actor, resource.unitPath), () =>
            allowIf(
              !self &&
                (RANK[resource.role] < RANK[actor.role] ||
                  (RANK[resource.role] === RANK[actor.role] && resource.unitPath !== actor.unitPath)),
            ),
          );
      }
      break;
    }
    case 'post': {
      const ownUnit = actor.unitPath === resource.unitPath;
      // Drafts stay inside the office, withdrawn ones too; reviewers above see a post once it was submitted.
      const visible =
        ownUnit ||
        (atLeast(actor, 'reviewer') && contains(actor.unitPath, resource.unitPath) && resource.submitted);
      switch (action) {
        case 'post.read':
        case 'post.comment':
          return showIf(visible);
        case 'post.create':
          return hide(seesUnitItself(actor, resource.unitPath), () => allowIf(ownUnit));
        case 'post.update':
        case 'post.submit':
        case 'post.withdraw':
          return hide(visible, () => allowIf(ownUnit));
        case 'post.review':
        case 'post.retract':
          return hide(visible, () =>
            allowIf(atLeast(actor, 'reviewer') && contains(actor.unitPath, resource.unitPath)),
          );
      }
      break;
    }
    case 'channel': {
      // Offices see the channels above them (where their posts may be republished) and their own subtree's.
      const visible = seesUnitItself(actor, resource.unitPath);
      switch (action) {
        case 'channel.read':
          return showIf(visible);
        case 'channel.manage':
          return hide(visible, () => allowIf(manages(actor, resource.unitPath)));
        case 'channel.target':
          // Reviewers publish only to the channels of their own unit.
          return hide(visible, () =>
            allowIf(atLeast(actor, 'reviewer') && actor.unitPath === resource.unitPath),
          );
      }
      break;
    }
    case 'media': {
      const visible = seesUnit(actor, resource.unitPath);
      switch (action) {
        case 'media.read':
          return showIf(visible);
        case 'media.create':
        case 'media.update':
          return hide(visible, () => allowIf(actor.unitPath === resource.unitPath));
      }
      break;
    }
    case 'source': {
      const visible = seesUnit(actor, resource.unitPath);
      if (action === 'source.read') return showIf(visible);
      if (action === 'source.manage')
        return hide(visible, () => allowIf(actor.unitPath === resource.unitPath));
      if (action === 'source.control')
        return hide(visible, () =>
          allowIf(actor.unitPath === resource.unitPath || manages(actor, resource.unitPath)),
        );
      break;
    }
    case 'delivery': {
      const controlsChannel =
        atLeast(actor, 'reviewer') && contains(actor.unitPath, resource.channelUnitPath);
      const visible = controlsChannel || seesUnit(actor, resource.postUnitPath);
      if (action === 'delivery.read') return showIf(visible);
      if (action === 'delivery.manage') return hide(visible, () => allowIf(controlsChannel));
      break;
    }
    case 'token':
      if (action === 'token.manage') return showIf(resource.ownerId === actor.userId);
      break;
    case 'notification':
      // In-app notifications are personal: nobody else sees them, not even an admin.
      if (action === 'notification.read') return showIf(resource.userId === actor.userId);
      break;
    case 'audit':
      if (action === 'audit.read')
        return hide(seesUnitItself(actor, resource.unitPath), () =>
          allowIf(manages(actor, resource.unitPath)),
        );
      break;
    case 'report':
      if (action === 'report.read')
        // Contributors read their own unit's report (its subtree is not theirs), reviewers and admins their subtree's.
        return hide(seesUnitItself(actor, resource.unitPath), () =>
          allowIf(seesUnit(actor, resource.unitPath)),
        );
      break;
    case 'blackout':
      // Everyone sees the blackouts over their unit (the banner); admins set them for their subtree.
      if (action === 'blackout.read') return showIf(seesUnitItself(actor, resource.unitPath));
      if (action === 'blackout.manage')
        return hide(seesUnitItself(actor, resource.unitPath), () =>
          allowIf(manages(actor, resource.unitPath)),
        );
      break;
    case 'holidays':
      // Everyone who works with waiting times sees the days off; the national admins keep the list.
      if (action === 'holiday.read') return 'allow';
      if (action === 'holiday.manage')
        return allowIf(atLeast(actor, 'admin') && actor.unitPath.split('/').length === 3);
      break;
    case 'queues':
      // The queue dashboard shows every unit's work: admins of the root unit only.
      if (action === 'queues.admin')
        return allowIf(atLeast(actor, 'admin') && actor.unitPath.split('/').length === 3);
      break;
  }
  return 'forbidden';
}
